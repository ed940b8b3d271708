"""Messaging's SMTP transport keeps its connections between batches, so an urgent help request's e-mails do not
wait for a handshake each time (benchmarks/alerts.py), against a real SMTP server: a kept connection is reused, one
the server closed meanwhile is replaced without failing the e-mail, one idle too long is closed."""

from types import SimpleNamespace
from uuid import uuid4

import pytest

from services.messaging.delivery.templates import RawEmail
from services.messaging.delivery.transports import SmtpMailer
from tests.messaging_servers import SmtpServer


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def smtp(tmp_path):
    with SmtpServer(tmp_path / "maildir") as server:
        yield server


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def mailer(smtp, clock):
    settings = SimpleNamespace(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none", smtp_username=None,
                               smtp_password=None, smtp_timeout_seconds=5.0)  # fmt: skip
    made = SmtpMailer(settings, clock=clock)
    yield made
    made.close()


def emails(count: int) -> list[RawEmail]:
    return [
        RawEmail(uuid4(), "no-reply@hub.example.org", f"helper-{number}@example.org",
                 b"Subject: Help needed near Dubai\r\n\r\nDH-2026-000001\r\n")
        for number in range(count)
    ]  # fmt: skip


def kept(mailer: SmtpMailer) -> list:
    return [client for client, _ in mailer._idle]


def test_a_connection_is_kept_and_reused_by_the_next_batch(mailer, smtp):
    assert mailer.send_all(emails(3)) == [None] * 3
    [first] = kept(mailer)

    assert mailer.send_all(emails(2)) == [None] * 2
    assert kept(mailer) == [first] and smtp.count() == 5


def test_a_kept_connection_the_server_closed_is_replaced_and_the_email_still_goes(mailer, smtp):
    mailer.send_all(emails(1))
    [gone] = kept(mailer)
    gone.close()  # as when the server dropped it while idle

    assert mailer.send_all(emails(2)) == [None, None]
    assert kept(mailer) != [gone] and smtp.count() == 3


def test_a_connection_idle_too_long_is_closed_and_a_new_one_made(mailer, smtp, clock):
    mailer.send_all(emails(1))
    [old] = kept(mailer)
    clock.now += SmtpMailer.IDLE_SECONDS

    assert mailer.send_all(emails(1)) == [None]
    assert old.sock is None and kept(mailer) != [old] and smtp.count() == 2
