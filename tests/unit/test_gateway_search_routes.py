"""The search routes keep an anonymous association search (gateway/public_reads.py), never a signed-in caller's
search nor a search for people."""

import json
from uuid import uuid4

import pytest
from nameko.testing.services import worker_factory

from contracts.errors import Forbidden
from gateway.auth import principal_cache
from gateway.public_reads import PublicReadCache
from gateway.routes.search import SearchRoutes
from servicekit.rpc import TimedRpcProxy
from servicekit.shared import Shared
from tests.unit.test_accounts_gateway import body, request, respond

CELL_STAFF = {"account_id": str(uuid4()), "email": "cell@example.org", "display_name": "Cell", "is_cell_staff": True}


class SearchGateway(SearchRoutes):
    """The search part of GatewayService, composed the same way."""

    name = "gateway"
    search = TimedRpcProxy("search")
    registry = TimedRpcProxy("registry")
    principals = Shared(principal_cache)
    public_reads = Shared(lambda: PublicReadCache(2))


class RecordingSearch:
    """Answers as search does for an empty index, and records each query with who asked."""

    def __init__(self):
        self.asked: list[tuple[dict, dict | None]] = []

    def search_associations(self, query: dict, principal: dict | None) -> dict:
        self.asked.append((query, principal))
        return {"total": 0, "items": []}

    def search_individuals(self, query: dict, principal: dict | None) -> dict:
        self.asked.append((query, principal))
        return {"total": 0, "items": []}


class CellStaffRegistry:
    def whoami(self, token: str) -> dict:
        return CELL_STAFF


@pytest.fixture
def search() -> RecordingSearch:
    return RecordingSearch()


@pytest.fixture
def gateway(search):
    kept = PublicReadCache(2)
    kept.serving = True
    return worker_factory(
        SearchGateway, search=search, registry=CellStaffRegistry(), principals=principal_cache(), public_reads=kept
    )


def get(path: str, token: str | None = None):
    return request("GET", path, token=token)


def test_an_anonymous_search_is_asked_once_by_its_parsed_query(gateway, search):
    answers = [
        respond(gateway.search_associations, get(path))
        for path in ("/api/v1/search/associations?q=mizo&country=IN", "/api/v1/search/associations?country=in&q=mizo")
    ]

    assert [(answer.status_code, body(answer)) for answer in answers] == [(200, {"total": 0, "items": []})] * 2
    assert answers[0].mimetype == "application/json"
    assert search.asked == [({"q": "mizo", "country": ["IN"]}, None)]


def test_a_signed_in_search_is_asked_every_time_with_who_asks(gateway, search):
    for _ in range(2):
        respond(gateway.search_associations, get("/api/v1/search/associations?q=mizo", token="cell-staff-token"))

    assert [principal["email"] for _, principal in search.asked] == ["cell@example.org"] * 2


def test_an_anonymous_search_by_status_is_refused_every_time_and_never_kept(gateway, search):
    """The Cell's filter is refused by search for anyone else; a refusal is not an answer to keep."""

    def refuse(query: dict, principal: dict | None) -> dict:
        search.asked.append((query, principal))
        raise Forbidden("only the Mizo Diaspora Cell can search associations by status")

    search.search_associations = refuse
    answers = [
        respond(gateway.search_associations, get("/api/v1/search/associations?status=pending")) for _ in range(2)
    ]

    assert [answer.status_code for answer in answers] == [403, 403]
    assert len(search.asked) == 2


def test_a_search_for_people_is_never_kept(gateway, search):
    for _ in range(2):
        answer = respond(gateway.search_individuals, get("/api/v1/search/individuals?q=lal", token="cell-staff-token"))
        assert json.loads(answer.get_data(as_text=True)) == {"total": 0, "items": []}

    assert len(search.asked) == 2
