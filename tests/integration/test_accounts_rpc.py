"""The account RPCs in a running nameko container on the test vhost: real argon2 in the thread pool, errors as types."""

import pytest

from contracts.errors import Conflict, Invalid, TooManyAttempts, Unauthenticated
from servicekit.database import Database, create_database_engine
from servicekit.rpc import call_service
from servicekit.settings import BusSettings
from services.registry.accounts.entrypoints import AccountEntrypoints
from services.registry.accounts.repository import AccountRepository
from services.registry.db import Base
from services.registry.settings import RegistrySettings

PASSWORD = "Thingtlang ram 2025"
CREDENTIALS = {"email": "lalremruata@example.org", "password": PASSWORD}


class AccountService(AccountEntrypoints):
    name = "registry"
    unit_of_work = Database(RegistrySettings, Base.metadata, repositories={"accounts": AccountRepository})


@pytest.fixture
def registry(nameko_config, amqp_uri, container_factory, tmp_path, monkeypatch):
    database_url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    engine = create_database_engine(database_url)
    Base.metadata.create_all(engine)  # until the registry's migration for accounts exists
    engine.dispose()
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    container_factory(AccountService, nameko_config).start()

    def call(method: str, *args):
        return call_service(BusSettings(amqp_uri=amqp_uri), "registry", method, *args, timeout_seconds=10)

    return call


def test_sign_up_log_in_whoami_and_log_out_over_rpc(registry):
    account = registry("sign_up", CREDENTIALS | {"display_name": "Lalremruata"})
    session = registry("log_in", CREDENTIALS, "203.0.113.7")

    assert registry("whoami", session["token"])["account_id"] == account["id"]
    registry("log_out", session["token"])
    with pytest.raises(Unauthenticated):
        registry("whoami", session["token"])


def test_each_refusal_crosses_rpc_as_its_own_class(registry):
    registry("sign_up", CREDENTIALS | {"display_name": "Lalremruata"})

    with pytest.raises(Conflict):
        registry("sign_up", CREDENTIALS | {"display_name": "Lalremruata"})
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            registry("log_in", {**CREDENTIALS, "password": "not the password"}, "203.0.113.7")
    with pytest.raises(TooManyAttempts, match="Try again in 15 minutes"):
        registry("log_in", CREDENTIALS, "203.0.113.7")


def test_an_invalid_payload_crosses_rpc_as_invalid(registry):
    """Needs InvalidPayload registered with nameko's deserialize_to_instance, as EXPECTED_ERRORS are."""
    with pytest.raises(Invalid, match="password: must be at least 12 characters long"):
        registry("sign_up", {**CREDENTIALS, "password": "short", "display_name": "Lal"})
