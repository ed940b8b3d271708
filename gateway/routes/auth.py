"""Sign-up, login, logout, password change and `me`: parsed here, decided by the registry."""

from werkzeug.wrappers import Request, Response

from contracts.accounts import LogIn, PasswordChange, SessionToken, SignUp
from contracts.errors import Unauthenticated
from contracts.validation import parse
from gateway.auth import (
    clear_session_cookie,
    client_address_of,
    principal_of,
    require_token,
    session_token_of,
    set_session_cookie,
)
from gateway.errors import json_response
from gateway.http import api, read_json


class AuthRoutes:
    @api("POST", "/api/v1/auth/signup")
    def sign_up(self, request: Request):
        draft = parse(SignUp, read_json(request))
        return 201, self.registry.sign_up(draft.model_dump(mode="json"))

    @api("POST", "/api/v1/auth/login")
    def log_in(self, request: Request):
        credentials = parse(LogIn, read_json(request))
        answer = self.registry.log_in(credentials.model_dump(mode="json"), client_address_of(request))
        session = SessionToken.model_validate(answer)
        response = json_response(200, session.model_dump(mode="json"))
        set_session_cookie(response, request, session)
        return response

    @api("POST", "/api/v1/auth/logout")
    def log_out(self, request: Request):
        token = session_token_of(request)
        if token is not None:
            self.registry.log_out(token)
        response = Response(status=204)
        clear_session_cookie(response, request)
        return response

    @api("POST", "/api/v1/auth/password")
    def change_password(self, request: Request):
        token = require_token(request)
        change = parse(PasswordChange, read_json(request))
        self.registry.change_password(token, change.model_dump(mode="json"))
        return Response(status=204)

    @api("GET", "/api/v1/me")
    def me(self, request: Request):
        principal = principal_of(self, request)
        if principal is None:
            raise Unauthenticated("Sign in first: the session is missing, has expired or was ended.")
        return principal.model_dump(mode="json")
