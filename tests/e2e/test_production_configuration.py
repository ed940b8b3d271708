"""The production configuration, run here as local processes: PostgreSQL for registry, messaging and alerts (a
database each, made for this module), quorum queues, each service and its outbox relay twice and two gateways on
ports of their own, competing for the same queues on a vhost of their own. The main journeys go through both
gateways: whatever one gateway's replica did, the other's sees.

Search keeps its embedded SQLite file, shared by its two replicas on this machine (or uses Elasticsearch when
SEARCH_ELASTICSEARCH_URL is set in the environment): production searches with an Elasticsearch cluster."""

import concurrent.futures
import uuid

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from contracts.topology import SUBSCRIPTIONS
from tests.e2e.conftest import Person, new_cell_staff
from tests.e2e.running import prepared_system, replica_of, started
from tests.e2e.test_alerts_api import help_request, wait_until
from tests.integration.test_queue_types import queue_info


@pytest.fixture(scope="module")
def gateways(rabbit_vhosts, postgres_databases, tmp_path_factory):
    """Two replicas of the whole system; (first system, [first gateway URL, second gateway URL])."""
    home = tmp_path_factory.mktemp("production")
    settings = {
        "DIASPORAHUB_QUEUE_TYPE": "quorum",
        "REGISTRY_DATABASE_URL": postgres_databases.create(),
        "MESSAGING_DATABASE_URL": postgres_databases.create(),
        "ALERTS_DATABASE_URL": postgres_databases.create(),
        # What every replica must share (deploy/README.md): the keys that seal alerts' data and sign unsubscribe links.
        "ALERTS_DATA_KEYS": Fernet.generate_key().decode(),
        "MESSAGING_UNSUBSCRIBE_SECRET": uuid.uuid4().hex,
        "REGISTRY_PASSWORD_HASHING": "rfc9106-low-memory",  # the default, which the other test systems change
    }
    first = prepared_system(rabbit_vhosts, home, settings)
    with started(first, replica_of(first, home / "replica-log")) as (first, second):
        yield first, [first.url, second.url]


@pytest.fixture(scope="module")
def cell(gateways):
    """A Cell account signed in with its second factor (`diasporahub admin create`, as the operator makes it)."""
    system, _urls = gateways
    return new_cell_staff(system)


def test_every_subscription_queue_is_a_quorum_queue_consumed_by_both_replicas_of_its_service(gateways):
    system, _urls = gateways
    operator_amqp_uri = system.env["DIASPORAHUB_AMQP_URI"]

    for subscription in SUBSCRIPTIONS:
        info = wait_until(
            lambda name=subscription.queue: (found := queue_info(operator_amqp_uri, name))["consumers"] == 2 and found
        )
        assert info["arguments"]["x-queue-type"] == "quorum", subscription.queue


def test_an_association_registered_through_one_gateway_is_verified_and_found_through_the_other(gateways, cell):
    _system, (one, other) = gateways
    member = Person(one, f"member-{uuid.uuid4().hex[:8]}@example.org")
    name = f"Production Fellowship {uuid.uuid4().hex[:6]}"
    association = Person(other, member.email).register_association(name=name, country="IN", city="Pune")

    verified = requests.post(
        f"{other}/api/v1/associations/{association['id']}/verification",
        json={"decision": "verify"},
        headers=cell.headers,
        timeout=30,
    )

    assert verified.status_code == 200, verified.text
    for gateway in (one, other):
        found = wait_until(
            lambda url=gateway: (
                requests.get(f"{url}/api/v1/search/associations", params={"q": name}, timeout=10).json().get("items")
            )
        )
        assert [item["id"] for item in found] == [association["id"]]


def verified_association(cell: Person, api: str, city: str) -> tuple[Person, str]:
    admin = Person(api, f"admin-{uuid.uuid4().hex[:8]}@example.org")
    association = admin.register_association(
        name=f"Fellowship {city} {uuid.uuid4().hex[:6]}", country="IN", city=city,
        email=f"fellowship-{uuid.uuid4().hex[:6]}@example.org",
    )  # fmt: skip
    verified = cell.request(
        "POST", f"/api/v1/associations/{association['id']}/verification", json={"decision": "verify"}
    )
    assert verified.status_code == 200, verified.text
    return admin, association["id"]


def test_one_association_writes_to_another_through_one_gateway_and_it_reads_through_the_other(gateways, cell):
    _system, (one, other) = gateways
    writer, writing = verified_association(cell, one, "Mumbai")
    reader, reading = verified_association(cell, other, "Delhi")
    body = {"participants": [reading], "from_association_id": writing, "subject": "Visit", "body": "Shall we meet?"}

    started = wait_until(
        lambda: (answer := writer.request("POST", "/api/v1/conversations", json=body)).status_code == 201 and answer
    )

    inbox = Person(other, reader.email).request("GET", "/api/v1/inbox", params={"association_id": reading})
    assert inbox.status_code == 200, inbox.text
    assert "Visit" in [item["subject"] for item in inbox.json()["items"]], started.text


def test_a_help_request_raised_through_one_gateway_is_claimed_once_when_two_claim_through_both(gateways, cell):
    _system, (one, other) = gateways
    (first_admin, first), (second_admin, second) = (verified_association(cell, api, "Pune") for api in (one, other))
    wait_until(
        lambda: (
            {first, second}
            <= {
                item["id"]
                for item in requests.get(
                    f"{one}/api/v1/search/associations", params={"country": "IN", "size": 100}, timeout=10
                ).json()["items"]
            }
        )
    )
    raised = Person(one, f"asker-{uuid.uuid4().hex[:8]}@example.org").request(
        "POST", "/api/v1/alerts", json=help_request("Pune", "IN")
    )
    assert raised.status_code == 201, raised.text
    path = f"/api/v1/alerts/{raised.json()['id']}/claim"
    claims = [(first_admin, first), (second_admin, second)]

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda claim: claim[0].request("POST", path, json={"association_id": claim[1]}), claims)
        )

    assert sorted(answer.status_code for answer in answers) == [200, 409], [answer.text for answer in answers]
    seen = [Person(api, admin.email).request("GET", path.removesuffix("/claim")).json() for api, admin in
            ((other, first_admin), (one, second_admin))]  # fmt: skip
    assert seen[0]["status"] == seen[1]["status"] == "claimed"
    assert seen[0]["claimed_by"] == seen[1]["claimed_by"]


def test_passwords_are_stored_with_the_default_hashing_parameters(gateways):
    system, (one, _other) = gateways
    email = f"hashed-{uuid.uuid4().hex[:8]}@example.org"
    Person(one, email)

    with create_engine(system.env["REGISTRY_DATABASE_URL"]).connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM accounts WHERE email = :email"), {"email": email})
        password_hash = stored.scalar_one()

    assert password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
