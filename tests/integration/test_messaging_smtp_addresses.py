"""An address smtplib cannot put in an SMTP command (non-ASCII, without SMTPUTF8) fails its own e-mail only; it
used to raise out of the mailer and leave its whole batch unsettled, so the batch's other e-mails went out again
once the lease ran out."""

from services.messaging.delivery.transports import SmtpMailer
from services.messaging.settings import MessagingSettings
from tests.messaging_servers import SmtpServer


class Composed:
    def __init__(self, recipient: str):
        self.sender, self.recipient = "no-reply@diasporahub.example", recipient
        self.data = f"To: {recipient}\r\nSubject: Hello\r\n\r\nHello.\r\n".encode()


def test_an_address_smtplib_cannot_encode_fails_alone(tmp_path):
    with SmtpServer(tmp_path / "maildir") as smtp:
        mailer = SmtpMailer(MessagingSettings(smtp_host="127.0.0.1", smtp_port=smtp.port))
        results = mailer.send_all([Composed("a@example.org"), Composed("zoramthanga@mîzo.example"),
                                   Composed("b@example.org")])  # fmt: skip
        mailer.close()
        received = sorted(message["To"] for message in smtp.messages())

    assert results[0] is None and results[2] is None
    assert results[1].startswith("smtp: UnicodeEncodeError")
    assert received == ["a@example.org", "b@example.org"]
