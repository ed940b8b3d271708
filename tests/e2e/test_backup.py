"""`diasporahub backup`, a wipe, `diasporahub restore` and `verify --repair`, the whole system running: a backup taken
while a member keeps registering leaves every association, person, conversation and help request that existed before it
as it was, and search and messaging's directory agree with the registry again."""

import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from services.catalogue import with_databases
from tests.e2e.conftest import Person, new_cell_staff
from tests.e2e.running import START_TIMEOUT_SECONDS, running_system, stopped
from tests.e2e.test_alerts_api import help_request, wait_until

LOAD_LIMIT = 100  # registrations the load makes at most, if the backup were slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("backed-up")


@pytest.fixture(scope="module")
def system(rabbit_vhosts, postgres_databases, home):
    """Registry, messaging and alerts each on a PostgreSQL database of their own; search on its SQLite file."""
    settings = {
        "REGISTRY_DATABASE_URL": postgres_databases.create(),
        "MESSAGING_DATABASE_URL": postgres_databases.create(),
        "ALERTS_DATABASE_URL": postgres_databases.create(),
        "REGISTRY_SIGN_UPS_PER_ADDRESS": "10000",
    }
    with running_system(rabbit_vhosts, home, settings) as running:
        yield running


def diasporahub(system, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "diasporahub.cli", *arguments], env=system.env, capture_output=True, text=True
    )


def wipe(system) -> None:
    """Every service's data gone: PostgreSQL schemas emptied, SQLite files deleted."""
    for entry in with_databases():
        url = system.env[f"{entry.load_settings().model_config['env_prefix']}DATABASE_URL"]
        if url.startswith("sqlite:///"):
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
            continue
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


class Registrations(threading.Thread):
    """A member registering associations until told to stop: the load while the backup is taken."""

    def __init__(self, member: Person):
        super().__init__(daemon=True)
        self.member = member
        self.stopping = threading.Event()
        self.made = 0

    def run(self) -> None:
        while not self.stopping.is_set() and self.made < LOAD_LIMIT:
            self.member.register_association(name=f"Loaded {uuid.uuid4().hex[:8]}", country="SG", city="Singapore")
            self.made += 1


def snapshot(cell: Person, writer: Person, made: dict[str, list[str]]) -> dict[str, list[dict]]:
    """Everything about them as the API shows it (to the Cell, and to the writer for conversations)."""
    return {
        "associations": [cell.request("GET", f"/api/v1/associations/{id_}").json() for id_ in made["associations"]],
        "people": [cell.request("GET", f"/api/v1/individuals/{id_}").json() for id_ in made["people"]],
        "conversations": [
            in_order(writer.request("GET", f"/api/v1/conversations/{id_}").json()) for id_ in made["conversations"]
        ],
        "help_requests": [cell.request("GET", f"/api/v1/alerts/{id_}").json() for id_ in made["help_requests"]],
    }


def without_timelines(seen: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """A help request's timeline may grow afterwards (messaging's delivery reports); the rest may not change."""
    return seen | {"help_requests": [{**found, "timeline": None} for found in seen["help_requests"]]}


def in_order(conversation: dict) -> dict:
    """Its participants in one order (the API promises none)."""
    return conversation | {
        "participants": sorted(conversation["participants"], key=lambda who: (who["kind"], who["id"]))
    }


def test_a_backup_taken_under_load_restores_everything_that_existed_before_it(system, home):
    cell = new_cell_staff(system)
    admin = Person(system.url, f"admin-{uuid.uuid4().hex[:8]}@example.org")
    writer = Person(system.url, f"writer-{uuid.uuid4().hex[:8]}@example.org")
    made: dict[str, list[str]] = {"associations": [], "people": [], "conversations": [], "help_requests": []}
    for number in range(3):
        name = f"Backed Up Fellowship {number} {uuid.uuid4().hex[:4]}"
        association = admin.register_association(name=name, city="Pune", country="IN", email=f"f{number}@example.org")
        verified = cell.request(
            "POST", f"/api/v1/associations/{association['id']}/verification", json={"decision": "verify"}
        )
        assert verified.status_code == 200, verified.text
        made["associations"].append(association["id"])
    for number in range(2):
        someone = Person(system.url, f"person-{uuid.uuid4().hex[:8]}@example.org")
        profile = someone.request("POST", "/api/v1/individuals", json={
            "name": f"Lalremruati {number}", "country": "IN", "city": "Pune", "languages": ["lus"],
            "visibility": "associations", "email": f"person{number}@example.org",
        })  # fmt: skip
        assert profile.status_code == 201, profile.text
        made["people"].append(profile.json()["id"])
    for association in made["associations"][:2]:
        body = {"participants": [association], "subject": "Visit", "body": "May we come?"}
        started = writer.request("POST", "/api/v1/conversations", json=body)
        assert started.status_code == 201, started.text
        made["conversations"].append(started.json()["id"])
    wait_until(lambda: set(made["associations"]) <= set(search_ids(system, country="IN")))  # help can reach them
    for claimed in (True, False):
        raised = writer.request("POST", "/api/v1/alerts", json=help_request("Pune", "IN"))
        assert raised.status_code == 201, raised.text
        made["help_requests"].append(raised.json()["id"])
        if claimed:
            claim = admin.request("POST", f"/api/v1/alerts/{raised.json()['id']}/claim",
                                  json={"association_id": made["associations"][0]})  # fmt: skip
            assert claim.status_code == 200, claim.text
    before = snapshot(cell, writer, made)

    load = Registrations(Person(system.url, f"loader-{uuid.uuid4().hex[:8]}@example.org"))
    load.start()
    backed_up = diasporahub(system, "backup", str(home / "backup"))
    load.stopping.set()
    load.join()
    assert backed_up.returncode == 0, backed_up.stderr
    assert load.made > 0

    stopped(system)
    wipe(system)
    restored = diasporahub(system, "restore", str(home / "backup"))
    assert restored.returncode == 0, restored.stderr
    system.prepare()
    system.start_all(ready_timeout_seconds=START_TIMEOUT_SECONDS)
    repaired = diasporahub(system, "verify", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr

    after = snapshot(cell, writer, made)
    assert without_timelines(after) == without_timelines(before)
    for earlier, later in zip(before["help_requests"], after["help_requests"], strict=True):
        assert [step for step in earlier["timeline"] if step not in later["timeline"]] == []
    checked = diasporahub(system, "verify")
    assert checked.returncode == 0, checked.stdout
    assert "0 differences between the search index and the registry" in checked.stdout
    assert "0 differences between messaging's directory and the registry" in checked.stdout
    for association in before["associations"]:
        assert association["id"] in search_ids(system, q=association["name"])


def search_ids(system, **query: str) -> list[str]:
    found = requests.get(f"{system.url}/api/v1/search/associations", params={"size": 100, **query}, timeout=10)
    return [item["id"] for item in found.json()["items"]]
