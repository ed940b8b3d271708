"""How deliveries leave: SMTP (or .eml files in a folder when no SMTP host is set) and signed webhooks.

Webhooks follow the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature, signed
with the `standardwebhooks` package); a URL that resolves to a private, loopback, link-local or reserved address
is refused unless the operator allows it (MESSAGING_ALLOW_PRIVATE_WEBHOOKS), checked when set and before each send.
"""

import base64
import contextlib
import http.client
import ipaddress
import json
import secrets
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from contracts.errors import Invalid


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_unsubscribe_key() -> str:
    return secrets.token_urlsafe(24)


def check_webhook_url(url: str, *, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("webhook_url: must be an http or https URL with a host")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        raise Invalid(f"webhook_url: the host {parts.hostname!r} does not resolve") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise Invalid(f"webhook_url: {parts.hostname} is a private or loopback address ({ip}); refused")


class SmtpMailer:
    """Connections are kept open between calls of `send_all` (one per concurrent call, at most `IDLE_SECONDS` idle),
    so an urgent notification's e-mails do not each wait for a TCP, TLS and AUTH handshake. A kept connection the
    server closed meanwhile is replaced once, for the e-mail that found it closed; other failures are per message."""

    IDLE_SECONDS = 30.0

    def __init__(self, settings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.clock = clock
        self._idle: list[tuple[smtplib.SMTP, float]] = []

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_tls == "tls":
            client = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                      context=ssl.create_default_context())  # fmt: skip
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            if s.smtp_tls == "starttls":
                client.starttls(context=ssl.create_default_context())
        if s.smtp_username:
            client.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
        return client

    def _kept(self) -> smtplib.SMTP | None:
        """A connection left open by an earlier call, unless it idled too long (then it is closed)."""
        while self._idle:
            client, since = self._idle.pop()
            if self.clock() - since < self.IDLE_SECONDS:
                return client
            client.close()  # no QUIT: a server that went quiet must not hold up an urgent batch
        return None

    def send_all(self, emails: list) -> list[str | None]:
        results: list[str | None] = []
        client = self._kept()
        reused = client is not None
        for email in emails:
            try:
                if client is None:
                    client, reused = self._connect(), False
                try:
                    client.sendmail(email.sender, [email.recipient], email.data)
                except smtplib.SMTPServerDisconnected:
                    if not reused:
                        raise
                    _quit(client)  # the server closed the kept connection: once more on a new one
                    client, reused = self._connect(), False
                    client.sendmail(email.sender, [email.recipient], email.data)
                results.append(None)
            except (OSError, smtplib.SMTPException, ValueError) as exc:  # ValueError: an address smtplib can't encode
                results.append(f"smtp: {exc!r}"[:500])
                if client is not None:
                    _quit(client)
                client = None
        if client is not None:
            self._idle.append((client, self.clock()))
        return results

    def close(self) -> None:
        """At stop: the sockets are closed without a QUIT, which could wait for a silent server."""
        while self._idle:
            self._idle.pop()[0].close()


def _quit(client: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        client.quit()


class FolderMailer:
    """The embedded default: each e-mail is one .eml file, named by its delivery, in MESSAGING_MAIL_FOLDER."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def send_all(self, emails: list) -> list[str | None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        results: list[str | None] = []
        for email in emails:
            try:
                target = self.folder / f"{email.delivery_id}.eml"
                partial = target.with_suffix(".eml.partial")
                partial.write_bytes(email.data)
                partial.replace(target)
                results.append(None)
            except OSError as exc:
                results.append(f"folder: {exc!r}"[:500])
        return results


def webhook_payload(outgoing) -> str:
    return json.dumps(
        {
            "type": f"{outgoing.kind}.received",
            "timestamp": outgoing.posted_at.isoformat(),
            "data": {
                "message_id": str(outgoing.message_id),
                "recipient": outgoing.recipient,
                "subject": outgoing.subject,
                "sender": outgoing.sender_name,
                "body": outgoing.body,
                "html": outgoing.html,
                "reference": outgoing.reference,
            },
        },
        ensure_ascii=False,
    )


def post_webhook(outgoing, *, allow_private: bool, timeout_seconds: float) -> str | None:
    """None when the receiver answered 2xx; otherwise why not. No redirect is followed."""
    try:
        check_webhook_url(outgoing.webhook_url, allow_private=allow_private)
    except Invalid as exc:
        return str(exc)
    payload = webhook_payload(outgoing)
    webhook_id = str(outgoing.delivery_id)
    now = datetime.now(UTC)
    signature = Webhook(outgoing.webhook_secret).sign(webhook_id, now, payload)
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "user-agent": "DiasporaHub-Webhooks/1",
    }
    parts = urlsplit(outgoing.webhook_url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.hostname, parts.port, timeout=timeout_seconds)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=payload.encode(), headers=headers)
        response = connection.getresponse()
        response.read(65536)
        if 200 <= response.status < 300:
            return None
        return f"webhook: the receiver answered {response.status}"
    except (OSError, http.client.HTTPException) as exc:
        return f"webhook: {exc!r}"[:500]
    finally:
        connection.close()
