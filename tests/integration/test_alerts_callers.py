"""Who may call alerts and its notifications, decided by the caller's broker user: help requests only through the
gateway (which passes who is asking), messaging's `notify` only for alerts. Each service runs as its own user."""

import pytest
from cryptography.fernet import Fernet

from contracts.errors import Forbidden
from servicekit.migrations import upgrade
from servicekit.settings import BusSettings
from services.alerts.service import AlertsService
from services.messaging.service import MessagingService
from tests.integration.test_broker_callers import (
    PRINCIPAL,
    as_service,  # noqa: F401  (the fixture)
)
from tests.integration.test_broker_permissions import broker  # noqa: F401  (the fixture)

NOTIFICATION = {"recipients": ["7d0f6a8e-2f51-4b5b-9c53-0d2b1e6d5f10"], "kind": "help_request", "subject": "Help",
                "body": "Someone needs help", "urgency": "urgent"}  # fmt: skip


@pytest.fixture
def as_its_own_user(broker, container_factory, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DIASPORAHUB_BROKER_USER_PREFIX", broker.env["DIASPORAHUB_BROKER_USER_PREFIX"])

    def start(service_class, name: str) -> None:
        url = f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        upgrade(f"services.{name}", url)
        monkeypatch.setenv(f"{name.upper()}_DATABASE_URL", url)
        container_factory(service_class, BusSettings(amqp_uri=broker.uri_of(name)).nameko_config()).start()

    monkeypatch.setenv("MESSAGING_MAIL_FOLDER", str(tmp_path / "mail"))
    monkeypatch.setenv("ALERTS_DATA_KEYS", Fernet.generate_key().decode())
    return start


def test_only_alerts_may_have_messaging_notify_associations(as_its_own_user, as_service):  # noqa: F811
    as_its_own_user(MessagingService, "messaging")

    assert as_service("alerts").call("messaging", "notify", NOTIFICATION, "alerts")["recipients"] == 0
    for caller in ("gateway", "registry", "search", "operator"):
        with pytest.raises(Forbidden, match="messaging.notify is only for alerts"):
            as_service(caller).call("messaging", "notify", NOTIFICATION, "alerts")


def test_help_requests_are_only_for_the_gateway(as_its_own_user, as_service):  # noqa: F811
    as_its_own_user(AlertsService, "alerts")

    assert as_service("gateway").call("alerts", "list_help_requests", PRINCIPAL, {}) == {"items": []}
    for caller in ("search", "messaging", "registry", "operator"):
        with pytest.raises(Forbidden, match="alerts.list_help_requests is only for gateway"):
            as_service(caller).call("alerts", "list_help_requests", PRINCIPAL, {})
