"""RPC between services, kept fast and never hanging.

`rpc` is nameko's entrypoint, replying through one connection per service container
rather than through a pooled connection and a publisher confirm per reply. It speaks contracts:
each argument is parsed into the type its parameter is annotated with (a contract model, a list of
them, an id or a token), and the result is dumped to JSON through the return annotation, so an
entrypoint takes and returns models while the wire carries JSON as before. `TimedRpcProxy`
calls another service through that same connection: every call has a timeout, and a
service that is not running is `Unavailable` at once. Both keep nameko's wire format, so
nameko's own proxies and entrypoints talk to them unchanged.

Importing this module (through servicekit.rpc_client) also lets our error types cross RPC as themselves.
"""

import functools
import inspect
import logging
import sys
import typing
import uuid
from collections.abc import Callable
from functools import partial
from types import NoneType, UnionType
from typing import Any

import eventlet
import kombu.serialization
from nameko import rpc as nameko_rpc
from nameko.constants import AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER, SERIALIZER_CONFIG_KEY
from nameko.exceptions import ContainerBeingKilled, MalformedRequest, UnserializableValueError, deserialize, serialize
from nameko.extensions import DependencyProvider
from nameko.messaging import HeaderEncoder
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from contracts.errors import Forbidden, Unavailable
from contracts.validation import invalid_payload
from servicekit.bus import rpc_queue
from servicekit.queue_consumer import ResilientQueueConsumer
from servicekit.rpc_client import RpcClient
from servicekit.rpc_connection import CONNECTION_ERRORS, RETURNED, RpcConnection
from servicekit.settings import BusSettings, broker_user_of

log = logging.getLogger(__name__)

# Set by Rpc from the request's validated user_id; a header of that name sent by a caller is overwritten.
CALLER_CONTEXT_KEY = "rpc_caller"


def reply_body(message, result: Any, exc_info) -> tuple[bytes, str, str, Any, Any]:
    """nameko's reply to `message`, serialized as the request was: body, content type and encoding, result, exc_info."""
    error = serialize(exc_info[1]) if exc_info is not None else None
    serializer = kombu.serialization.registry.type_to_name[message.properties["content_type"]]
    try:
        content_type, content_encoding, body = kombu.serialization.dumps({"result": result, "error": error}, serializer)
    except Exception:
        # As nameko does: an unserializable result becomes an error the caller can read.
        exc_info = sys.exc_info()
        error = serialize(UnserializableValueError(result))
        result = None
        content_type, content_encoding, body = kombu.serialization.dumps({"result": None, "error": error}, serializer)
    return body, content_type, content_encoding, result, exc_info


class BoundedRpcConsumer(nameko_rpc.RpcConsumer):
    """nameko's RpcConsumer on servicekit.bus's RPC queue: as nameko's, bounded in length and in its requests' age,
    on a queue consumer that survives a broker restart."""

    queue_consumer = ResilientQueueConsumer()

    def setup(self) -> None:
        if self.queue is None:
            self.queue = rpc_queue(self.container.service_name)
            self.queue_consumer.register_provider(self)
            self._registered = True


class Rpc(nameko_rpc.Rpc):
    """nameko's `rpc` entrypoint, replying through the container's RpcConnection.

    Its queue is bounded (BoundedRpcConsumer), so a service cannot also use nameko's own `rpc`: RabbitMQ refuses a
    queue declared again with other arguments, and nameko retries that for ever.

    `callers=("search",)` lets only those services call it, and `trusted_arguments={"principal": ("gateway",)}`
    takes that argument (when not None) only from those: others get Forbidden, and the method does not run. The
    caller is the request's `user_id`, which RabbitMQ checks is the user of the connection that published it
    (servicekit's proxies and RpcClient set it), against each service's broker user (`<prefix><service>`,
    servicekit.settings). The service's own broker user is always accepted: whoever holds it can already read the
    service's requests, so with one account for everything (the embedded default, guest) every call is accepted,
    and with one user per service only the named ones are.
    """

    rpc_connection = RpcConnection()
    rpc_consumer = BoundedRpcConsumer()

    def __init__(
        self,
        callers: tuple[str, ...] | None = None,
        trusted_arguments: dict[str, tuple[str, ...]] | None = None,
        **kwargs: Any,
    ) -> None:
        self.callers = callers
        self.trusted_arguments = trusted_arguments or {}
        super().__init__(**kwargs)

    def setup(self) -> None:
        super().setup()
        bus = BusSettings()
        own_user = broker_user_of(self.container.config[AMQP_URI_CONFIG_KEY])
        self._accepted_users = None if self.callers is None else {own_user, *map(bus.broker_user, self.callers)}
        self._trusted_users = {
            argument: {own_user, *map(bus.broker_user, services)}
            for argument, services in self.trusted_arguments.items()
        }

    def handle_message(self, body, message):
        caller = message.properties.get("user_id")
        self.check_caller(caller, body)
        try:
            args, kwargs = body["args"], body["kwargs"]
        except (KeyError, TypeError):
            raise MalformedRequest("Message missing `args` or `kwargs`") from None
        self.check_signature(args, kwargs)
        # As nameko's, with the validated caller in the worker's context (RpcCaller), over any header claiming one.
        context_data = self.unpack_message_headers(message) | {CALLER_CONTEXT_KEY: caller}
        try:
            self.container.spawn_worker(
                self, args, kwargs, context_data=context_data, handle_result=partial(self.handle_result, message)
            )
        except ContainerBeingKilled:
            self.rpc_consumer.requeue_message(message)

    def check_caller(self, caller: str | None, body: Any) -> None:
        """Forbidden, if `caller` (the validated user_id, None if not sent) may not make this call."""
        name = f"{self.container.service_name}.{self.method_name}"
        if self._accepted_users is not None and caller not in self._accepted_users:
            log.warning("refused %s to broker user %r: only %s may call it", name, caller, ", ".join(self.callers))
            raise Forbidden(f"{name} is only for {', '.join(self.callers)}")
        if not self._trusted_users:
            return
        try:
            method = getattr(self.container.service_cls, self.method_name)
            arguments = inspect.signature(method).bind(None, *body["args"], **body["kwargs"]).arguments
        except (KeyError, TypeError):
            return  # nameko's own checks refuse it as malformed or of the wrong signature
        for argument, users in self._trusted_users.items():
            if arguments.get(argument) is not None and caller not in users:
                log.warning("refused %s with %s from broker user %r", name, argument, caller)
                raise Forbidden(f"{name} takes a {argument} only from {', '.join(self.trusted_arguments[argument])}")

    def handle_result(self, message, worker_ctx, result, exc_info):
        body, content_type, content_encoding, result, exc_info = reply_body(message, result, exc_info)
        try:
            self.rpc_connection.reply(
                body,
                routing_key=message.properties["reply_to"],
                correlation_id=message.properties.get("correlation_id"),
                content_type=content_type,
                content_encoding=content_encoding,
            )
        except CONNECTION_ERRORS as exc:
            # RabbitMQ is away (restarting): the reply is lost, as one that comes after the caller's timeout is.
            # The work is done, so the request is still acknowledged (if its channel lives), never run twice;
            # raising here would kill the container, and with it every other request it was serving.
            log.warning("the reply to %s.%s was lost: %s", self.container.service_name, self.method_name, exc)
        self.rpc_consumer.queue_consumer.ack_message(message)
        return result, exc_info


class RpcCaller(DependencyProvider):
    """`self.caller` in a worker: the broker user that sent this RPC, as RabbitMQ validated it (None if the request
    carried no user_id, or the worker was not started by an RPC)."""

    def get_dependency(self, worker_ctx) -> str | None:
        if not isinstance(worker_ctx.entrypoint, Rpc):
            return None
        return worker_ctx.context_data.get(CALLER_CONTEXT_KEY)


class Conversion:
    """How one entrypoint's arguments are parsed and its result dumped: a TypeAdapter per annotation."""

    def __init__(self, fn: Callable) -> None:
        hints = typing.get_type_hints(fn, include_extras=True)
        self.arguments = {
            name: (TypeAdapter(hint), _names_fields(hint)) for name, hint in hints.items() if name != "return"
        }
        self.result = TypeAdapter(hints["return"]) if "return" in hints else None

    def parse(self, name: str, value: object) -> object:
        """`value` as the parameter's type, or InvalidPayload naming the field (or the parameter) at fault."""
        if name not in self.arguments:
            return value
        adapter, names_fields = self.arguments[name]
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            # A model's problems are its fields' (`country: ...`), as the gateway reports them; others the parameter's.
            raise invalid_payload(exc, name=name, nested=not names_fields) from None

    def dump(self, result: object) -> object:
        """JSON-able values. A result that is not what the annotation says, or that JSON cannot hold, is a bug:
        the caller gets nameko's UnserializableValueError, the log pydantic's reason."""
        if self.result is None:
            return result
        try:
            return self.result.dump_python(result, mode="json", warnings="error")
        except PydanticSerializationError as exc:
            raise UnserializableValueError(result) from exc


def _names_fields(hint: object) -> bool:
    """A model, or an optional one: its validation errors name its fields."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, UnionType) else (hint,)
    options = [option for option in options if option is not NoneType]
    return len(options) == 1 and isinstance(options[0], type) and issubclass(options[0], BaseModel)


@functools.cache
def conversion_of(fn: Callable) -> Conversion:
    """Built at the first call, not at import, and once per entrypoint."""
    return Conversion(fn)


def parsing_contracts(fn: Callable) -> Callable:
    """`fn` taking arguments parsed into their annotated types and returning its result dumped to JSON.

    The wrapper keeps `fn`'s signature, so that nameko's signature check and redaction of sensitive
    arguments (which see the raw arguments, as sent) work as on `fn` itself.
    """
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def parsed(*args: Any, **kwargs: Any) -> Any:
        conversion = conversion_of(fn)
        bound = signature.bind(*args, **kwargs)
        _service, *names = bound.arguments
        for name in names:
            bound.arguments[name] = conversion.parse(name, bound.arguments[name])
        return conversion.dump(fn(*bound.args, **bound.kwargs))

    parsed.__signature__ = signature
    parsed.parses_contracts = True
    return parsed


def rpc(fn: Callable | None = None, /, **options: Any) -> Callable:
    """nameko's `@rpc` (`expected_exceptions=`, `sensitive_arguments=`) on a method that takes and returns contracts;
    `callers=` and `trusted_arguments=` restrict who may call it (Rpc).

    `def register_association(self, token: str | None, draft: AssociationDraft) -> AssociationV1`: callers send
    JSON (a dict for `draft`), the method gets an AssociationDraft (or the caller an Invalid naming the field
    at fault) and the caller gets the AssociationV1 as JSON. Unannotated parameters pass as they come.
    """
    if fn is None:
        return partial(rpc, **options)
    return Rpc.decorator(**options)(parsing_contracts(fn))


class TimedServiceProxy:
    """What a worker sees as `self.registry`: `self.registry.get_association(...)` is one timed call."""

    def __init__(self, provider: "TimedRpcProxy", worker_ctx) -> None:
        self._provider = provider
        self._worker_ctx = worker_ctx

    def __getattr__(self, method_name: str):
        return partial(self._provider.call, self._worker_ctx, method_name)


class TimedRpcProxy(DependencyProvider, HeaderEncoder):
    """Calls `target_service`, each call within `DIASPORAHUB_RPC_TIMEOUT_SECONDS` or `Unavailable`.

    Any number of the container's greenthreads may call at once, over its RpcConnection.
    """

    rpc_connection = RpcConnection()

    def __init__(self, target_service: str) -> None:
        self.target_service = target_service

    def setup(self) -> None:
        self.timeout_seconds = BusSettings().rpc_timeout_seconds
        self.serializer = self.container.config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER)
        self.rpc_connection.receive_replies()

    def get_dependency(self, worker_ctx) -> TimedServiceProxy:
        return TimedServiceProxy(self, worker_ctx)

    def call(self, worker_ctx, method_name: str, *args: Any, **kwargs: Any) -> Any:
        service = self.target_service
        # Serialized here, so an argument that cannot be is the caller's error, not the connection's.
        content_type, content_encoding, body = kombu.serialization.dumps(
            {"args": args, "kwargs": kwargs}, self.serializer
        )
        correlation_id = str(uuid.uuid4())
        try:
            with eventlet.Timeout(self.timeout_seconds) as timeout:
                try:
                    awaited = self.rpc_connection.request(
                        body,
                        content_type=content_type,
                        content_encoding=content_encoding,
                        routing_key=f"{service}.{method_name}",
                        correlation_id=correlation_id,
                        # nameko.call_id_stack and the rest of the context, as nameko's MethodProxy sends them.
                        headers=self.get_message_headers(worker_ctx),
                        # An unanswered request expires in the queue: a service that comes
                        # back later must not act on a call whose caller was told it failed.
                        expiration=self.timeout_seconds,
                    )
                except CONNECTION_ERRORS as exc:
                    raise Unavailable(f"the {service} service cannot be reached: {exc}") from exc
                outcome = awaited.wait()
        except eventlet.Timeout as exc:
            if exc is not timeout:
                raise
            raise Unavailable(f"the {service} service did not answer within {self.timeout_seconds:g} s") from None
        finally:
            self.rpc_connection.forget(correlation_id)
        if outcome is RETURNED:
            raise Unavailable(f"the {service} service is not running")
        if outcome["error"]:
            raise deserialize(outcome["error"])
        return outcome["result"]


def call_service(bus: BusSettings, service: str, method: str, *args, timeout_seconds: float | None = None, **kwargs):
    """One RPC from outside a service (command line, start-up checks)."""
    with RpcClient(bus, timeout_seconds=timeout_seconds) as client:
        return client.call(service, method, *args, **kwargs)
