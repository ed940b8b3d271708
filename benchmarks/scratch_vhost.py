"""A RabbitMQ vhost that lives for one benchmark run, so the run touches nothing else."""

import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import requests


class ScratchVhost:
    """`with ScratchVhost(amqp_uri, management_url, "search_bench") as vhost:` … `vhost.amqp_uri` …"""

    def __init__(self, amqp_uri: str, management_url: str, label: str):
        self.broker_uri = urlsplit(amqp_uri)
        self.auth = (self.broker_uri.username or "guest", self.broker_uri.password or "guest")
        self.name = f"{label}_{uuid.uuid4().hex[:8]}"
        self.api_url = management_url.rstrip("/") + "/api"

    @property
    def amqp_uri(self) -> str:
        return urlunsplit(self.broker_uri._replace(path="/" + quote(self.name, safe="")))

    def __enter__(self) -> "ScratchVhost":
        vhost = quote(self.name, safe="")
        requests.put(f"{self.api_url}/vhosts/{vhost}", auth=self.auth, timeout=10).raise_for_status()
        requests.put(
            f"{self.api_url}/permissions/{vhost}/{quote(self.auth[0], safe='')}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
            auth=self.auth,
            timeout=10,
        ).raise_for_status()
        return self

    def __exit__(self, *exc_info) -> None:
        requests.delete(f"{self.api_url}/vhosts/{quote(self.name, safe='')}", auth=self.auth, timeout=10)
