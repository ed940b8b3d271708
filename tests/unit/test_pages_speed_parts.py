"""The parts that keep pages cheap behave as what they replace: texts as Jinja's newstyle gettext, gzip only when
accepted and worth it, the map's markers and the facets' links as the template made them."""

import gzip
import uuid

from markupsafe import Markup
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from contracts.search import Facets
from gateway.pages.compression import WORTH_COMPRESSING_BYTES, compress_page, static_response
from gateway.pages.directory import Marker, facet_links, map_marks
from gateway.pages.home import STATIC_FOLDER
from gateway.pages.locales import Formats, environment


def request_to(path: str = "/", **headers) -> Request:
    return Request(EnvironBuilder(path=path, headers=headers).get_environ())


def rendered(source: str, language: str = "en", **context) -> str:
    return environment(language).from_string(source).render(**context)


def test_a_text_s_variables_are_escaped_and_its_percent_signs_kept_as_newstyle_gettext_does():
    assert rendered('{{ _("%(name)s wrote", name=who) }}', who="<b>Ana</b>") == "&lt;b&gt;Ana&lt;/b&gt; wrote"
    assert rendered('{{ _("100%% sure") }}') == "100% sure"


def test_a_plural_text_counts_with_its_own_variables():
    source = "{% trans count=n, shown=n %}{{ shown }} thing{% pluralize %}{{ shown }} things{% endtrans %}"
    assert rendered(source, n=1) == "1 thing"
    assert rendered(source, n=3) == "3 things"


def test_a_text_without_variables_is_translated_in_mizo_each_time():
    english, mizo = rendered('{{ _("Directory") }}'), rendered('{{ _("Directory") }}', "lus")
    assert mizo != english
    assert rendered('{{ _("Directory") }}', "lus") == mizo


def test_kept_formats_answer_as_fresh_ones_do():
    kept, fresh = environment("en").filters, Formats("en")
    assert kept["number"](12345) == fresh.number(12345) == "12,345"
    assert kept["language_names"](["lus", "eng"]) == "Mizo, English"
    assert Formats("en").country_options("IN") == fresh.country_options(["IN"])
    assert '<option value="IN" selected>' in fresh.country_options("IN")
    assert " selected" not in fresh.country_options(None)


def page_response(size: int) -> Response:
    return Response("x" * size, mimetype="text/html")


def test_a_large_page_is_gzipped_for_a_browser_that_accepts_it():
    answer = compress_page(request_to(**{"Accept-Encoding": "gzip, deflate"}), page_response(30_000))
    assert answer.content_encoding == "gzip"
    assert gzip.decompress(answer.get_data()) == b"x" * 30_000
    assert "Accept-Encoding" in answer.vary
    weighed = compress_page(request_to(**{"Accept-Encoding": "br;q=1.0, gzip;q=0.5"}), page_response(30_000))
    assert weighed.content_encoding == "gzip"


def test_a_small_page_or_one_for_a_client_without_gzip_is_sent_as_it_is():
    small = compress_page(request_to(**{"Accept-Encoding": "gzip"}), page_response(WORTH_COMPRESSING_BYTES - 1))
    plain = compress_page(request_to(**{"Accept-Encoding": "identity"}), page_response(30_000))
    refused = compress_page(request_to(**{"Accept-Encoding": "gzip;q=0"}), page_response(30_000))
    for answer in (small, plain, refused):
        assert answer.content_encoding is None
        assert "Accept-Encoding" in answer.vary


def test_the_world_map_is_sent_gzipped_and_its_bytes_are_the_file_s():
    path = STATIC_FOLDER / "map" / "world.svg"
    answer = static_response(request_to(**{"Accept-Encoding": "gzip"}), path)
    assert answer.content_encoding == "gzip"
    assert answer.mimetype == "image/svg+xml"
    assert gzip.decompress(answer.get_data()) == path.read_bytes()
    assert static_response(request_to(), path).get_data() == path.read_bytes()


def test_markers_link_to_their_association_with_the_label_escaped():
    centre = Marker(x=1.5, y=2, label="Aizawl <centre>")
    marker = Marker(x=790.3, y=246.2, label='Mizo "Fellowship", Singapore', href=f"/associations/{uuid.uuid4()}")
    svg = map_marks(centre, [marker])
    assert isinstance(svg, Markup)
    assert '<circle cx="1.5" cy="2" r="4" fill="#1b1b1b"><title>Aizawl &lt;centre&gt;</title></circle>' in svg
    assert f'<a href="{marker.href}" aria-label="Mizo &#34;Fellowship&#34;, Singapore">' in svg
    assert '<circle class="marker" cx="790.3" cy="246.2" r="7">' in svg


def test_a_facet_link_narrows_the_same_search_from_its_first_page():
    request = request_to("/directory?q=mizo+hall&country=IN&page=3")
    links = facet_links(request, Facets(country={"IN": 4, "SG": 2}, language={"lus": 6}, category={}))
    assert links["country"] == [
        ("/directory?q=mizo+hall&country=IN", "IN", 4),
        ("/directory?q=mizo+hall&country=SG", "SG", 2),
    ]
    assert links["language"] == [("/directory?q=mizo+hall&country=IN&language=lus", "lus", 6)]
    assert links["category"] == []
    assert facet_links(request_to("/directory"), Facets(category={"church": 1}))["category"][0][0] == (
        "/directory?category=church"
    )
