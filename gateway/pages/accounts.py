"""Sign up, log in (with the Cell's second factor when the registry asks for it), log out, and "my account":
password change, "my data" (export, delete). The registry decides; these pages only ask and show."""

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from contracts.accounts import LogIn, PasswordChange, PasswordConfirmation, Principal, SessionToken, SignUp
from contracts.associations import AssociationV1
from contracts.errors import DiasporaHubError, SecondFactorRequired, Unauthenticated
from contracts.validation import parse
from gateway.auth import clear_session_cookie, session_token_of, set_session_cookie
from gateway.errors import json_text
from gateway.forwarding import came_over_https, client_address_of
from gateway.pages.forms import form_refused, refusal, text_fields
from gateway.pages.rendering import page, redirect, render, safe_next

MAX_LISTED_ASSOCIATIONS = 20


def signed_in_principal(service, request: Request) -> Principal:
    """Who is asking; a missing or ended session sends a GET to the login page (rendering.error_page)."""
    return Principal.model_validate(service.registry.whoami(session_token_of(request)))


class AccountPages:
    @page("GET", "/signup")
    def sign_up_page(self, request: Request):
        return render(request, "signup.html", values={}, errors={}, message=None)

    @page("POST", "/signup")
    def sign_up_form(self, request: Request, form: MultiDict):
        values = text_fields(form, ("email", "display_name"))
        try:
            draft = parse(SignUp, values | {"password": form.get("password", "")})
            address = client_address_of(request, self.settings.trusted_proxies)
            self.registry.sign_up(draft.model_dump(mode="json"), address)
        except DiasporaHubError as exc:
            return form_refused(request, "signup.html", exc, values=values)
        return self.signed_in(request, LogIn(email=draft.email, password=draft.password), "/account")

    @page("GET", "/login")
    def log_in_page(self, request: Request):
        values = {"next": safe_next(request.args.get("next"), "/account")}
        return render(request, "login.html", values=values, errors={}, message=None, ask_code=False)

    @page("POST", "/login")
    def log_in_form(self, request: Request, form: MultiDict):
        values = text_fields(form, ("email", "code")) | {"next": safe_next(form.get("next"), "/account")}
        credentials = {key: value for key, value in values.items() if key != "next"}
        try:
            credentials = parse(LogIn, credentials | {"password": form.get("password", "")})
            return self.signed_in(request, credentials, values["next"])
        except SecondFactorRequired as exc:
            return form_refused(request, "login.html", exc, values=values, ask_code=True)
        except DiasporaHubError as exc:
            return form_refused(request, "login.html", exc, values=values, ask_code="code" in values)

    def signed_in(self, request: Request, credentials: LogIn, target: str) -> Response:
        address = client_address_of(request, self.settings.trusted_proxies)
        session = SessionToken.model_validate(self.registry.log_in(credentials.model_dump(mode="json"), address))
        response = redirect(request, "/account/second-factor" if session.must_enrol_second_factor else target)
        set_session_cookie(response, session, secure=came_over_https(request, self.settings.trusted_proxies))
        return response

    @page("POST", "/logout")
    def log_out_form(self, request: Request, form: MultiDict):
        token = session_token_of(request)
        if token is not None:
            self.registry.log_out(token)
            self.principals.forget(token)
        response = redirect(request, "/")
        clear_session_cookie(response, secure=came_over_https(request, self.settings.trusted_proxies))
        return response

    @page("GET", "/account")
    def account_page(self, request: Request):
        return self.account_form(request, done=request.args.get("done"), errors={}, message=None)

    def account_form(self, request: Request, **context) -> Response:
        principal = signed_in_principal(self, request)
        token = session_token_of(request)
        associations = [
            AssociationV1.model_validate(self.registry.get_association(token, str(administered.id)))
            for administered in principal.administers[:MAX_LISTED_ASSOCIATIONS]
        ]
        return render(request, "account.html", principal=principal, associations=associations, **context)

    @page("POST", "/account/password")
    def change_password_form(self, request: Request, form: MultiDict):
        change = {"current_password": form.get("current_password", ""), "new_password": form.get("new_password", "")}
        try:
            self.registry.change_password(session_token_of(request), parse(PasswordChange, change).model_dump())
        except DiasporaHubError as exc:
            return self.account_form(request, done=None, **refusal(exc))
        self.principals.forget_sessions_of(session_token_of(request))
        return redirect(request, "/account?done=password")

    @page("GET", "/account/export")
    def export_page(self, request: Request):
        exported = self.registry.export_account(session_token_of(request))
        response = Response(json_text(exported), mimetype="application/json")
        response.headers["Content-Disposition"] = 'attachment; filename="diasporahub-my-data.json"'
        return response

    @page("POST", "/account/delete")
    def delete_account_form(self, request: Request, form: MultiDict):
        try:
            confirmation = parse(PasswordConfirmation, {"password": form.get("password", "")})
            self.registry.delete_account(session_token_of(request), confirmation.model_dump())
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            return self.account_form(request, done=None, **refusal(exc))
        self.principals.forget_sessions_of(session_token_of(request))
        response = redirect(request, "/account/deleted")
        clear_session_cookie(response, secure=came_over_https(request, self.settings.trusted_proxies))
        return response

    @page("GET", "/account/deleted")
    def account_deleted_page(self, request: Request):
        return render(request, "deleted.html")
