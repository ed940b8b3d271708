"""The gateway's HTTP server: nameko's, with a read deadline, a bounded number of connections and of requests.

Slow clients cannot stall the API: every read must progress within `read_timeout_seconds`, a body must arrive
within `body_deadline_seconds` (gateway.http.read_body), and a connection beyond `max_connections` is answered
503 at once. Past capacity, a request beyond `max_requests_in_flight` is answered 503 with `Retry-After` at once
instead of waiting for a worker and then for the RPC timeout. Production still puts a buffering reverse proxy in
front (deploy/README.md).

Several gateway processes may serve one address (`diasporahub run` with `GATEWAY_PROCESSES`): each binds it with
SO_REUSEPORT and the kernel spreads new connections over the processes listening, so one that stops (or is killed)
leaves the others answering. Each process has its own limits above.
"""

import json
import logging
import socket
from functools import partial

import eventlet
from nameko.web.server import WebServer

from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)
REFUSAL_WRITE_SECONDS = 1.0
BUSY_BODY = json.dumps(
    {"error": "unavailable", "message": "The server is too busy to take this request; try again in a moment."}
).encode()
BUSY_HEADERS = [
    ("Content-Type", "application/json"),
    ("Retry-After", "1"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Length", str(len(BUSY_BODY))),
]
BUSY_RESPONSE = b"HTTP/1.1 503 Service Unavailable\r\n%sConnection: close\r\n\r\n%s" % (
    b"".join(f"{name}: {value}\r\n".encode() for name, value in BUSY_HEADERS),
    BUSY_BODY,
)
# Answered whatever the load: an orchestrator must not restart a gateway because it is busy.
UNLIMITED_PATHS = frozenset({"/healthz"})


class GuardedWebServer(WebServer):
    def setup(self) -> None:
        super().setup()
        self.limits = GatewaySettings()
        self.open_connections = 0

    def start(self) -> None:
        """nameko's start, binding the address with SO_REUSEPORT so that the machine's other gateway processes may
        bind it as well (a port of 0, chosen by the system, is never shared)."""
        if self._starting:
            return
        self._starting = True
        address = self.bind_addr
        self._sock = eventlet.listen(address, reuse_port=address.port != 0)
        self._sock.settimeout(None)  # nameko's work-around for celery/kombu#838
        self._serv = self.get_wsgi_server(self._sock, self.get_wsgi_app())
        self._gt = self.container.spawn_managed_thread(self.run)

    def get_wsgi_server(self, sock, wsgi_app, **kwargs):
        self.admission = AdmissionLimit(wsgi_app, self.limits.max_requests_in_flight)
        server = super().get_wsgi_server(sock, self.admission, **kwargs)
        server.socket_timeout = self.limits.read_timeout_seconds
        server.keepalive = self.limits.keepalive_seconds
        return server

    def run(self) -> None:
        while self._is_accepting:
            sock, address = self._sock.accept()
            sock.settimeout(self._serv.socket_timeout)
            # A response is written in parts; without this, Nagle's algorithm holds the last part for the client's
            # delayed ACK (about 40 ms) on every keep-alive request.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.open_connections >= self.limits.max_connections:
                log.warning("refused a connection: %d are open, the limit", self.open_connections)
                self.container.spawn_managed_thread(partial(refuse_busy, sock))
                continue
            self.open_connections += 1
            self.container.spawn_managed_thread(partial(self.serve_connection, sock, address))

    def serve_connection(self, sock, address) -> None:
        try:
            self.process_request(sock, address)
        finally:
            self.open_connections -= 1


def refuse_busy(sock) -> None:
    try:
        with eventlet.Timeout(REFUSAL_WRITE_SECONDS):
            sock.sendall(BUSY_RESPONSE)
    except (OSError, eventlet.Timeout):
        pass
    finally:
        sock.close()


class AdmissionLimit:
    """WSGI middleware: a request that finds `limit` others being served is answered 503 with `Retry-After` at
    once, so that past capacity the requests taken are answered in time and the others are told to come back."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self.refused = 0

    def __call__(self, environ, start_response):
        if self.in_flight >= self.limit and environ.get("PATH_INFO") not in UNLIMITED_PATHS:
            self.refused += 1
            if self.refused % 100 == 1:
                log.warning("past capacity: %d requests being served; %d refused so far", self.in_flight, self.refused)
            start_response("503 Service Unavailable", BUSY_HEADERS)
            return [BUSY_BODY]
        self.in_flight += 1
        try:
            return self.app(environ, start_response)
        finally:
            self.in_flight -= 1
