"""The messaging service over the real broker, with a real SMTP server and real webhook receivers."""

import base64
from uuid import uuid4

import eventlet
import pytest
from standardwebhooks.webhooks import Webhook

from contracts.accounts import AdministeredAssociation, Principal
from contracts.errors import Forbidden, Invalid, NotFound, TooManyAttempts
from contracts.events import AssociationRegisteredV1, AssociationVerifiedV1
from servicekit.migrations import upgrade
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.messaging.service import MessagingService
from tests.integration.search_contract.events import association_event, publish
from tests.messaging_servers import SmtpServer, WebhookReceiver


def admin_of(*association_ids) -> Principal:
    return Principal(
        account_id=uuid4(), email=f"admin-{uuid4().hex[:6]}@example.org", display_name="Admin",
        administers=[AdministeredAssociation(id=i, country="IN", verified=True) for i in association_ids],
    )  # fmt: skip


CELL = Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell officer", is_cell_staff=True)


def wait_until(condition, timeout_seconds: float = 10.0):
    with eventlet.Timeout(timeout_seconds):
        while not (result := condition()):
            eventlet.sleep(0.05)
    return result


@pytest.fixture
def smtp(tmp_path):
    with SmtpServer(tmp_path / "maildir") as server:
        yield server


@pytest.fixture
def messaging_env(tmp_path, monkeypatch, smtp):
    url = f"sqlite:///{tmp_path / 'messaging.sqlite3'}"
    upgrade("services.messaging", url)
    for name, value in {
        "DATABASE_URL": url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
        "ALLOW_PRIVATE_WEBHOOKS": "true", "RETRY_BASE_SECONDS": "0.05", "RETRY_MAX_SECONDS": "0.1",
        "RETRY_WINDOW_SECONDS": "0.6", "DELIVERY_POLL_SECONDS": "0.05", "POSTS_PER_MINUTE": "5",
        "PUBLIC_URL": "https://hub.example.org",
    }.items():  # fmt: skip
        monkeypatch.setenv(f"MESSAGING_{name}", value)
    return url


@pytest.fixture
def rpc(amqp_uri, bus):
    with RpcClient(BusSettings(amqp_uri=amqp_uri)) as client:

        def call(method, *args):
            return client.call("messaging", method, *[a.model_dump(mode="json") if hasattr(a, "model_dump")
                                                      else a for a in args])  # fmt: skip

        yield call


@pytest.fixture
def messaging(nameko_config, messaging_env, container_factory):
    container = container_factory(MessagingService, nameko_config)
    container.start()
    return container


@pytest.fixture
def directory(amqp_uri, messaging, rpc):
    """Three verified associations (A and B in India, C in Singapore) and a pending one, as registry events."""
    events = {
        "a": association_event(name="Bengaluru Mizo Youth", country="IN", city="Bengaluru", email="a@example.org"),
        "b": association_event(name="Hyderabad Mizo Youth", country="IN", city="Hyderabad", email="b@example.org"),
        "c": association_event(name="Mizo Singapore", country="SG", city="Singapore", email="c@example.org",
                               languages=["lus"]),
        "pending": association_event(AssociationRegisteredV1, name="New one", status="pending", country="IN",
                                     city="Pune", email="p@example.org"),
    }  # fmt: skip
    publish(amqp_uri, *events.values())
    ids = {key: event.aggregate_id for key, event in events.items()}
    # Known to messaging once a conversation with it is accepted.
    probe = admin_of(ids["c"])
    wait_until(lambda: all(_known(rpc, probe, ids[key]) for key in ("a", "b")))
    return ids


def _known(rpc, principal, association_id) -> bool:
    try:
        rpc("get_notification_settings", CELL, str(association_id))
        return True
    except NotFound:
        return False


def test_a_conversation_between_two_associations_is_closed_to_a_third(rpc, directory):
    a, b, c = admin_of(directory["a"]), admin_of(directory["b"]), admin_of(directory["c"])
    started = rpc("start_conversation", a, {"from_association_id": str(directory["a"]),
                                            "participants": [str(directory["b"])], "subject": "Joint event",
                                            "body": "Shall we meet **in March**? <script>x</script>"})  # fmt: skip
    conversation_id = started["id"]
    assert "<strong>in March</strong>" in started["messages"][0]["html"]
    assert "<script>" not in started["messages"][0]["html"]

    for call in (
        lambda: rpc("get_conversation", c, conversation_id),
        lambda: rpc("post_message", c, conversation_id, {"body": "let me in"}),
        lambda: rpc("archive_conversation", c, conversation_id),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(Forbidden):
        rpc("inbox", c, {"association_id": str(directory["a"])})
    with pytest.raises(Forbidden):
        rpc("list_conversations", c, {"association_id": str(directory["b"])})
    assert rpc("list_conversations", c, {})["items"] == []

    inbox = rpc("inbox", b, {"association_id": str(directory["b"]), "unread": True})
    assert inbox["unread"] == 1 and inbox["items"][0]["subject"] == "Joint event"
    reply = rpc("post_message", b, conversation_id, {"body": "Yes"})
    assert reply["sender"]["id"] == str(directory["b"])
    rpc("mark_read", b, inbox["items"][0]["message_id"])
    assert rpc("inbox", b, {"association_id": str(directory["b"]), "unread": True})["unread"] == 0
    rpc("report_message", b, inbox["items"][0]["message_id"], {"reason": "test"})
    with pytest.raises(NotFound):
        rpc("report_message", c, inbox["items"][0]["message_id"], {"reason": "not mine"})
    full = rpc("get_conversation", a, conversation_id)
    assert [m["body"] for m in full["messages"]] == ["Shall we meet **in March**? <script>x</script>", "Yes"]

    rpc("archive_conversation", a, conversation_id)
    assert rpc("list_conversations", a, {"association_id": str(directory["a"])})["items"] == []
    assert len(rpc("list_conversations", a, {"association_id": str(directory["a"]), "archived": True})["items"]) == 1


def test_a_person_writes_to_one_verified_association_and_posts_are_limited(rpc, directory):
    person = Principal(account_id=uuid4(), email="p@example.org", display_name="Mami")
    with pytest.raises(NotFound):
        rpc("start_conversation", person, {"participants": [str(directory["pending"])], "subject": "Hi", "body": "x"})
    with pytest.raises(Invalid):
        rpc("start_conversation", person,
            {"participants": [str(directory["a"]), str(directory["b"])], "subject": "Hi", "body": "x"})  # fmt: skip
    started = rpc("start_conversation", person, {"participants": [str(directory["a"])], "subject": "Joining",
                                                 "body": "How do I join?"})  # fmt: skip
    assert started["messages"][0]["contact"] is None
    for _ in range(4):
        rpc("post_message", person, started["id"], {"body": "again"})
    with pytest.raises(TooManyAttempts):
        rpc("post_message", person, started["id"], {"body": "one too many"})


def test_a_cell_broadcast_reaches_inboxes_and_smtp_in_the_recipients_language(rpc, directory, smtp):
    c = admin_of(directory["c"])
    rpc("put_notification_settings", c, str(directory["c"]), {"language": "lus", "email_mode": "immediate"})
    sent = rpc("broadcast", CELL, {"audience": {"countries": ["IN", "SG"]}, "subject": "Labour rules",
                                   "body": "New *rules* apply."})  # fmt: skip
    assert sent["recipients"] == 3

    wait_until(lambda: smtp.count() >= 3)
    emails = {message["To"]: message for message in smtp.messages()}
    assert set(emails) == {"a@example.org", "b@example.org", "c@example.org"}
    mizo, english = emails["c@example.org"], emails["a@example.org"]
    assert (
        mizo["Content-Language"] == "lus"
        and "thupuan thar a lo thleng" in mizo.get_payload()[0].get_payload(decode=True).decode()
    )
    assert "A new announcement" in english.get_payload()[0].get_payload(decode=True).decode()
    unsubscribe = "".join(english["List-Unsubscribe"].split()).strip("<>")
    assert unsubscribe.startswith("https://hub.example.org/api/v1/unsubscribe/")
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert english["Message-ID"].startswith("<") and english["Message-ID"] != mizo["Message-ID"]
    assert unsubscribe in english.get_payload()[0].get_payload(decode=True).decode()

    counts = wait_until(lambda: (b := rpc("get_broadcast", CELL, sent["id"]))["delivered"]["email"].get("sent") == 3
                        and b)  # fmt: skip
    assert counts["delivered"]["inbox"]["sent"] == 3
    with pytest.raises(NotFound):
        rpc("get_broadcast", c, sent["id"])

    rpc("unsubscribe", unsubscribe.rsplit("/", 1)[1])
    assert rpc("get_notification_settings", admin_of(directory["a"]), str(directory["a"]))["email_mode"] == "off"


def test_webhooks_are_signed_and_a_failing_receiver_is_retried_then_marked_failed(rpc, directory):
    a, b = admin_of(directory["a"]), admin_of(directory["b"])
    with WebhookReceiver() as good, WebhookReceiver(status=500) as bad:
        set_a = rpc("put_notification_settings", a, str(directory["a"]), {"email_mode": "off", "webhook_url": good.url})
        rpc("put_notification_settings", b, str(directory["b"]), {"email_mode": "off", "webhook_url": bad.url})
        assert set_a["webhook_secret"].startswith("whsec_")
        assert rpc("get_notification_settings", a, str(directory["a"]))["webhook_secret"] is None
        receipt = rpc("notify", {"recipients": [str(directory["a"]), str(directory["b"])], "kind": "alert",
                                 "subject": "Flood", "body": "Stay safe", "reference": "alert-1",
                                 "urgency": "urgent"}, "alerts")  # fmt: skip
        assert receipt["recipients"] == 2

        wait_until(lambda: good.received)
        headers, body = good.received[0]
        verified = Webhook(set_a["webhook_secret"]).verify(body, headers)
        assert verified["data"]["reference"] == "alert-1" and headers["webhook-id"]

        failed = wait_until(lambda: rpc("list_deliveries", b, str(directory["b"]), {"state": "failed"})["items"])
        assert failed[0]["attempts"] >= 2 and "500" in failed[0]["last_error"]
        assert len(bad.received) == failed[0]["attempts"]
        assert len({h["webhook-id"] for h, _ in bad.received}) == 1
    with pytest.raises(Forbidden):
        rpc("list_deliveries", a, str(directory["b"]), {})


def test_private_webhook_targets_are_refused_unless_allowed(rpc, directory, monkeypatch):
    from services.messaging.delivery.transports import check_webhook_url

    with pytest.raises(Invalid):
        check_webhook_url("http://127.0.0.1:9/x", allow_private=False)
    with pytest.raises(Invalid):
        check_webhook_url("http://10.1.2.3/x", allow_private=False)
    check_webhook_url("http://127.0.0.1:9/x", allow_private=True)
    assert base64  # the secret is base64 after whsec_


def test_the_directory_keeps_the_newest_version(amqp_uri, rpc, directory):
    newer = association_event(AssociationVerifiedV1, association_id=directory["c"], version=3, status="suspended",
                              country="SG", city="Singapore", email="c@example.org")  # fmt: skip
    older = association_event(AssociationVerifiedV1, association_id=directory["c"], version=2, country="SG",
                              city="Singapore", email="c@example.org")  # fmt: skip
    publish(amqp_uri, newer, older, newer)
    person = Principal(account_id=uuid4(), email="p@example.org", display_name="Mami")
    eventlet.sleep(0.5)
    with pytest.raises(NotFound):
        rpc("start_conversation", person, {"participants": [str(directory["c"])], "subject": "Hi", "body": "x"})


def test_a_digest_gathers_what_came_and_urgent_notifications_skip_it(rpc, directory, smtp, messaging_env):
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, update

    from services.messaging.db import DeliveryRecord

    a = admin_of(directory["a"])
    rpc("put_notification_settings", a, str(directory["a"]), {"email_mode": "digest"})
    for subject in ("First news", "Second news"):
        rpc(
            "notify",
            {"recipients": [str(directory["a"])], "kind": "news", "subject": subject, "body": subject},
            "alerts",
        )
    rpc("notify", {"recipients": [str(directory["a"])], "kind": "alert", "subject": "Flood", "body": "Now",
                   "urgency": "urgent"}, "alerts")  # fmt: skip
    wait_until(lambda: smtp.count() >= 1)
    eventlet.sleep(0.3)
    assert [email["Subject"] for email in smtp.messages()] == ["[DiasporaHub] Flood"]

    engine = create_engine(messaging_env)  # the digest hour comes now
    with engine.begin() as connection:
        connection.execute(update(DeliveryRecord).where(DeliveryRecord.digest.is_(True))
                           .values(next_attempt_at=datetime.now(UTC)))  # fmt: skip
    engine.dispose()
    wait_until(lambda: smtp.count() >= 2)
    [digest] = [email for email in smtp.messages() if "new for" in email["Subject"]]
    text = digest.get_payload()[0].get_payload(decode=True).decode()
    assert "First news" in text and "Second news" in text and "2 new for Bengaluru Mizo Youth" in digest["Subject"]


def test_the_cell_sees_reports_and_blocks_an_association_from_sending(rpc, directory):
    a, b = admin_of(directory["a"]), admin_of(directory["b"])
    started = rpc("start_conversation", a, {"from_association_id": str(directory["a"]),
                                            "participants": [str(directory["b"])], "subject": "Buy now",
                                            "body": "Spam"})  # fmt: skip
    rpc("report_message", b, started["messages"][0]["id"], {"reason": "spam"})
    with pytest.raises(Forbidden):
        rpc("list_reports", a, {})
    [report] = rpc("list_reports", CELL, {})["items"]
    assert report["reason"] == "spam" and report["sender"]["id"] == str(directory["a"])

    with pytest.raises(Forbidden):
        rpc("block_sending", b, str(directory["a"]), {"blocked": True})
    rpc("block_sending", CELL, str(directory["a"]), {"blocked": True, "reason": "spam"})
    with pytest.raises(Forbidden):
        rpc("post_message", a, started["id"], {"body": "more spam"})
    rpc("post_message", b, started["id"], {"body": "stop it"})
    rpc("block_sending", CELL, str(directory["a"]), {"blocked": False})
    rpc("post_message", a, started["id"], {"body": "sorry"})


def test_a_notification_sent_again_with_its_once_key_reaches_nobody_twice(rpc, directory):
    """alerts takes a round again when messaging's answer was lost: the second call finds the first notification."""
    request = {"recipients": [str(directory["a"])], "kind": "help_request", "subject": "DH-2026-000007",
               "body": "Help", "once_key": "help request 7 from version 3"}  # fmt: skip
    first = rpc("notify", request, "alerts")
    again = rpc("notify", request, "alerts")
    other = rpc("notify", request | {"once_key": "help request 7 from version 5"}, "alerts")

    assert again == first and other["id"] != first["id"]
    a = admin_of(directory["a"])
    subjects = [item["subject"] for item in rpc("inbox", a, {"association_id": str(directory["a"])})["items"]]
    assert subjects == ["DH-2026-000007", "DH-2026-000007"]
