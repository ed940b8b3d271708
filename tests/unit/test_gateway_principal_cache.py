"""The gateway believes the registry's answer to "who holds this token" for a few seconds, so that a client making
many calls costs one `whoami`, not one per call; a session ended through this gateway is forgotten at once."""

from uuid import uuid4

import pytest

from contracts.accounts import Principal
from contracts.errors import Unauthenticated
from gateway.auth import PrincipalCache, principal_of
from tests.unit import test_accounts_gateway
from tests.unit.test_accounts_gateway import PASSWORD, request, respond, signed_up_and_logged_in

gateway, store = test_accounts_gateway.gateway, test_accounts_gateway.store


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingRegistry:
    """A registry that knows some tokens and counts the `whoami` calls it answers."""

    def __init__(self, principals: dict[str, Principal]):
        self.principals = principals
        self.whoami_calls = 0

    def whoami(self, token: str) -> dict:
        self.whoami_calls += 1
        if token not in self.principals:
            raise Unauthenticated("Sign in first")
        return self.principals[token].model_dump(mode="json")


class Gateway:
    def __init__(self, registry: CountingRegistry, principals: PrincipalCache):
        self.registry = registry
        self.principals = principals


def someone(name: str = "lal") -> Principal:
    return Principal(account_id=uuid4(), email=f"{name}@example.org", display_name=name, is_cell_staff=False)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_principal_is_asked_for_once_within_the_cache_time_and_again_after(clock):
    lal = someone()
    registry = CountingRegistry({"lal-token": lal})
    front = Gateway(registry, PrincipalCache(5, clock=clock))

    answers = [principal_of(front, request(token="lal-token")) for _ in range(3)]
    clock.now += 5
    after = principal_of(front, request(token="lal-token"))

    assert answers == [lal, lal, lal] and after == lal
    assert registry.whoami_calls == 2


def test_a_refused_token_is_asked_about_every_time(clock):
    registry = CountingRegistry({})
    front = Gateway(registry, PrincipalCache(5, clock=clock))

    assert [principal_of(front, request(token="ended")) for _ in range(2)] == [None, None]
    assert registry.whoami_calls == 2


def test_with_no_cache_time_every_call_asks(clock):
    registry = CountingRegistry({"lal-token": someone()})
    front = Gateway(registry, PrincipalCache(0, clock=clock))

    principal_of(front, request(token="lal-token"))
    principal_of(front, request(token="lal-token"))

    assert registry.whoami_calls == 2


def test_the_least_recently_used_go_first_past_the_limit(clock):
    cache = PrincipalCache(5, max_entries=2, clock=clock)
    first, second, third = someone("a"), someone("b"), someone("c")
    cache.put("a", first)
    cache.put("b", second)
    cache.get("a")
    cache.put("c", third)

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (first, None, third)


def test_forgetting_an_account_forgets_each_of_its_sessions(clock):
    cache = PrincipalCache(5, clock=clock)
    lal, other = someone("lal"), someone("other")
    cache.put("phone", lal)
    cache.put("laptop", lal)
    cache.put("theirs", other)

    cache.forget_account(lal.account_id)

    assert (cache.get("phone"), cache.get("laptop"), cache.get("theirs")) == (None, None, other)


def test_a_session_ending_forgets_every_session_of_its_account_and_an_unknown_token_changes_nothing(clock):
    cache = PrincipalCache(5, clock=clock)
    lal, other = someone("lal"), someone("other")
    cache.put("phone", lal)
    cache.put("laptop", lal)
    cache.put("theirs", other)

    cache.forget_sessions_of("never seen")
    cache.forget_sessions_of(None)
    assert (cache.get("phone"), cache.get("laptop"), cache.get("theirs")) == (lal, lal, other)
    cache.forget_sessions_of("phone")

    assert (cache.get("phone"), cache.get("laptop"), cache.get("theirs")) == (None, None, other)


def test_logging_out_or_changing_the_password_through_the_gateway_ends_what_it_believes(gateway):
    token, _ = signed_up_and_logged_in(gateway)
    other_token, _ = signed_up_and_logged_in(gateway)
    assert principal_of(gateway, request(token=token)) is not None
    assert principal_of(gateway, request(token=other_token)) is not None

    change = {"current_password": PASSWORD, "new_password": "Thingtlang ram 2026 thar"}
    assert respond(gateway.change_password, request(body=change, token=token)).status_code == 204
    assert principal_of(gateway, request(token=other_token)) is None

    respond(gateway.log_out, request(token=token))
    assert principal_of(gateway, request(token=token)) is None
