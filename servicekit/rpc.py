"""RPC between services that never hangs: every call has a timeout and a down service is `Unavailable`.

Importing this module also lets our error types cross RPC as themselves.
"""

import eventlet
from nameko.exceptions import RpcTimeout, UnknownService, deserialize_to_instance
from nameko.rpc import MethodProxy, RpcProxy, ServiceProxy
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.errors import EXPECTED_ERRORS, Unavailable
from servicekit.settings import BusSettings

for _error in EXPECTED_ERRORS:
    deserialize_to_instance(_error)


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
    timeout_seconds = timeout_seconds or bus.rpc_timeout_seconds
    try:
        with ClusterRpcProxy(bus.nameko_config(), timeout=timeout_seconds) as cluster:
            return getattr(getattr(cluster, service), method)(*args, **kwargs)
    except UnknownService as exc:
        raise Unavailable(f"the {service} service is not running") from exc
    except RpcTimeout as exc:
        raise Unavailable(f"the {service} service did not answer within {timeout_seconds:g} s") from exc
