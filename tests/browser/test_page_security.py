"""Over plain HTTP: every page carries the security headers; a form posted without its CSRF token is refused and
changes nothing; a page that needs a session sends the reader to log in first."""

import re
import uuid

import pytest
import requests

from gateway.pages.rendering import CSRF_COOKIE, PAGE_POLICY

PAGES = ("/", "/help", "/signup", "/login", "/directory", "/directory?q=chennai", "/associations/{id}")
FORMS = (
    "/signup",
    "/login",
    "/logout",
    "/language",
    "/account/password",
    "/account/delete",
    "/associations/new",
    "/associations/{id}/edit",
    "/profile",
    "/help",
    "/associations/{id}/contact",
    "/associations/{id}/dashboard/broadcast",
    "/associations/{id}/dashboard/settings",
    "/associations/{id}/join",
    "/associations/{id}/memberships/{id}",
    "/account/second-factor/enrolment",
    "/account/second-factor/confirmation",
    "/account/second-factor/recovery-codes",
)
SIGNED_IN_PAGES = (
    "/account",
    "/profile",
    "/associations/new",
    "/associations/{id}/edit",
    "/associations/{id}/dashboard",
    "/associations/{id}/memberships",
    "/account/second-factor",
    "/cell",
)


def csrf_token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_security_headers(api, verified_association, path):
    _, association = verified_association
    answer = requests.get(f"{api}{path.format(id=association['id'])}", timeout=10)

    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"] == PAGE_POLICY
    assert "unsafe-inline" not in PAGE_POLICY and "frame-ancestors 'none'" in PAGE_POLICY
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in answer.text and " style=" not in answer.text


@pytest.mark.parametrize("path", FORMS)
def test_a_form_posted_without_its_csrf_token_is_refused(api, verified_association, path):
    secretary, association = verified_association
    browser = requests.Session()
    browser.cookies.set("diasporahub_session", secretary.headers["Authorization"].removeprefix("Bearer "))
    browser.get(f"{api}/", timeout=10)
    url = f"{api}{path.format(id=association['id'])}"

    without = browser.post(url, data={"name": "Changed by another site", "password": "x"}, timeout=10)
    wrong = browser.post(url, data={"csrf_token": "x" * 43, "name": "Changed by another site"}, timeout=10)

    assert without.status_code == 403 and wrong.status_code == 403
    assert "This form has expired" in without.text
    unchanged = secretary.request("GET", f"/api/v1/associations/{association['id']}").json()
    assert unchanged["name"] == association["name"]


def test_the_same_form_with_its_token_is_taken(api):
    browser = requests.Session()
    token = csrf_token_of(browser.get(f"{api}/signup", timeout=10).text)
    assert browser.cookies[CSRF_COOKIE] == token
    email = f"csrf-{uuid.uuid4().hex[:8]}@example.org"
    form = {"csrf_token": token, "email": email, "password": "correct horse battery staple", "display_name": "Mami"}

    answer = browser.post(f"{api}/signup", data=form, allow_redirects=False, timeout=10)

    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    assert "HttpOnly" in answer.headers["Set-Cookie"] and "SameSite=Lax" in answer.headers["Set-Cookie"]


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_a_page_that_needs_a_session_sends_the_reader_to_log_in(api, verified_association, path):
    _, association = verified_association
    answer = requests.get(f"{api}{path.format(id=association['id'])}", allow_redirects=False, timeout=10)

    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/login?next=/")


def test_another_s_association_cannot_be_edited_from_the_pages(api, verified_association, person):
    _, association = verified_association
    stranger = person()
    browser = requests.Session()
    browser.cookies.set("diasporahub_session", stranger.headers["Authorization"].removeprefix("Bearer "))

    browser.get(f"{api}/associations/{association['id']}/edit", timeout=10)
    token = browser.cookies[CSRF_COOKIE]
    posted = browser.post(
        f"{api}/associations/{association['id']}/edit",
        data={
            "csrf_token": token,
            "name": "Taken over",
            "country": "IN",
            "city": "Chennai",
            "languages": "lus",
            "email": "x@example.org",
        },
        timeout=10,
    )

    assert posted.status_code == 403
    assert stranger.request("GET", f"/api/v1/associations/{association['id']}").json()["name"] == association["name"]


def test_only_its_admins_see_an_association_s_dashboard_and_only_the_cell_its_own(api, verified_association, person):
    _, association = verified_association
    browser = requests.Session()
    browser.cookies.set("diasporahub_session", person().headers["Authorization"].removeprefix("Bearer "))

    dashboard = browser.get(f"{api}/associations/{association['id']}/dashboard", timeout=10)
    cell = browser.get(f"{api}/cell", timeout=10)

    assert dashboard.status_code == 403 and cell.status_code == 403
    assert "Only the Mizo Diaspora Cell" in cell.text
