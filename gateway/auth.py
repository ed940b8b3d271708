"""Who is asking: the session token of a request (bearer header or cookie), and the registry's answer for it.

Route modules use `session_token_of(request)` to pass the token on to the registry, or
`principal_of(self, request)` when the gateway itself needs to know who is asking. The registry's answer is
kept for a few seconds (`GATEWAY_PRINCIPAL_CACHE_SECONDS`, PrincipalCache), so that a client making many calls
does not cost a `whoami` RPC each; SECURITY.md says what that means for a session that ends.
"""

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from werkzeug.wrappers import Request, Response

from contracts.accounts import Principal, SessionToken
from contracts.errors import Unauthenticated
from gateway.settings import GatewaySettings

SESSION_COOKIE = "diasporahub_session"
MAX_TOKEN_LENGTH = 200


def session_token_of(request: Request) -> str | None:
    """`Authorization: Bearer <token>` if sent, else the session cookie; None without either."""
    # Read from the environ: werkzeug's `headers.get` and `cookies.get` raise and catch an error for a missing one,
    # which an anonymous read paid twice.
    scheme, _, credentials = request.environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer":
        token = credentials.strip()
    else:
        token = request.cookies.get(SESSION_COOKIE, "") if "HTTP_COOKIE" in request.environ else ""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


class PrincipalCache:
    """The registry's principal for a session token, believed for `seconds` after the registry gave it; at most
    `max_entries` (the least recently used go first). Keyed by the token's SHA-256, so no token is kept in memory.

    Only principals are kept, never a refusal: an ended or unknown session is asked about every time. A session
    ended through this gateway (logout, account deletion) is forgotten at once; one ended elsewhere (another
    gateway, a password change ending the other sessions, an expiry) may be believed here for up to `seconds`."""

    def __init__(self, seconds: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        key = _cache_key(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        if self.seconds <= 0:
            return
        key = _cache_key(token)
        with self._lock:
            self._entries[key] = (self.clock() + self.seconds, principal)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, token: str) -> None:
        with self._lock:
            self._entries.pop(_cache_key(token), None)

    def forget_account(self, account_id: UUID) -> None:
        """Every session of the account (its password changed: the other sessions ended)."""
        with self._lock:
            for key in [key for key, (_, principal) in self._entries.items() if principal.account_id == account_id]:
                del self._entries[key]

    def forget_sessions_of(self, token: str | None) -> None:
        """The token and every other session of its account (logged out, password changed, account deleted)."""
        if token is None:
            return
        with self._lock:
            entry = self._entries.get(_cache_key(token))
        if entry is not None:
            self.forget_account(entry[1].account_id)
        self.forget(token)


def _cache_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_cache() -> PrincipalCache:
    return PrincipalCache(GatewaySettings().principal_cache_seconds)


def principal_of(service, request: Request) -> Principal | None:
    """The registry's principal for the request's token (as PrincipalCache keeps it); None when there is no token
    or it is no longer valid."""
    token = session_token_of(request)
    if token is None:
        return None
    principal = service.principals.get(token)
    if principal is not None:
        return principal
    try:
        principal = Principal.model_validate(service.registry.whoami(token))
    except Unauthenticated:
        return None
    service.principals.put(token, principal)
    return principal


def set_session_cookie(response: Response, session: SessionToken, *, secure: bool) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no other site's form sends it), Secure over https."""
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        expires=session.expires_at,
        path="/",
        secure=secure,
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="Lax")
