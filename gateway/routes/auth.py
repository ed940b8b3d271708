"""Sign-up, login, logout, password change and `me`: parsed here, decided by the registry."""

from werkzeug.wrappers import Request, Response

from contracts.accounts import (
    AccountV1,
    LogIn,
    PasswordChange,
    PasswordConfirmation,
    Principal,
    RecoveryCodes,
    SecondFactorCodeGiven,
    SecondFactorEnrolment,
    SessionToken,
    SignUp,
)
from contracts.errors import Unauthenticated
from contracts.individuals import AccountExport
from gateway.auth import clear_session_cookie, principal_of, session_token_of, set_session_cookie
from gateway.errors import json_response
from gateway.forwarding import came_over_https, client_address_of
from gateway.http import Session, api


class AuthRoutes:
    @api(
        "POST",
        "/api/v1/auth/signup",
        summary="Make an account",
        who="anyone",
        session=Session.NONE,
        body=SignUp,
        returns=AccountV1,
        status=201,
        errors=(409, 429),
    )
    def sign_up(self, request: Request, body: SignUp):
        address = client_address_of(request, self.settings.trusted_proxies)
        return 201, self.registry.sign_up(body.model_dump(mode="json"), address)

    @api(
        "POST",
        "/api/v1/auth/login",
        summary=(
            "Sign in: a session token, also set as an HttpOnly cookie. Cell staff also send `code` (401 "
            "`second_factor_required` without it); before their second factor is set up they get a session that "
            "may only enrol (`must_enrol_second_factor`)"
        ),
        who="anyone",
        session=Session.NONE,
        body=LogIn,
        returns=SessionToken,
        errors=(401, 429),
    )
    def log_in(self, request: Request, body: LogIn):
        address = client_address_of(request, self.settings.trusted_proxies)
        session = SessionToken.model_validate(self.registry.log_in(body.model_dump(mode="json"), address))
        response = json_response(200, session.model_dump(mode="json"))
        set_session_cookie(response, session, secure=came_over_https(request, self.settings.trusted_proxies))
        return response

    @api(
        "POST",
        "/api/v1/auth/logout",
        summary="End the session and clear the cookie",
        who="anyone",
        session=Session.OPTIONAL,
        status=204,
    )
    def log_out(self, request: Request):
        token = session_token_of(request)
        if token is not None:
            self.principals.forget(token)
            self.registry.log_out(token)
        response = Response(status=204)
        clear_session_cookie(response, secure=came_over_https(request, self.settings.trusted_proxies))
        return response

    @api(
        "POST",
        "/api/v1/auth/password",
        summary="Change the password; the other sessions end",
        who="signed in",
        session=Session.REQUIRED,
        body=PasswordChange,
        status=204,
    )
    def change_password(self, request: Request, body: PasswordChange):
        self.registry.change_password(session_token_of(request), body.model_dump(mode="json"))
        # The account's other sessions ended: this gateway believes none of them any longer.
        self.principals.forget_sessions_of(session_token_of(request))
        return Response(status=204)

    @api(
        "GET",
        "/api/v1/me",
        summary="Who am I, and which associations do I administer",
        who="signed in",
        session=Session.REQUIRED,
        returns=Principal,
    )
    def me(self, request: Request):
        principal = principal_of(self, request)
        if principal is None:
            raise Unauthenticated("Sign in first: the session is missing, has expired or was ended.")
        return principal

    @api(
        "GET",
        "/api/v1/me/export",
        summary="Everything the registry holds about my account, with my profile if I have one",
        who="signed in",
        session=Session.REQUIRED,
        returns=AccountExport,
    )
    def export_account(self, request: Request):
        return self.registry.export_account(session_token_of(request))

    @api(
        "DELETE",
        "/api/v1/me",
        summary="Delete my account (and my profile, if I have one); asks for the password again",
        who="signed in",
        session=Session.REQUIRED,
        body=PasswordConfirmation,
        status=204,
        errors=(429,),
    )
    def delete_account(self, request: Request, body: PasswordConfirmation):
        self.registry.delete_account(session_token_of(request), body.model_dump(mode="json"))
        self.principals.forget_sessions_of(session_token_of(request))
        response = Response(status=204)
        clear_session_cookie(response, secure=came_over_https(request, self.settings.trusted_proxies))
        return response

    @api(
        "POST",
        "/api/v1/auth/second-factor/enrolment",
        summary="Cell staff: a new authenticator secret and its otpauth URI, shown once; confirm it with a first code",
        who="Cell staff (also with a session that may only enrol)",
        session=Session.REQUIRED,
        returns=SecondFactorEnrolment,
        errors=(409,),
    )
    def start_second_factor_enrolment(self, request: Request):
        return self.registry.start_second_factor_enrolment(session_token_of(request))

    @api(
        "POST",
        "/api/v1/auth/second-factor/confirmation",
        summary="Cell staff: the app's first code turns the second factor on; the recovery codes, shown once",
        who="Cell staff (also with a session that may only enrol)",
        session=Session.REQUIRED,
        body=SecondFactorCodeGiven,
        returns=RecoveryCodes,
        errors=(409, 429),
    )
    def confirm_second_factor(self, request: Request, body: SecondFactorCodeGiven):
        return self.registry.confirm_second_factor(session_token_of(request), body.model_dump(mode="json"))

    @api(
        "POST",
        "/api/v1/auth/second-factor/recovery-codes",
        summary="Cell staff: new recovery codes for the app's current code; the earlier ones stop working",
        who="Cell staff",
        session=Session.REQUIRED,
        body=SecondFactorCodeGiven,
        returns=RecoveryCodes,
        errors=(409, 429),
    )
    def renew_recovery_codes(self, request: Request, body: SecondFactorCodeGiven):
        return self.registry.renew_recovery_codes(session_token_of(request), body.model_dump(mode="json"))
