"""Sending a batch always ends in one result per delivery: an unexpected error in one lane (here a mailer that
raises) must not leave the whole batch unsettled, or what did go out would be sent again
once the lease ran out, without its attempt being settled."""

from datetime import UTC, datetime
from uuid import uuid4

from services.messaging.delivery.handlers import Outgoing
from services.messaging.delivery.sender import DeliveryRounds
from services.messaging.settings import MessagingSettings


def outgoing(channel: str = "email", email: str | None = "a@example.org", webhook_url: str | None = None):
    return Outgoing(
        delivery_id=uuid4(), lease_token="token", channel=channel, recipient=f"association:{uuid4()}",
        recipient_name="Mizo Welfare Pune", email=email, language="en", webhook_url=webhook_url,
        webhook_secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", unsubscribe_key="key", message_id=uuid4(),
        kind="message", subject="Hello", sender_name="Cell", body="Hi", html="<p>Hi</p>",
        posted_at=datetime.now(UTC), reference=None,
    )  # fmt: skip


class BrokenMailer:
    def send_all(self, emails):
        raise RuntimeError("the mailer broke")


def sender_with(mailer, tmp_path) -> DeliveryRounds:
    settings = MessagingSettings(database_url=f"sqlite:///{tmp_path / 'messaging.sqlite3'}",
                                 allow_private_webhooks=False, delivery_concurrency=2)  # fmt: skip
    sender = DeliveryRounds(settings)
    sender.mailer = mailer
    return sender


def test_a_mailer_that_raises_fails_its_emails_and_the_rest_of_the_batch_still_gets_results(tmp_path):
    batch = [outgoing(), outgoing(), outgoing(email=None), outgoing("webhook", webhook_url="http://127.0.0.1:1/x")]
    results = dict((item.delivery_id, error) for item, error in sender_with(BrokenMailer(), tmp_path)._send(batch))

    assert set(results) == {item.delivery_id for item in batch}
    assert "the mailer broke" in results[batch[0].delivery_id] and "the mailer broke" in results[batch[1].delivery_id]
    assert "no e-mail address" in results[batch[2].delivery_id]
    assert "private or loopback" in results[batch[3].delivery_id]
