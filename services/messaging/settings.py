"""Messaging configuration: its database, the SMTP server (or a folder of .eml files), webhooks, limits."""

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import DatabaseSettings
from services.messaging.domain import Policy

SENDER_PROCESS = "process"


class MessagingSettings(DatabaseSettings):
    """With no `MESSAGING_SMTP_HOST`, e-mails are written as .eml files to `MESSAGING_MAIL_FOLDER`."""

    model_config = SettingsConfigDict(env_prefix="MESSAGING_")

    database_url: str = "sqlite:///var/messaging.sqlite3"
    public_url: str = "http://127.0.0.1:8000"
    sender_address: str = "DiasporaHub <no-reply@diasporahub.localhost>"
    # The Cell's duty mailbox: notifications for the Cell (`notify` with `cell`) are e-mailed here as well.
    cell_email: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_tls: str = Field(default="none", pattern="^(none|starttls|tls)$")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_folder: str = "var/mail"
    allow_private_webhooks: bool = False
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    retry_window_seconds: float = Field(default=24 * 3600.0, gt=0)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    # `process`: the deliveries are sent by the messaging-sender process (services/messaging/delivery/process.py),
    # as `diasporahub run`, compose and Kubernetes set it; `service`: by a green thread of the service's process.
    delivery_sender: str = Field(default="service", pattern=f"^(service|{SENDER_PROCESS})$")
    # A sender process looks for due deliveries this often: an urgent notification waits at most this long.
    delivery_poll_seconds: float = Field(default=0.1, gt=0)
    delivery_batch: int = Field(default=200, ge=1, le=5000)
    delivery_concurrency: int = Field(default=8, ge=1, le=64)
    delivery_lease_seconds: float = Field(default=120.0, gt=0)
    idempotency_key_hours: float = Field(default=24.0, gt=0)
    posts_per_minute: int = Field(default=30, ge=1)
    broadcasts_per_hour: int = Field(default=10, ge=1)
    unsubscribe_secret: SecretStr = SecretStr("change-me: the key of the unsubscribe links")

    @field_validator("cell_email", "smtp_host", "smtp_username", "smtp_password", mode="before")
    @classmethod
    def _empty_means_unset(cls, value):
        return value or None


def policy_of(settings: MessagingSettings) -> Policy:
    return Policy(
        posts_per_minute=settings.posts_per_minute,
        broadcasts_per_hour=settings.broadcasts_per_hour,
        retry_window=timedelta(seconds=settings.retry_window_seconds),
        cell_email=settings.cell_email,
    )
