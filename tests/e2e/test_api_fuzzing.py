"""Schemathesis against the OpenAPI document, as each role: no server error, no answer that breaks the schema.

A bounded number of cases per operation and role (FUZZ_EXAMPLES). Every case comes through a trusted-proxy
address of its role's own, so that failed logins it provokes throttle that address, not the other tests'.
Logging out is left out: it would end the role's session for the cases after it.

Every default check runs but `positive_data_acceptance`: our contracts check more than JSON Schema can say
(ISO country and language codes, phone numbers, a password's length, a CSV file's rows), so a schema-valid
request is rightly refused with 422 when, say, its country is "QQ".
"""

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from gateway.openapi import openapi_document
from gateway.service import GatewayService
from tests.e2e.conftest import Person

FUZZ_EXAMPLES = 3
ROLE_ADDRESSES = {
    "anonymous": "198.51.100.11",
    "individual": "198.51.100.12",
    "admin": "198.51.100.13",
    "cell": "198.51.100.14",
}

CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(openapi_document(GatewayService), config=CONFIG).exclude(operation_id="log_out")


@pytest.fixture(scope="module")
def role_headers(system, cell_staff):
    individual = Person(system.url, f"fuzz-{uuid.uuid4().hex[:10]}@example.org")
    profile = {"name": "Fuzz Person", "country": "NP", "city": "Kathmandu", "languages": ["lus"]}
    assert individual.request("POST", "/api/v1/individuals", json=profile).status_code == 201
    admin = Person(system.url, f"fuzz-{uuid.uuid4().hex[:10]}@example.org")
    admin.register_association(name=f"Mizo Fuzz Fellowship {uuid.uuid4().hex[:6]}", country="NP", city="Kathmandu")
    signed_in = {"anonymous": {}, "individual": individual.headers, "admin": admin.headers, "cell": cell_staff.headers}
    return {role: headers | {"X-Forwarded-For": ROLE_ADDRESSES[role]} for role, headers in signed_in.items()}


@pytest.mark.parametrize("role", list(ROLE_ADDRESSES))
@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_no_answer_outside_the_schema(case, role, role_headers, api):
    case.call_and_validate(base_url=api, headers=role_headers[role])
