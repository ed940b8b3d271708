"""The Cell's second factor on pages, wired to a registry kept in memory that checks codes as an authenticator app
makes them (pyotp): a Cell account that must enrol is sent here, sees its key once, confirms with the app's code,
sees its recovery codes once, and later renews them."""

from uuid import uuid4

import pyotp
import pytest
from nameko.testing.services import worker_factory
from werkzeug.datastructures import MultiDict

from contracts.accounts import Principal
from contracts.errors import Conflict, Forbidden, Invalid, SecondFactorEnrolmentRequired
from gateway.auth import principal_cache
from gateway.pages.accounts import AccountPages
from gateway.pages.rendering import error_page
from gateway.pages.second_factor import SecondFactorPages
from gateway.settings import GatewaySettings
from servicekit.rpc import TimedRpcProxy
from servicekit.shared import Shared
from tests.unit.test_pages_help import KnownSessions, browser_request

CELL = Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell", is_cell_staff=True)
PERSON = Principal(account_id=uuid4(), email="mami@example.org", display_name="Mami")
RECOVERY_CODES = [f"code-{number}" for number in range(10)]


class SecondFactorGateway(SecondFactorPages, AccountPages):
    name = "gateway"
    registry = TimedRpcProxy("registry")
    settings = Shared(GatewaySettings)
    principals = Shared(principal_cache)


class Registry:
    """One Cell account, enrolling until a code of its pending secret is confirmed; one person."""

    def __init__(self):
        self.secret: str | None = None
        self.enrolled = False
        self.renewals = 0

    def log_in(self, credentials, client_address):
        token = credentials["email"]
        return {"token": token, "expires_at": "2026-11-29T12:00:00Z", "must_enrol_second_factor": not self.enrolled}

    def whoami(self, token):
        if token == CELL.email and not self.enrolled:
            raise SecondFactorEnrolmentRequired("Set up your second factor first.")
        return {CELL.email: CELL, PERSON.email: PERSON}[token].model_dump(mode="json")

    def start_second_factor_enrolment(self, token):
        if self.enrolled:
            raise Conflict("The second factor is already set up.")
        self.secret = pyotp.random_base32()
        return {
            "secret": self.secret,
            "otpauth_uri": pyotp.TOTP(self.secret).provisioning_uri(name=token, issuer_name="DiasporaHub"),
        }

    def check(self, given):
        if self.secret is None or not pyotp.TOTP(self.secret).verify(given["code"]):
            raise Invalid("code: is not the code your authenticator app shows now (or it has been used already)")
        return {"recovery_codes": RECOVERY_CODES}

    def confirm_second_factor(self, token, given):
        codes = self.check(given)
        self.enrolled = True
        return codes

    def renew_recovery_codes(self, token, given):
        self.renewals += 1
        return self.check(given)


@pytest.fixture
def registry():
    return Registry()


@pytest.fixture
def pages(registry):
    return worker_factory(
        SecondFactorGateway, registry=registry, settings=GatewaySettings(), principals=KnownSessions(PERSON)
    )


def post(path: str, as_who: Principal = CELL):
    return browser_request(path, "POST", as_who)


def test_a_cell_account_that_must_enrol_is_sent_to_the_second_factor_page_at_login_and_from_any_page(pages):
    form = MultiDict({"email": CELL.email, "password": "a long Cell staff password", "next": "/cell"})
    assert pages.log_in_form(browser_request("/login", "POST"), form).headers["Location"] == "/account/second-factor"
    elsewhere = error_page(browser_request("/cell"), SecondFactorEnrolmentRequired("Set up your second factor first."))
    assert elsewhere.status_code == 303 and elsewhere.headers["Location"] == "/account/second-factor"


def test_enrolment_shows_the_key_once_and_the_app_s_code_turns_it_on_and_shows_the_recovery_codes(pages, registry):
    start = pages.second_factor_page(browser_request("/account/second-factor", as_who=CELL)).get_data(as_text=True)
    assert 'action="/account/second-factor/enrolment"' in start and 'name="csrf_token"' in start

    shown = pages.start_enrolment_form(post("/account/second-factor/enrolment"), MultiDict())
    html = shown.get_data(as_text=True)
    assert registry.secret in html and "otpauth://totp/" in html and shown.headers["Cache-Control"] == "no-store"
    assert '<svg width="' in html and "<script" not in html.split('id="qr-code"')[1].split("</div>")[0]

    code = pyotp.TOTP(registry.secret).now()
    confirmed = pages.confirm_enrolment_form(post("/account/second-factor/confirmation"), MultiDict({"code": code}))

    assert registry.enrolled and confirmed.headers["Cache-Control"] == "no-store"
    assert all(recovery in confirmed.get_data(as_text=True) for recovery in RECOVERY_CODES)


def test_a_wrong_code_is_said_next_to_the_field_and_turns_nothing_on(pages, registry):
    pages.start_enrolment_form(post("/account/second-factor/enrolment"), MultiDict())
    wrong = f"{(int(pyotp.TOTP(registry.secret).now()) + 1) % 10**6:06d}"

    refused = pages.confirm_enrolment_form(post("/account/second-factor/confirmation"), MultiDict({"code": wrong}))

    assert refused.status_code == 422 and not registry.enrolled
    assert "is not the code your authenticator app shows now" in refused.get_data(as_text=True)
    assert registry.secret not in refused.get_data(as_text=True)


def test_an_enrolled_cell_account_renews_its_recovery_codes_with_the_app_s_code(pages, registry):
    registry.secret, registry.enrolled = pyotp.random_base32(), True
    page = pages.second_factor_page(browser_request("/account/second-factor", as_who=CELL)).get_data(as_text=True)
    assert 'action="/account/second-factor/recovery-codes"' in page and "enrolment" not in page

    code = pyotp.TOTP(registry.secret).now()
    renewed = pages.renew_recovery_codes_form(post("/account/second-factor/recovery-codes"), MultiDict({"code": code}))

    assert registry.renewals == 1 and RECOVERY_CODES[0] in renewed.get_data(as_text=True)


def test_only_cell_staff_have_a_second_factor_page(pages):
    with pytest.raises(Forbidden):
        pages.second_factor_page(browser_request("/account/second-factor", as_who=PERSON))
