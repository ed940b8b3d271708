"""Who may call what, decided by the caller's broker user as RabbitMQ validated it: the registry's and search's own
services, each running as its own user in a vhost with every service's user made by our code."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.accounts import Principal
from contracts.errors import Forbidden
from servicekit.migrations import upgrade
from servicekit.rpc import RpcCaller, rpc
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.messaging.service import MessagingService
from services.registry.service import RegistryService
from services.search.service import SearchService
from tests.integration.test_broker_permissions import broker  # noqa: F401  (the fixture)

PRINCIPAL = Principal(
    account_id="7d0f6a8e-2f51-4b5b-9c53-0d2b1e6d5f10", email="someone@example.org", display_name="Someone"
).model_dump(mode="json")


@pytest.fixture
def as_service(broker, monkeypatch):  # noqa: F811
    """`as_service("search")` calls as the search service's user; "operator" as the vhost's administrator (guest)."""
    monkeypatch.setenv("DIASPORAHUB_BROKER_USER_PREFIX", broker.env["DIASPORAHUB_BROKER_USER_PREFIX"])
    clients = []

    def client(service: str) -> RpcClient:
        uri = broker.operator_uri if service == "operator" else broker.uri_of(service)
        clients.append(RpcClient(BusSettings(amqp_uri=uri), timeout_seconds=10))
        return clients[-1]

    yield client
    for opened in clients:
        opened.close()


@pytest.fixture
def registry(broker, container_factory, tmp_path, monkeypatch):  # noqa: F811
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    upgrade("services.registry", url)
    monkeypatch.setenv("REGISTRY_DATABASE_URL", url)
    monkeypatch.setenv("DIASPORAHUB_BROKER_USER_PREFIX", broker.env["DIASPORAHUB_BROKER_USER_PREFIX"])
    container = container_factory(RegistryService, BusSettings(amqp_uri=broker.uri_of("registry")).nameko_config())
    container.start()
    return container


@pytest.fixture
def search(broker, container_factory, tmp_path, monkeypatch):  # noqa: F811
    url = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    upgrade("services.search", url)
    monkeypatch.setenv("SEARCH_DATABASE_URL", url)
    monkeypatch.delenv("SEARCH_ELASTICSEARCH_URL", raising=False)
    monkeypatch.setenv("DIASPORAHUB_BROKER_USER_PREFIX", broker.env["DIASPORAHUB_BROKER_USER_PREFIX"])
    container = container_factory(SearchService, BusSettings(amqp_uri=broker.uri_of("search")).nameko_config())
    container.start()
    return container


@pytest.mark.parametrize(
    ("method", "rebuilders"),
    [
        ("individuals_after", ("search", "alerts")),
        ("associations_after", ("search", "messaging")),
        ("memberships_after", ("messaging",)),
    ],
)
def test_only_the_services_rebuilding_from_them_get_the_registry_s_pages(registry, as_service, method, rebuilders):
    for caller in rebuilders:
        assert as_service(caller).call("registry", method, None, 10) == []
    for caller in {"gateway", "operator", "search", "messaging", "alerts"} - set(rebuilders):
        with pytest.raises(Forbidden, match=f"registry.{method} is only for {', '.join(rebuilders)}"):
            as_service(caller).call("registry", method, None, 10)


def test_a_restricted_registry_rpc_does_not_stop_the_others(registry, as_service):
    assert as_service("gateway").call("registry", "ping") == "registry"


def test_search_takes_a_principal_only_from_the_gateway(search, as_service):
    query = {"q": "mizo"}
    assert as_service("gateway").call("search", "search_associations", query, PRINCIPAL)["total"] == 0
    assert as_service("gateway").call("search", "search_individuals", query, principal=PRINCIPAL)["total"] == 0
    for caller in ("registry", "operator"):
        with pytest.raises(Forbidden, match="takes a principal only from gateway"):
            as_service(caller).call("search", "search_associations", query, PRINCIPAL)
        with pytest.raises(Forbidden, match="takes a principal only from gateway"):
            as_service(caller).call("search", "search_individuals", query, principal=PRINCIPAL)
        # Without a principal, anyone may search as the public does.
        assert as_service(caller).call("search", "search_associations", query)["total"] == 0


def test_with_one_account_for_everything_every_caller_is_the_service_itself(
    amqp_uri, bus, container_factory, tmp_path, monkeypatch
):
    """The embedded default (guest everywhere): the guest calling is the registry's own user, so it is accepted."""
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    upgrade("services.registry", url)
    monkeypatch.setenv("REGISTRY_DATABASE_URL", url)
    container_factory(RegistryService, BusSettings(amqp_uri=amqp_uri).nameko_config()).start()

    with RpcClient(BusSettings(amqp_uri=amqp_uri), timeout_seconds=10) as guest:
        assert guest.call("registry", "individuals_after", None, 10) == []


class WhoCallsService:
    """Stands for search: tells who called, as a worker sees it."""

    name = "search"
    caller = RpcCaller()

    @rpc
    def who_calls(self) -> str | None:
        return self.caller


def test_a_worker_knows_its_validated_caller_and_no_header_can_claim_one(broker, container_factory, monkeypatch):  # noqa: F811
    prefix = broker.env["DIASPORAHUB_BROKER_USER_PREFIX"]
    monkeypatch.setenv("DIASPORAHUB_BROKER_USER_PREFIX", prefix)
    container_factory(WhoCallsService, BusSettings(amqp_uri=broker.uri_of("search")).nameko_config()).start()

    with RpcClient(BusSettings(amqp_uri=broker.uri_of("gateway")), timeout_seconds=10) as gateway:
        assert gateway.call("search", "who_calls") == f"{prefix}gateway"
    # nameko's own proxy sends no user_id; a context header claiming a caller is not believed.
    config = {"AMQP_URI": broker.operator_uri}
    with ClusterRpcProxy(config, context_data={"rpc_caller": f"{prefix}gateway"}, timeout=10) as cluster:
        assert cluster.search.who_calls() is None


def test_messaging_rebuilds_its_directory_from_the_registry_as_its_own_user(
    registry,
    broker,  # noqa: F811
    container_factory,
    tmp_path,
    monkeypatch,
    as_service,  # noqa: F811
):
    url = f"sqlite:///{tmp_path / 'messaging.sqlite3'}"
    upgrade("services.messaging", url)
    monkeypatch.setenv("MESSAGING_DATABASE_URL", url)
    monkeypatch.setenv("MESSAGING_MAIL_FOLDER", str(tmp_path / "mail"))
    monkeypatch.setenv("MESSAGING_PUBLIC_URL", "https://hub.example.org")
    container_factory(MessagingService, BusSettings(amqp_uri=broker.uri_of("messaging")).nameko_config()).start()

    assert as_service("operator").call("messaging", "rebuild_directory") == {"associations": 0, "memberships": 0}


def test_messaging_believes_who_is_asking_only_from_the_gateway(
    broker,  # noqa: F811
    container_factory,
    tmp_path,
    monkeypatch,
    as_service,
):
    url = f"sqlite:///{tmp_path / 'messaging.sqlite3'}"
    upgrade("services.messaging", url)
    monkeypatch.setenv("MESSAGING_DATABASE_URL", url)
    monkeypatch.setenv("MESSAGING_MAIL_FOLDER", str(tmp_path / "mail"))
    monkeypatch.setenv("DIASPORAHUB_BROKER_USER_PREFIX", broker.env["DIASPORAHUB_BROKER_USER_PREFIX"])
    container_factory(MessagingService, BusSettings(amqp_uri=broker.uri_of("messaging")).nameko_config()).start()
    query = {"archived": False}

    assert as_service("gateway").call("messaging", "list_conversations", PRINCIPAL, query)["items"] == []
    for caller in ("search", "registry", "operator"):
        with pytest.raises(Forbidden, match="only for gateway"):
            as_service(caller).call("messaging", "list_conversations", PRINCIPAL, query)
