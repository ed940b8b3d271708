"""RPC between services that never hangs: every call has a timeout and a down service is `Unavailable`.

Importing this module (through servicekit.rpc_client) also lets our error types cross RPC as themselves.
"""

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import MethodProxy, RpcProxy, ServiceProxy

from contracts.errors import Unavailable
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings


class TimedMethodProxy(MethodProxy):
    def __init__(self, *args, timeout_seconds: float, **options):
        self.timeout_seconds = timeout_seconds
        # An unanswered request expires in the queue: a service that comes
        # back later must not act on a call whose caller was told it failed.
        options.setdefault("expiration", timeout_seconds)
        super().__init__(*args, **options)

    def __call__(self, *args, **kwargs):
        try:
            reply = self._call(*args, **kwargs)
        except UnknownService as exc:
            raise Unavailable(f"the {self.service_name} service is not running") from exc
        try:
            with eventlet.Timeout(self.timeout_seconds):
                return reply.result()
        except eventlet.Timeout as exc:
            raise Unavailable(
                f"the {self.service_name} service did not answer within {self.timeout_seconds:g} s"
            ) from exc


class TimedServiceProxy(ServiceProxy):
    def __init__(self, *args, timeout_seconds: float, **options):
        self.timeout_seconds = timeout_seconds
        super().__init__(*args, **options)

    def __getattr__(self, name):
        return TimedMethodProxy(
            self.worker_ctx,
            self.service_name,
            name,
            self.reply_listener,
            timeout_seconds=self.timeout_seconds,
            **self.options,
        )


class TimedRpcProxy(RpcProxy):
    """Like nameko's RpcProxy, with `DIASPORAHUB_RPC_TIMEOUT_SECONDS` on every call."""

    def setup(self):
        self.timeout_seconds = BusSettings().rpc_timeout_seconds

    def get_dependency(self, worker_ctx):
        return TimedServiceProxy(
            worker_ctx,
            self.target_service,
            self.rpc_reply_listener,
            timeout_seconds=self.timeout_seconds,
            **self.options,
        )


def call_service(bus: BusSettings, service: str, method: str, *args, timeout_seconds: float | None = None, **kwargs):
    """One RPC from outside a service (command line, start-up checks)."""
    with RpcClient(bus, timeout_seconds=timeout_seconds) as client:
        return client.call(service, method, *args, **kwargs)
