"""Every route of the OpenAPI document × every role → the status it must answer; a refusal changes nothing.

A route that is served but has no row here fails `test_every_documented_route_has_a_row`: whoever adds an
endpoint declares who may call it. Each row whose roles may write runs in a world of its own, the roles from the
least to the most privileged, so that what an allowed write changes cannot decide a later role's answer. The rows
that cannot change their world (reads, and writes refused to every role, each refusal checked to change nothing)
share one: building a world signs up three people, and their password hashes are most of a row's time.
"""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.e2e.conftest import Person, new_cell_staff

ROLES = ("anonymous", "individual", "admin_b", "admin_a", "cell")
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # with {placeholders} from the world
    expected: tuple[int, int, int, int, int]  # per role, in the order of ROLES
    body: object = None  # JSON, or a callable of (world, caller) that makes it
    query: dict = field(default_factory=dict)
    raw: bytes | None = None


def statuses(anonymous, individual, admin_b, admin_a, cell) -> tuple[int, int, int, int, int]:
    return anonymous, individual, admin_b, admin_a, cell


def new_email() -> str:
    return f"matrix-{uuid.uuid4().hex[:10]}@example.org"


IMPORT_CSV = b"name,country,city,languages,email\nMizo Hub Ipoh %s,MY,Ipoh,lus,hub@example.org\n"

MATRIX: dict[str, Row] = {
    "healthz": Row("GET", "/healthz", statuses(200, 200, 200, 200, 200)),
    "readyz": Row("GET", "/readyz", statuses(200, 200, 200, 200, 200)),
    "openapi": Row("GET", "/api/v1/openapi.json", statuses(200, 200, 200, 200, 200)),
    "docs": Row("GET", "/docs", statuses(200, 200, 200, 200, 200)),
    "docs_asset": Row("GET", "/docs/assets/swagger-ui.css", statuses(200, 200, 200, 200, 200)),
    "sign_up": Row(
        "POST",
        "/api/v1/auth/signup",
        statuses(201, 201, 201, 201, 201),
        body=lambda world, caller: {"email": new_email(), "password": PASSWORD, "display_name": "Someone"},
    ),
    "log_in": Row(
        "POST",
        "/api/v1/auth/login",
        statuses(200, 200, 200, 200, 200),
        body=lambda world, caller: {"email": world["spare"].email, "password": PASSWORD},
    ),
    "log_out": Row("POST", "/api/v1/auth/logout", statuses(204, 204, 204, 204, 204)),
    "change_password": Row(
        "POST",
        "/api/v1/auth/password",
        statuses(401, 204, 204, 204, 204),
        body=lambda world, caller: {"current_password": caller.password, "new_password": caller.password},
    ),
    # The matrix's Cell has set up its second factor: enrolling again is a conflict; a code that is not the app's
    # is refused (422) unchanged.
    "start_second_factor_enrolment": Row(
        "POST", "/api/v1/auth/second-factor/enrolment", statuses(401, 403, 403, 403, 409)
    ),
    "confirm_second_factor": Row(
        "POST", "/api/v1/auth/second-factor/confirmation", statuses(401, 403, 403, 403, 409), body={"code": "123456"}
    ),
    "renew_recovery_codes": Row(
        "POST",
        "/api/v1/auth/second-factor/recovery-codes",
        statuses(401, 403, 403, 403, 422),
        body={"code": "not-a-code"},
    ),
    "me": Row("GET", "/api/v1/me", statuses(401, 200, 200, 200, 200)),
    "export_account": Row("GET", "/api/v1/me/export", statuses(401, 200, 200, 200, 200)),
    # The matrix's Cell account serves every row: it gives a wrong password, and is refused (422) unchanged.
    "delete_account": Row(
        "DELETE",
        "/api/v1/me",
        statuses(401, 204, 204, 204, 422),
        body=lambda world, caller: {
            "password": "not the Cell's password" if caller is world["cell"] else caller.password or PASSWORD
        },
    ),
    "register_association": Row(
        "POST",
        "/api/v1/associations",
        statuses(401, 201, 201, 201, 201),
        body=lambda world, caller: {
            "name": f"Mizo Matrix Fellowship {uuid.uuid4().hex[:8]}",
            "country": "TH",
            "city": "Bangkok",
            "languages": ["lus"],
            "email": "matrix@example.org",
        },
    ),
    "get_association": Row("GET", "/api/v1/associations/{pending_a}", statuses(404, 404, 404, 200, 200)),
    "update_association": Row(
        "PATCH",
        "/api/v1/associations/{pending_a}",
        statuses(401, 404, 404, 200, 200),
        body={"description": "Changed by the matrix"},
    ),
    "decide_association": Row(
        "POST",
        "/api/v1/associations/{pending_a}/verification",
        statuses(401, 404, 404, 403, 200),
        body={"decision": "verify"},
    ),
    "association_history": Row("GET", "/api/v1/associations/{verified_a}/history", statuses(401, 403, 403, 200, 200)),
    "merge_association": Row(
        "POST",
        "/api/v1/associations/{pending_a}/merge",
        statuses(401, 403, 403, 403, 200),
        body=lambda world, caller: {"into": world["verified_a"]},
    ),
    "request_membership": Row(
        "POST", "/api/v1/associations/{verified_b}/memberships", statuses(401, 201, 409, 409, 201)
    ),
    "review_associations": Row("GET", "/api/v1/admin/associations", statuses(401, 403, 403, 403, 200)),
    "associations_due": Row("GET", "/api/v1/admin/associations/due", statuses(401, 403, 403, 403, 200)),
    "export_associations": Row(
        "GET", "/api/v1/admin/exports/associations", statuses(401, 403, 403, 403, 200), query={"format": "csv"}
    ),
    "import_associations": Row("POST", "/api/v1/admin/imports", statuses(401, 403, 403, 403, 200), raw=IMPORT_CSV),
    "register_individual": Row(
        "POST",
        "/api/v1/individuals",
        statuses(401, 409, 201, 201, 409),
        body={"name": "Matrix Person", "country": "MY", "city": "Ipoh", "languages": ["lus"]},
    ),
    "get_individual": Row("GET", "/api/v1/individuals/{individual}", statuses(404, 200, 404, 200, 200)),
    "update_individual": Row(
        "PATCH", "/api/v1/individuals/{individual}", statuses(401, 200, 404, 404, 404), body={"city": "Ipoh"}
    ),
    "export_individual": Row("GET", "/api/v1/individuals/{individual}/export", statuses(401, 200, 404, 404, 404)),
    "delete_individual": Row(
        "DELETE",
        "/api/v1/individuals/{individual}",
        statuses(401, 200, 404, 404, 404),
        body=lambda world, caller: {"password": caller.password or PASSWORD},
    ),
    "association_memberships": Row(
        "GET",
        "/api/v1/associations/{verified_a}/memberships",
        statuses(401, 404, 404, 200, 200),
        query={"status": "requested"},
    ),
    "decide_membership": Row(
        "POST",
        "/api/v1/memberships/{membership}/decision",
        statuses(401, 404, 404, 200, 409),
        body={"decision": "accept"},
    ),
    "search_associations": Row("GET", "/api/v1/search/associations", statuses(200, 200, 200, 200, 200)),
    "suggest_associations": Row(
        "GET", "/api/v1/search/suggest", statuses(200, 200, 200, 200, 200), query={"q": "mizo"}
    ),
    "search_individuals": Row("GET", "/api/v1/search/individuals", statuses(401, 200, 200, 200, 200)),
    # messaging: the world's conversation is between A and B, started by admin A; its message is in B's inbox
    "start_conversation": Row(
        "POST",
        "/api/v1/conversations",
        statuses(401, 403, 403, 201, 403),
        body=lambda world, caller: {
            "from_association_id": world["verified_a"],
            "participants": [world["verified_b"]],
            "subject": "Matrix",
            "body": "Hello",
        },
    ),  # fmt: skip
    "list_conversations": Row("GET", "/api/v1/conversations", statuses(401, 200, 200, 200, 200)),
    "get_conversation": Row("GET", "/api/v1/conversations/{conversation}", statuses(401, 404, 200, 200, 404)),
    "post_message": Row(
        "POST", "/api/v1/conversations/{conversation}/messages", statuses(401, 404, 201, 201, 404), body={"body": "Hi"}
    ),
    "archive_conversation": Row(
        "POST", "/api/v1/conversations/{conversation}/archive", statuses(401, 404, 200, 200, 404)
    ),
    "inbox": Row("GET", "/api/v1/inbox", statuses(401, 200, 200, 200, 200)),
    "mark_read": Row("POST", "/api/v1/messages/{message}/read", statuses(401, 404, 204, 404, 404)),
    "report_message": Row(
        "POST", "/api/v1/messages/{message}/report", statuses(401, 404, 204, 404, 404), body={"reason": "matrix"}
    ),
    "broadcast": Row(
        "POST",
        "/api/v1/broadcasts",
        statuses(401, 403, 403, 403, 201),
        body={"audience": {"countries": ["MY"]}, "subject": "Matrix", "body": "To Malaysia"},
    ),
    "get_broadcast": Row("GET", "/api/v1/broadcasts/{broadcast}", statuses(401, 404, 404, 404, 200)),
    "get_notification_settings": Row(
        "GET", "/api/v1/associations/{verified_a}/notification-settings", statuses(401, 403, 403, 200, 200)
    ),
    "put_notification_settings": Row(
        "PUT",
        "/api/v1/associations/{verified_a}/notification-settings",
        statuses(401, 403, 403, 200, 200),
        body={"email_mode": "digest", "language": "lus"},
    ),
    "list_deliveries": Row("GET", "/api/v1/associations/{verified_a}/deliveries", statuses(401, 403, 403, 200, 200)),
    "unsubscribe": Row("POST", "/api/v1/unsubscribe/not-a-known-key", statuses(404, 404, 404, 404, 404)),
    "list_message_reports": Row("GET", "/api/v1/admin/message-reports", statuses(401, 403, 403, 403, 200)),
    "my_message_reports": Row("GET", "/api/v1/message-reports", statuses(401, 200, 200, 200, 200)),
    # B's admin reported the world's conversation's first message
    "decide_message_report": Row(
        "POST",
        "/api/v1/admin/message-reports/{report}/decision",
        statuses(401, 403, 403, 403, 200),
        body={"decision": "dismiss", "reason": "matrix"},
    ),
    # a member's own settings: the person and the matrix's Cell have profiles; the admins have none (404)
    "get_member_notification_settings": Row(
        "GET", "/api/v1/me/notification-settings", statuses(401, 200, 404, 404, 200)
    ),
    "put_member_notification_settings": Row(
        "PUT",
        "/api/v1/me/notification-settings",
        statuses(401, 200, 404, 404, 200),
        body={"email_mode": "digest", "digest_hour": 8, "time_zone": "Asia/Kuala_Lumpur"},
    ),
    "block_sending": Row(
        "PUT",
        "/api/v1/admin/messaging-blocks/{verified_a}",
        statuses(401, 403, 403, 403, 200),
        body={"blocked": True, "reason": "matrix"},
    ),
    # alerts: the person asked for help in Kota Kinabalu, where A's three associations were told (`alert_a` speaks);
    # `claimed_alert` is A's case, `held_alert` came without an account and waits for the Cell. B was told nothing.
    "raise_help_request": Row(
        "POST",
        "/api/v1/alerts",
        statuses(201, 201, 201, 201, 201),
        body=lambda world, caller: help_request_in(lat=-20.0, lon=-140.0),  # the open Pacific: the Cell alone
    ),
    "list_help_requests": Row("GET", "/api/v1/alerts", statuses(401, 200, 200, 200, 200)),
    "get_help_request": Row("GET", "/api/v1/alerts/{alert}", statuses(404, 200, 404, 200, 200)),
    "acknowledge_help_request": Row(
        "POST",
        "/api/v1/alerts/{alert}/acknowledge",
        statuses(401, 403, 404, 200, 403),
        body=lambda world, caller: {"association_id": world["alert_a"]},
    ),
    "decline_help_request": Row(
        "POST",
        "/api/v1/alerts/{alert}/decline",
        statuses(401, 403, 404, 200, 403),
        body=lambda world, caller: {"association_id": world["alert_a"], "reason": "matrix"},
    ),
    "claim_help_request": Row(
        "POST",
        "/api/v1/alerts/{alert}/claim",
        statuses(401, 403, 404, 200, 200),
        body=lambda world, caller: {"association_id": world["alert_a"]},
    ),
    "update_help_request": Row(
        "POST", "/api/v1/alerts/{claimed_alert}/updates", statuses(401, 403, 404, 200, 200), body={"body": "matrix"}
    ),
    "resolve_help_request": Row(
        "POST", "/api/v1/alerts/{claimed_alert}/resolve", statuses(401, 403, 404, 200, 409), body={"summary": "matrix"}
    ),
    "refer_help_request": Row(
        "POST",
        "/api/v1/alerts/{claimed_alert}/refer",
        statuses(401, 403, 404, 200, 409),
        body={"to": "Consulate General of India", "reference": "MATRIX-1"},
    ),
    "cancel_help_request": Row(
        "POST", "/api/v1/alerts/{alert}/cancel", statuses(401, 200, 404, 403, 409), body={"reason": "matrix"}
    ),
    "release_help_request": Row("POST", "/api/v1/alerts/{held_alert}/release", statuses(401, 404, 404, 404, 200)),
    "block_requester": Row(
        "POST", "/api/v1/alerts/{alert}/block-requester", statuses(401, 403, 403, 403, 200), body={"reason": "matrix"}
    ),
    # advisories: the world's advisory asks whether Malaysia is safe; it reached A and the person, who chose to
    # receive advisories (the admins have no profile: 404); the matrix's Cell lives in India
    "publish_advisory": Row(
        "POST", "/api/v1/advisories", statuses(401, 403, 403, 403, 201), body=lambda world, caller: advisory_for(["SG"])
    ),
    "list_advisories": Row("GET", "/api/v1/advisories", statuses(200, 200, 200, 200, 200)),
    "advisories_atom": Row("GET", "/api/v1/advisories.atom", statuses(200, 200, 200, 200, 200)),
    "advisory_choice": Row("GET", "/api/v1/advisories/subscription", statuses(401, 200, 404, 404, 200)),
    "choose_advisories": Row(
        "PUT", "/api/v1/advisories/subscription", statuses(401, 200, 404, 404, 200), body={"receive": True}
    ),
    "get_advisory": Row("GET", "/api/v1/advisories/{advisory}", statuses(200, 200, 200, 200, 200)),
    "advisory_cap": Row("GET", "/api/v1/advisories/{advisory}.cap", statuses(200, 200, 200, 200, 200)),
    "answer_safety": Row(
        "POST", "/api/v1/advisories/{advisory}/safety", statuses(401, 200, 403, 200, 403), body={"status": "safe"}
    ),
    "safety_counts": Row("GET", "/api/v1/advisories/{advisory}/safety", statuses(401, 403, 403, 403, 200)),
    "remind_about_safety": Row(
        "POST", "/api/v1/advisories/{advisory}/safety/reminders", statuses(401, 403, 403, 403, 200)
    ),
}
ADVISORY_ROWS = {"get_advisory", "advisory_cap", "answer_safety", "safety_counts", "remind_about_safety"}
ALERT_ROWS = {
    "get_help_request", "acknowledge_help_request", "decline_help_request", "claim_help_request",
    "update_help_request", "resolve_help_request", "refer_help_request", "cancel_help_request",
    "release_help_request", "block_requester",
}  # fmt: skip
MESSAGING_ROWS = {
    "start_conversation", "list_conversations", "get_conversation", "post_message", "archive_conversation", "inbox",
    "mark_read", "report_message", "broadcast", "get_broadcast", "get_notification_settings",
    "put_notification_settings", "list_deliveries", "unsubscribe", "decide_message_report", "my_message_reports",
}  # fmt: skip
READ_ONLY_ROWS = {
    operation_id
    for operation_id, row in MATRIX.items()
    if row.method == "GET" or all(status >= 400 for status in row.expected)
}


def operation_ids(document: dict) -> set[str]:
    return {operation["operationId"] for operations in document["paths"].values() for operation in operations.values()}


def test_every_documented_route_has_a_row(api):
    document = requests.get(f"{api}/api/v1/openapi.json", timeout=10).json()

    assert operation_ids(document) - set(MATRIX) == set(), "routes with no row: declare who may call them"
    assert set(MATRIX) - operation_ids(document) == set(), "rows for routes that no longer exist"


class Anonymous:
    headers: dict = {}
    password = None

    def __init__(self, api: str):
        self.api = api

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.api}{path}", timeout=30, **kwargs)


@pytest.fixture(scope="module")
def matrix_cell(system):
    """The matrix's own Cell account, with a profile of its own (so that rows cannot give it one in turn)."""
    cell = new_cell_staff(system)
    profile = {"name": "Cell Officer", "country": "IN", "city": "Aizawl", "languages": ["lus"]}
    assert cell.request("POST", "/api/v1/individuals", json=profile).status_code == 201
    return cell


@pytest.fixture(scope="module")
def spare(system):
    """An account whose password every row may use to sign in."""
    return Person(system.url, new_email(), PASSWORD)


@pytest.fixture(scope="module")
def shared_world(system, matrix_cell, spare):
    """The one world of the rows that cannot change it, with every row's conversation, help requests and advisory."""
    return new_world(system.url, matrix_cell, spare, messaging=True, alerts=True, advisory=True)


@pytest.fixture
def world(request, api, matrix_cell, spare):
    """The shared world for a row that cannot change it; a new one for a row whose roles may write, so that no such
    row depends on what another did."""
    operation_id = request.node.callspec.params["operation_id"]
    extras = {
        "messaging": operation_id in MESSAGING_ROWS,
        "alerts": operation_id in ALERT_ROWS,
        "advisory": operation_id in ADVISORY_ROWS,
    }
    if operation_id in READ_ONLY_ROWS:
        # Only what the row's own world would hold: its refusals are checked against the same snapshot.
        shared = request.getfixturevalue("shared_world")
        left_out = {key for extra, keys in EXTRA_KEYS.items() if not extras[extra] for key in keys}
        return {key: value for key, value in shared.items() if key not in left_out}
    return new_world(api, matrix_cell, spare, **extras)


EXTRA_KEYS = {
    "messaging": ("conversation", "message", "broadcast", "report"),
    "alerts": ("alert_a", "alert", "claimed_alert", "held_alert"),
    "advisory": ("advisory",),
}


def new_world(api, cell_staff, spare, *, messaging: bool, alerts: bool, advisory: bool) -> dict:
    """Admin A (a verified and a pending association in Malaysia), admin B (a verified one in Singapore), a person
    in Malaysia who asked to join A's and lets associations see them, a spare account, and the Cell; with the rows'
    conversation, help requests or advisory when asked. The three new accounts sign up side by side: the registry
    hashes passwords in threads of its own."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        admin_a, admin_b, individual = pool.map(lambda _: Person(api, new_email(), PASSWORD), range(3))
    suffix = uuid.uuid4().hex[:6]
    verified_a = admin_a.register_association(name=f"Mizo Fellowship KL {suffix}", country="MY", city="Kuala Lumpur")
    pending_a = admin_a.register_association(name=f"Mizo Youth Penang {suffix}", country="MY", city="George Town")
    verified_b = admin_b.register_association(name=f"Mizo Students SG {suffix}", country="SG", city="Singapore")
    for association in (verified_a, verified_b):
        decided = cell_staff.request(
            "POST", f"/api/v1/associations/{association['id']}/verification", json={"decision": "verify"}
        )
        assert decided.status_code == 200, decided.text
    profile = individual.request(
        "POST",
        "/api/v1/individuals",
        json={"name": "Lalremruata", "country": "MY", "city": "Kuala Lumpur", "languages": ["lus"],
              "visibility": "associations", "email": "lalremruata@example.org",
              "membership_requests": [verified_a["id"]]},
    )  # fmt: skip
    assert profile.status_code == 201, profile.text
    [membership] = profile.json()["memberships"]
    world = {
        "anonymous": Anonymous(api),
        "individual": individual,
        "admin_a": admin_a,
        "admin_b": admin_b,
        "cell": cell_staff,
        "spare": spare,
        "verified_a": verified_a["id"],
        "pending_a": pending_a["id"],
        "verified_b": verified_b["id"],
        "individual_id": profile.json()["id"],
        "membership": membership["id"],
    }
    if messaging:
        add_messaging(world)
    if alerts:
        add_alerts(world)
    if advisory:
        add_advisory(world)
    return world


def advisory_for(countries: list[str]) -> dict:
    return {
        "headline": "Matrix advisory", "description": "For the matrix", "severity": "Minor", "urgency": "Future",
        "certainty": "Possible", "area": {"countries": countries}, "safety_check": True,
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }  # fmt: skip


def add_advisory(world, timeout_seconds: float = 15.0) -> None:
    """The person chooses advisories; once alerts places them and search finds A, the Cell publishes one for
    Malaysia, delivered to both."""
    person, cell = world["individual"], world["cell"]
    assert person.request("PUT", "/api/v1/advisories/subscription", json={"receive": True}).status_code == 200
    name = cell.request("GET", f"/api/v1/associations/{world['verified_a']}").json()["name"]

    def world_is_known() -> bool:
        placed = person.request("GET", "/api/v1/advisories/subscription").json()["country"] == "MY"
        found = cell.request("GET", "/api/v1/search/associations", params={"q": name}).json()["items"]
        return placed and world["verified_a"] in [hit["id"] for hit in found]

    wait_for(world_is_known, timeout_seconds)
    published = cell.request("POST", "/api/v1/advisories", json=advisory_for(["MY"]))
    assert published.status_code == 201, published.text
    advisory = f"/api/v1/advisories/{published.json()['id']}"
    wait_for(lambda: cell.request("GET", advisory).json()["reached"] >= 2, timeout_seconds)
    world["advisory"] = published.json()["id"]


def wait_for(condition, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        assert time.monotonic() < deadline, "the services did not follow each other's events in time"
        time.sleep(0.1)


def help_request_in(**place) -> dict:
    return {
        "category": "accident", "urgency": "immediate", "description": "Matrix", "location": place,
        "contact": {"name": "Matrix", "email": "matrix@example.org"},
    }  # fmt: skip


def add_alerts(world, timeout_seconds: float = 20.0) -> None:
    """Three associations of A's in Kota Kinabalu, verified and found by search; the person's help request there
    (told to them), a second one A claimed for `alert_a`, and one raised without an account."""
    admin_a, cell = world["admin_a"], world["cell"]
    suffix = uuid.uuid4().hex[:6]
    ids = []
    for number in range(3):
        association = admin_a.register_association(
            name=f"Mizo Fellowship Sabah {number} {suffix}", country="MY", city="Kota Kinabalu"
        )
        decided = cell.request("POST", f"/api/v1/associations/{association['id']}/verification",
                               json={"decision": "verify"})  # fmt: skip
        assert decided.status_code == 200, decided.text
        ids.append(association["id"])
    deadline = time.monotonic() + timeout_seconds
    while not set(ids) <= {item["id"] for item in requests.get(
        f"{world['anonymous'].api}/api/v1/search/associations", params={"q": suffix, "size": 10}, timeout=10
    ).json()["items"]}:  # fmt: skip
        assert time.monotonic() < deadline, "search did not index the matrix's associations"
        time.sleep(0.1)
    kota_kinabalu = help_request_in(country="MY", city="Kota Kinabalu")
    # From an address of the world's own (the tests stand as a trusted proxy): blocking it blocks nobody else.
    address = {"X-Forwarded-For": f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}
    raised = [world["individual"].request("POST", "/api/v1/alerts", json=kota_kinabalu, headers=address)
              for _ in range(2)]  # fmt: skip
    assert all(answer.status_code == 201 and answer.json()["notified_count"] >= 3 for answer in raised), raised
    alert, claimed_alert = (answer.json()["id"] for answer in raised)
    # The gateway believes A's admin rights as the registry gave them a few seconds ago
    # (GATEWAY_PRINCIPAL_CACHE_SECONDS): the case is A's to claim once it sees A's new associations.
    deadline = time.monotonic() + timeout_seconds
    while (claimed := admin_a.request("POST", f"/api/v1/alerts/{claimed_alert}/claim",
                                      json={"association_id": ids[0]})).status_code == 404:  # fmt: skip
        assert time.monotonic() < deadline, claimed.text
        time.sleep(0.1)
    assert claimed.status_code == 200, claimed.text
    held = world["anonymous"].request("POST", "/api/v1/alerts", json=kota_kinabalu, headers=address)
    assert held.status_code == 201, held.text
    world |= {"alert_a": ids[0], "alert": alert, "claimed_alert": claimed_alert, "held_alert": held.json()["id"]}


def what_alerts_store(world) -> list:
    """What a caller could change in the world's help requests, as the Cell sees them: status, holder, answers,
    the fields and the steps people took.

    The service's own work goes on whoever calls meanwhile (a round of matching after an earlier row's referral or
    release, messaging's delivery reports), so steps of the service and who was newly told are left out: no refused
    request could have written them."""
    kept = []
    for key in ("alert", "claimed_alert", "held_alert"):
        seen = world["cell"].request("GET", f"/api/v1/alerts/{world[key]}").json()
        kept.append(
            {field: seen[field] for field in CALLER_FIELDS}
            | {
                "answers": {
                    notified["association_id"]: (notified["acknowledged_at"], notified["declined_at"])
                    for notified in seen["notified"]
                    if notified["acknowledged_at"] or notified["declined_at"]
                },
                "timeline": [step for step in seen["timeline"] if not is_service_work(step)],
            }
        )
    return kept


CALLER_FIELDS = ("status", "claimed_by", "held_for_cell", "category", "urgency", "severity", "description",
                 "location", "contact")  # fmt: skip


def is_service_work(step: dict) -> bool:
    return step["actor"] == "alerts" or step["kind"].startswith(("reached_by_", "not_reached_by_"))


def add_messaging(world) -> None:
    """A conversation between A and B started by A's admin (its message in B's inbox) and a Cell broadcast."""
    conversation = start_conversation(world["admin_a"], world["verified_a"], world["verified_b"])
    broadcast = world["cell"].request(
        "POST", "/api/v1/broadcasts", json={"audience": {"countries": ["MY"]}, "subject": "Matrix", "body": "All"}
    )
    assert broadcast.status_code == 201, broadcast.text
    message = conversation["messages"][0]["id"]
    reported = world["admin_b"].request("POST", f"/api/v1/messages/{message}/report", json={"reason": "world"})
    assert reported.status_code == 204, reported.text
    [report] = world["admin_b"].request("GET", "/api/v1/message-reports").json()["items"]
    world |= {
        "conversation": conversation["id"],
        "message": message,
        "broadcast": broadcast.json()["id"],
        "report": str(report["id"]),
    }


def start_conversation(admin_a, verified_a: str, verified_b: str, timeout_seconds: float = 10.0) -> dict:
    """A's admin writes to B, once messaging has seen both verified (its directory follows the registry's events)."""
    body = {"from_association_id": verified_a, "participants": [verified_b], "subject": "World", "body": "Hello B"}
    deadline = time.monotonic() + timeout_seconds
    while True:
        started = admin_a.request("POST", "/api/v1/conversations", json=body)
        if started.status_code != 404 or time.monotonic() > deadline:
            assert started.status_code == 201, started.text
            return started.json()
        time.sleep(0.1)


def what_is_stored(world) -> tuple:
    """Everything a refused request could have changed, as the Cell sees it."""
    cell = world["cell"]
    return (
        [cell.request("GET", f"/api/v1/associations/{world[key]}").json() for key in ("verified_a", "pending_a")],
        cell.request("GET", f"/api/v1/associations/{world['verified_b']}").json(),
        cell.request("GET", f"/api/v1/individuals/{world['individual_id']}").json(),
        cell.request("GET", "/api/v1/admin/associations", params={"status": "pending", "size": 200}).json()["total"],
        what_messaging_stores(world) if "conversation" in world else None,
        what_alerts_store(world) if "alert" in world else None,
        cell.request("GET", f"/api/v1/advisories/{world['advisory']}/safety").json() if "advisory" in world else None,
    )


def what_messaging_stores(world) -> tuple:
    """The world's conversation, A's and B's inboxes, A's settings and the reports, as their admins and the Cell
    see them."""
    a, b = world["admin_a"], world["admin_b"]
    return (
        a.request("GET", f"/api/v1/conversations/{world['conversation']}").json(),
        a.request("GET", "/api/v1/inbox", params={"association_id": world["verified_a"]}).json(),
        b.request("GET", "/api/v1/inbox", params={"association_id": world["verified_b"]}).json(),
        a.request("GET", f"/api/v1/associations/{world['verified_a']}/notification-settings").json(),
        world["cell"].request("GET", "/api/v1/admin/message-reports").json(),
        # Deliveries go out meanwhile: only what a request could change.
        {key: value for key, value in cell_broadcast(world).items() if key in ("recipients", "read", "subject")},
    )


def cell_broadcast(world) -> dict:
    return world["cell"].request("GET", f"/api/v1/broadcasts/{world['broadcast']}").json()


def send(world, role: str, row: Row) -> requests.Response:
    caller = world[role]
    if row.path == "/api/v1/auth/logout" and role != "anonymous":
        caller = caller.another_session()  # a session of its own, so the role keeps its
    ids = {key: value for key, value in world.items() if isinstance(value, str)} | {
        "individual": world["individual_id"]
    }
    path = row.path.format(**ids)
    if row.raw is not None:
        raw = row.raw % uuid.uuid4().hex[:8].encode() if b"%s" in row.raw else row.raw
        return caller.request(row.method, path, params=row.query, data=raw, headers={"Content-Type": "text/csv"})
    body = row.body(world, caller) if callable(row.body) else row.body
    return caller.request(row.method, path, params=row.query, json=body)


@pytest.mark.parametrize("operation_id", sorted(MATRIX))
def test_each_role_gets_the_status_of_its_row_and_refusals_change_nothing(world, operation_id):
    row = MATRIX[operation_id]
    answers = {}
    for role, expected in zip(ROLES, row.expected, strict=True):
        before = what_is_stored(world) if expected >= 400 else None
        answer = send(world, role, row)
        answers[role] = answer.status_code
        if expected >= 400 and answer.status_code >= 400:
            assert what_is_stored(world) == before, f"{role}'s refused {operation_id} changed what is stored"

    assert answers == dict(zip(ROLES, row.expected, strict=True)), f"{operation_id}: got {answers}"
