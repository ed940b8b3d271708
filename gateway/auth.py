"""Who is asking: the session token of a request (bearer header or cookie), and the registry's answer for it.

Route modules use `session_token_of(request)` to pass the token on to the registry, or
`principal_of(self, request)` when the gateway itself needs to know who is asking.
"""

from werkzeug.wrappers import Request, Response

from contracts.accounts import Principal, SessionToken
from contracts.errors import Unauthenticated

SESSION_COOKIE = "diasporahub_session"
MAX_TOKEN_LENGTH = 200


def session_token_of(request: Request) -> str | None:
    """`Authorization: Bearer <token>` if sent, else the session cookie; None without either."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    token = credentials.strip() if scheme.lower() == "bearer" else request.cookies.get(SESSION_COOKIE, "")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def principal_of(service, request: Request) -> Principal | None:
    """The registry's principal for the request's token; None when there is no token or it is no longer valid."""
    token = session_token_of(request)
    if token is None:
        return None
    try:
        return Principal.model_validate(service.registry.whoami(token))
    except Unauthenticated:
        return None


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
