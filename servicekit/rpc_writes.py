"""`rpc_write`: servicekit's `rpc` for a method that writes, carried out once however often its request comes.

The request's correlation id reaches the worker's units of work (servicekit.database), which record it with the
first write and refuse a delivery that comes again; this entrypoint stores the answer before replying, and answers
a repeated delivery with it (servicekit.answered_requests). Reads stay on `rpc` and pay nothing for this.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

from contracts.errors import Conflict
from servicekit.answered_requests import REQUEST_ID_KEY, REQUEST_RECORD_ATTRIBUTE, AlreadyCarriedOut
from servicekit.rpc import Rpc, parsing_contracts

SECRET_ANSWER_WITHHELD = "This was already done; its answer held secrets that are not kept. Please start again."


class IdempotentRpc(Rpc):
    """`answer_holds_secrets=True` (new session tokens, authenticator keys, recovery codes): the answer is not
    stored, and a repeated delivery is told Conflict instead."""

    idempotent = True

    def __init__(
        self, expected_exceptions: tuple[type[Exception], ...] = (), answer_holds_secrets: bool = False, **kwargs: Any
    ) -> None:
        self.answer_holds_secrets = answer_holds_secrets
        # A repeated delivery is expected: answered as the first, not logged as a failure.
        super().__init__(expected_exceptions=(*expected_exceptions, AlreadyCarriedOut), **kwargs)

    def unpack_message_headers(self, message) -> dict:
        # Set on every delivery, over any header of that name a caller sent.
        return super().unpack_message_headers(message) | {REQUEST_ID_KEY: message.properties.get("correlation_id")}

    def handle_result(self, message, worker_ctx, result, exc_info):
        record = getattr(worker_ctx, REQUEST_RECORD_ATTRIBUTE, None)
        if record is not None:
            if exc_info is not None and isinstance(exc_info[1], AlreadyCarriedOut):
                result, exc_info = record.earlier_answer()
            elif record.recorded and self.answer_holds_secrets:
                withheld = Conflict(SECRET_ANSWER_WITHHELD)
                record.keep_answer(None, (Conflict, withheld, None))
            elif record.recorded:
                record.keep_answer(result, exc_info)
        return super().handle_result(message, worker_ctx, result, exc_info)


def rpc_write(fn: Callable | None = None, /, **options: Any) -> Callable:
    """As servicekit.rpc.rpc (same options), for a method that changes state: a request delivered again (the
    connection dropped before it was acknowledged) changes nothing more and gets the first answer."""
    if fn is None:
        return partial(rpc_write, **options)
    return IdempotentRpc.decorator(**options)(parsing_contracts(fn))
