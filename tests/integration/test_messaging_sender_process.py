"""Messaging's delivery sender as a process of its own (services/messaging/delivery/process.py), as `diasporahub run`
starts it: the service, told so, sends nothing itself; the process, with the default poll and no wake from the
service, sends a posted message's e-mail and an urgent notification to a real SMTP server, and ends cleanly on
SIGTERM."""

import os
import signal
import subprocess
import sys

import pytest
from nameko.testing.utils import get_extension

from services.catalogue import sender_environment, service
from services.messaging.delivery.sender import DeliverySender
from tests.integration import test_messaging_service
from tests.integration.test_messaging_service import admin_of, wait_until

smtp = test_messaging_service.smtp
messaging_env = test_messaging_service.messaging_env
rpc = test_messaging_service.rpc
messaging = test_messaging_service.messaging
directory = test_messaging_service.directory

SENDS_WITHIN_SECONDS = 30  # how long the test waits at most, not a bound it checks


@pytest.fixture
def sender_process(messaging_env, monkeypatch):
    """The sender process on the service's database and SMTP server, polling as it does by default; the service,
    started after this, is told that the sender runs apart."""
    for variable, value in sender_environment().items():
        monkeypatch.setenv(variable, value)
    environment = dict(os.environ)
    environment.pop("MESSAGING_DELIVERY_POLL_SECONDS")
    process = subprocess.Popen([sys.executable, "-m", *service("messaging").sender_arguments()], env=environment)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_the_sender_process_sends_posts_and_urgent_notifications_and_the_service_sends_nothing_itself(
    sender_process, messaging, rpc, directory, smtp
):
    a, b = admin_of(directory["a"]), admin_of(directory["b"])
    rpc("start_conversation", a, {"from_association_id": str(directory["a"]), "participants": [str(directory["b"])],
                                  "subject": "Joint event", "body": "Shall we meet in March?"})  # fmt: skip
    wait_until(lambda: smtp.count() >= 1, SENDS_WITHIN_SECONDS)
    rpc("put_notification_settings", b, str(directory["b"]), {"email_mode": "digest"})
    rpc("notify", {"recipients": [str(directory["b"])], "kind": "alert", "subject": "Flood", "body": "Move uphill",
                   "urgency": "urgent"}, "alerts")  # fmt: skip
    wait_until(lambda: smtp.count() >= 2, SENDS_WITHIN_SECONDS)
    sender_process.send_signal(signal.SIGTERM)
    exit_code = sender_process.wait(30)

    posted, urgent = sorted(smtp.messages(), key=lambda email: "Flood" in email["Subject"])
    assert get_extension(messaging, DeliverySender).rounds is None
    assert posted["To"] == "b@example.org" and "Joint event" in posted["Subject"]
    assert urgent["To"] == "b@example.org" and urgent["Subject"] == "[DiasporaHub] Flood"
    assert exit_code == 0
