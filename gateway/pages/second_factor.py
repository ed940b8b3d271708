"""The Cell's second factor on pages: a Cell account that has not set it up is sent here after login (its session
may do nothing else), starts the enrolment (the secret and its otpauth URI, shown once), confirms it with the
app's first code and is shown its recovery codes once; an enrolled account renews its recovery codes with the
app's current code. The registry decides; these pages ask and show, and keep nothing."""

import segno
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from contracts.accounts import RecoveryCodes, SecondFactorCodeGiven, SecondFactorEnrolment
from contracts.errors import DiasporaHubError, Forbidden, SecondFactorEnrolmentRequired, Unauthenticated
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.pages.accounts import signed_in_principal
from gateway.pages.forms import refusal, text_fields
from gateway.pages.rendering import page, render

SECOND_FACTOR_PAGE = "/account/second-factor"


def qr_code(otpauth_uri: str) -> Markup:
    """The otpauth URI as a QR code for the app's camera: an SVG drawn here, with no script and no style."""
    drawn = segno.make(otpauth_uri, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff")
    return Markup(drawn)


def shown_once(response: Response) -> Response:
    """A page with a secret or recovery codes on it is kept by no cache, nor by the browser's history."""
    response.headers["Cache-Control"] = "no-store"
    return response


class SecondFactorPages:
    @page("GET", SECOND_FACTOR_PAGE)
    def second_factor_page(self, request: Request):
        step = "start" if self.must_enrol(request) else "renew"
        return render(request, "second_factor.html", step=step, errors={}, message=None)

    def must_enrol(self, request: Request) -> bool:
        """True for a session that may only enrol; an enrolled Cell account renews its codes; others have none."""
        try:
            principal = signed_in_principal(self, request)
        except SecondFactorEnrolmentRequired:
            return True
        if not principal.is_cell_staff:
            raise Forbidden("Only Cell staff use a second factor.")
        return False

    @page("POST", f"{SECOND_FACTOR_PAGE}/enrolment")
    def start_enrolment_form(self, request: Request, form: MultiDict):
        enrolment = SecondFactorEnrolment.model_validate(
            self.registry.start_second_factor_enrolment(session_token_of(request))
        )
        qr = qr_code(enrolment.otpauth_uri)
        return shown_once(render(request, "second_factor.html", step="confirm", enrolment=enrolment, qr=qr, errors={},
                                 message=None))  # fmt: skip

    @page("POST", f"{SECOND_FACTOR_PAGE}/confirmation")
    def confirm_enrolment_form(self, request: Request, form: MultiDict):
        return self.recovery_codes(request, form, "confirm", self.registry.confirm_second_factor)

    @page("POST", f"{SECOND_FACTOR_PAGE}/recovery-codes")
    def renew_recovery_codes_form(self, request: Request, form: MultiDict):
        return self.recovery_codes(request, form, "renew", self.registry.renew_recovery_codes)

    def recovery_codes(self, request: Request, form: MultiDict, step: str, ask) -> Response:
        """The app's code given to the registry, which answers with new recovery codes (shown once)."""
        try:
            given = parse(SecondFactorCodeGiven, text_fields(form, ("code",)))
            codes = RecoveryCodes.model_validate(ask(session_token_of(request), given.model_dump(mode="json")))
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            return render(request, "second_factor.html", step=step, enrolment=None, **refusal(exc))
        return shown_once(render(request, "second_factor.html", step="codes", codes=codes.recovery_codes))
