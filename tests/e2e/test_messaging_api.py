"""Messaging over HTTP, the whole system running: a third association's admin is shut out of a conversation and
changes nothing; a webhook receiver that answers 500 is retried, then the delivery is failed, seen over the API."""

import time
import uuid

import pytest

from tests.messaging_servers import WebhookReceiver


def eventually(attempt, timeout_seconds: float = 15.0):
    deadline = time.monotonic() + timeout_seconds
    while True:
        result = attempt()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


@pytest.fixture
def three(person, cell_staff):
    """Admins of A, B and C, each association verified by the Cell."""
    admins, ids = [], []
    for name in ("A", "B", "C"):
        admin = person()
        association = admin.register_association(
            name=f"Mizo Fellowship {name} {uuid.uuid4().hex[:6]}", country="IN", city="Pune",
            email=f"{name.lower()}@example.org",
        )  # fmt: skip
        decided = cell_staff.request("POST", f"/api/v1/associations/{association['id']}/verification",
                                     json={"decision": "verify"})  # fmt: skip
        assert decided.status_code == 200, decided.text
        admins.append(admin)
        ids.append(association["id"])
    return admins, ids


def start(admin, sender: str, recipient: str) -> dict:
    body = {"from_association_id": sender, "participants": [recipient], "subject": "Joint event", "body": "Hello"}
    started = eventually(
        lambda: (answer := admin.request("POST", "/api/v1/conversations", json=body)).status_code != 404 and answer
    )
    assert started.status_code == 201, started.text
    return started.json()


def test_an_admin_of_c_can_neither_read_list_nor_post_in_a_conversation_of_a_and_b(three):
    (admin_a, admin_b, admin_c), (a, b, _) = three
    conversation = start(admin_a, a, b)

    def stored():
        return (
            admin_a.request("GET", f"/api/v1/conversations/{conversation['id']}").json(),
            admin_a.request("GET", "/api/v1/inbox", params={"association_id": a}).json(),
            admin_b.request("GET", "/api/v1/inbox", params={"association_id": b}).json(),
            admin_a.request("GET", f"/api/v1/associations/{a}/notification-settings").json(),
        )

    before = stored()
    refused = {
        "read": admin_c.request("GET", f"/api/v1/conversations/{conversation['id']}"),
        "post": admin_c.request("POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"body": "hi"}),
        "post as A": admin_c.request(
            "POST",
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"from_association_id": a, "body": "hi"},
        ),  # fmt: skip
        "archive": admin_c.request("POST", f"/api/v1/conversations/{conversation['id']}/archive"),
        "list A's": admin_c.request("GET", "/api/v1/conversations", params={"association_id": a}),
        "A's inbox": admin_c.request("GET", "/api/v1/inbox", params={"association_id": a}),
        "A's settings": admin_c.request("GET", f"/api/v1/associations/{a}/notification-settings"),
        "change A's settings": admin_c.request(
            "PUT", f"/api/v1/associations/{a}/notification-settings", json={"email_mode": "off"}
        ),  # fmt: skip
        "A's deliveries": admin_c.request("GET", f"/api/v1/associations/{a}/deliveries"),
        "read the message": admin_c.request("POST", f"/api/v1/messages/{conversation['messages'][0]['id']}/read"),
    }

    assert {what: answer.status_code for what, answer in refused.items()} == {
        "read": 404, "post": 404, "post as A": 404, "archive": 404, "list A's": 403, "A's inbox": 403,
        "A's settings": 403, "change A's settings": 403, "A's deliveries": 403, "read the message": 404,
    }  # fmt: skip
    assert conversation["id"] not in [c["id"] for c in admin_c.request("GET", "/api/v1/conversations").json()["items"]]
    assert stored() == before
    assert before[2]["unread"] == 1  # B has A's message


def test_a_webhook_answering_500_is_retried_then_failed_and_shown_to_the_recipients_admins(three):
    (admin_a, admin_b, _), (a, b, _) = three
    with WebhookReceiver(status=500) as receiver:
        set_up = admin_b.request("PUT", f"/api/v1/associations/{b}/notification-settings",
                                 json={"email_mode": "off", "webhook_url": receiver.url})  # fmt: skip
        assert set_up.status_code == 200, set_up.text
        start(admin_a, a, b)

        def failed():
            answer = admin_b.request("GET", f"/api/v1/associations/{b}/deliveries", params={"state": "failed"})
            return answer.json()["items"]

        [delivery] = eventually(failed)
    assert delivery["channel"] == "webhook" and delivery["attempts"] >= 2
    assert "500" in delivery["last_error"]
    assert len(receiver.received) == delivery["attempts"]
    assert {headers["webhook-id"] for headers, _ in receiver.received} == {delivery["id"]}


def test_a_post_retried_with_its_idempotency_key_is_made_once_and_a_bad_key_is_a_clear_422(three):
    (admin_a, _, _), (a, b, _) = three
    conversation = start(admin_a, a, b)
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = admin_a.request("POST", url, json={"body": "See you"}, headers=key)
    retried = admin_a.request("POST", url, json={"body": "See you"}, headers=key)
    assert (first.status_code, retried.status_code) == (201, 201) and retried.json() == first.json()
    reused = admin_a.request("POST", url, json={"body": "Something else"}, headers=key)
    assert reused.status_code == 422 and "different request" in reused.json()["message"]
    bad = admin_a.request("POST", url, json={"body": "x"}, headers={"Idempotency-Key": "a key with spaces"})
    assert bad.status_code == 422 and "Idempotency-Key" in bad.json()["message"]
    messages = admin_a.request("GET", f"/api/v1/conversations/{conversation['id']}").json()["messages"]
    assert [m["body"] for m in messages] == ["Hello", "See you"]
