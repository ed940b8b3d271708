"""What every page does before and after its own work: CSRF, security headers, safe redirects, form problems."""

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from contracts.associations import AssociationDraft
from contracts.validation import InvalidPayload, parse
from gateway.pages.association_form import draft_payload
from gateway.pages.forms import field_problems
from gateway.pages.rendering import CSRF_COOKIE, PAGE_HEADERS, CsrfRefused, read_form, render, safe_next
from gateway.pages.world_map import MAP_HEIGHT, MAP_WIDTH, project, ring_path

TOKEN = "t" * 43


def form_post(body: str, cookie: str | None) -> Request:
    builder = EnvironBuilder(path="/signup", method="POST", data=body, content_type="application/x-www-form-urlencoded")
    if cookie is not None:
        builder.headers["Cookie"] = f"{CSRF_COOKIE}={cookie}"
    return Request(builder.get_environ())


def test_a_form_with_the_cookie_s_token_is_read():
    form = read_form(form_post(f"csrf_token={TOKEN}&email=a%40example.org", TOKEN))
    assert form["email"] == "a@example.org"


@pytest.mark.parametrize(
    ("body", "cookie"),
    [("email=a", TOKEN), (f"csrf_token={TOKEN}", None), (f"csrf_token={'x' * 43}", TOKEN), ("csrf_token=", "")],
)
def test_a_form_without_the_matching_token_is_refused(body, cookie):
    with pytest.raises(CsrfRefused):
        read_form(form_post(body, cookie))


def test_a_page_carries_the_security_headers_and_a_new_csrf_cookie():
    response = render(Request(EnvironBuilder(path="/").get_environ()), "home.html")
    for header, value in PAGE_HEADERS.items():
        assert response.headers[header] == value
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert f"{CSRF_COOKIE}=" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "", None])
def test_after_a_form_the_reader_is_sent_only_within_the_site(target):
    assert safe_next(target) == "/"


def test_a_path_of_the_site_is_kept():
    assert safe_next("/associations/new?x=1") == "/associations/new?x=1"


def test_problems_are_shown_next_to_the_field_they_concern():
    form = MultiDict([("name", "Mizo Fellowship"), ("country", "SG"), ("city", "Singapore"), ("email", "nope")])
    form.add("bearer_name_0", "Lalmuana")
    with pytest.raises(InvalidPayload) as refused:
        parse(AssociationDraft, draft_payload(form))
    problems = field_problems(refused.value)
    assert set(problems) == {"email", "languages", "office_bearers"}


def test_the_map_projection_puts_the_corners_and_mizoram_where_they_belong():
    assert project(90, -180) == (0, 0)
    assert project(-90, 180) == (MAP_WIDTH, MAP_HEIGHT)
    x, y = project(23.73, 92.72)
    assert 750 < x < 760 and 180 < y < 190


def test_a_ring_across_the_180th_meridian_is_drawn_in_pieces():
    arcs = [[(179.0, 60.0), (-179.0, 60.0), (-179.0, 62.0)]]
    assert ring_path([0], arcs).count("M") == 2
