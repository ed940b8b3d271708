"""Every page, in English and Mizo, at a phone's and a desktop's width: axe-core finds no serious or critical
violation, and a screenshot of each is kept under var/test-artefacts/screenshots/."""

import pytest

from tests.browser.conftest import WIDTHS

ANONYMOUS_PAGES = {
    "home": "/",
    "help": "/help",
    "signup": "/signup",
    "login": "/login",
    "directory": "/directory?q=chennai",
    "directory-near": "/directory?near_city=Chennai&near_country=IN&radius_km=250",
    "directory-refused": "/directory?country=QQ",
    "association": "/associations/{id}",
    "not-found": "/associations/00000000-0000-4000-8000-000000000000",
}
SIGNED_IN_PAGES = {
    "account": "/account",
    "register-association": "/associations/new",
    "edit-association": "/associations/{id}/edit",
    "history": "/associations/{id}/history",
    "profile": "/profile",
    "dashboard": "/associations/{id}/dashboard",
}


def check_and_photograph(pages, name: str, path: str, token: str | None) -> dict[str, list]:
    found = {}
    for language in ("en", "lus"):
        pages.start_over(language=language, token=token)
        for width_name, (width, height) in WIDTHS.items():
            pages.driver.set_window_size(width, height)
            pages.visit(path)
            assert pages.driver.find_element("tag name", "html").get_attribute("lang") == language
            pages.screenshot(f"{name}-{language}-{width_name}")
            found[f"{language}-{width_name}"] = pages.serious_violations()
    return {where: violations for where, violations in found.items() if violations}


@pytest.mark.parametrize("name", list(ANONYMOUS_PAGES))
def test_an_anonymous_page_is_accessible(pages, verified_association, name):
    _, association = verified_association
    path = ANONYMOUS_PAGES[name].format(id=association["id"])
    assert check_and_photograph(pages, name, path, token=None) == {}


@pytest.mark.parametrize("name", list(SIGNED_IN_PAGES))
def test_a_signed_in_page_is_accessible(pages, verified_association, name):
    secretary, association = verified_association
    token = secretary.headers["Authorization"].removeprefix("Bearer ")
    path = SIGNED_IN_PAGES[name].format(id=association["id"])
    assert check_and_photograph(pages, name, path, token=token) == {}
