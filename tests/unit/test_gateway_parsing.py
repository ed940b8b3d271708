"""The gateway parses every body and query into its contract before any RPC: a bad one is a 4xx, no call made."""

import json

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder

from gateway.errors import error_response
from gateway.service import GatewayService


class RecordingService:
    """Stands in for a service proxy: records each call; these tests expect none."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, method_name):
        return lambda *args, **kwargs: self.calls.append((method_name, args, kwargs))


@pytest.fixture
def services():
    return {"registry": RecordingService(), "search": RecordingService()}


def answer(gateway, route_name, *, body=None, raw=None, query="", token="a-token", **path_values):
    request = EnvironBuilder(
        method="POST",
        path="/",
        query_string=query,
        data=raw if raw is not None else None if body is None else json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"} if token else {},
    ).get_request()
    request.path_values = path_values
    [endpoint] = getattr(GatewayService, route_name).nameko_entrypoints
    try:
        args, kwargs = endpoint.get_entrypoint_parameters(request)
        return endpoint.response_from_result(getattr(gateway, route_name)(*args, **kwargs))
    except Exception as exc:
        return error_response(exc)


@pytest.mark.parametrize(
    ("route_name", "body", "query", "path_values"),
    [
        ("decide_association", {"decision": "approve"}, "", {"association_id": "a"}),
        ("decide_association", {"decision": "verify", "extra": 1}, "", {"association_id": "a"}),
        ("merge_association", {"into": "not-an-id"}, "", {"association_id": "a"}),
        ("decide_membership", {"decision": "maybe"}, "", {"membership_id": "m"}),
        ("review_associations", None, "status=unknown", {}),
        ("review_associations", None, "size=1000", {}),
        ("export_associations", None, "format=xlsx", {}),
        ("search_associations", None, "near=north", {}),
    ],
)
def test_a_bad_decision_merge_or_query_is_422_before_any_rpc(services, route_name, body, query, path_values):
    gateway = worker_factory(GatewayService, **services)

    response = answer(gateway, route_name, body=body, query=query, **path_values)

    assert response.status_code == 422
    assert json.loads(response.get_data())["problems"]
    assert services["registry"].calls == services["search"].calls == []


def test_a_body_that_is_not_json_is_400_before_any_rpc(services):
    gateway = worker_factory(GatewayService, **services)

    response = answer(gateway, "decide_association", raw="{not json", association_id="a")

    assert response.status_code == 400
    assert services["registry"].calls == []


def test_a_route_that_needs_a_session_is_401_before_the_body_is_read(services):
    gateway = worker_factory(GatewayService, **services)

    response = answer(gateway, "decide_association", raw="{not json", token=None, association_id="a")

    assert response.status_code == 401
    assert services["registry"].calls == []


def test_a_good_decision_reaches_the_registry_as_its_contract(services):
    gateway = worker_factory(GatewayService, **services)

    answer(gateway, "decide_association", body={"decision": "reject", "reason": "not Mizo"}, association_id="a")

    assert services["registry"].calls == [
        ("decide_association", ("a-token", "a", {"decision": "reject", "reason": "not Mizo"}), {})
    ]
