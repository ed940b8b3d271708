"""The whole system, started the way `diasporahub run` starts it, on the session's vhost and databases."""

import subprocess
import sys
import uuid

import pyotp
import pytest
import requests
from sqlalchemy import create_engine, func, select

from services.registry.db import AssociationRecord
from tests.e2e.running import running_system


@pytest.fixture(scope="package")
def registry_database_url(postgres_databases):
    return postgres_databases.create()


@pytest.fixture(scope="package")
def system(rabbit_vhosts, registry_database_url, tmp_path_factory):
    home = tmp_path_factory.mktemp("system")
    settings = {
        "REGISTRY_DATABASE_URL": registry_database_url,
        "MESSAGING_DATABASE_URL": f"sqlite:///{home / 'messaging.sqlite3'}",
        "ALERTS_DATABASE_URL": f"sqlite:///{home / 'alerts.sqlite3'}",
        "MESSAGING_BROADCASTS_PER_HOUR": "1000",
        # The webhook receivers of the tests listen on 127.0.0.1; failed sends give up within seconds.
        "MESSAGING_ALLOW_PRIVATE_WEBHOOKS": "true",
        "MESSAGING_RETRY_BASE_SECONDS": "0.2",
        "MESSAGING_RETRY_MAX_SECONDS": "0.4",
        "MESSAGING_RETRY_WINDOW_SECONDS": "2",
        "MESSAGING_DELIVERY_POLL_SECONDS": "0.2",
        # The tests stand as a reverse proxy on 127.0.0.1, so the throttling tests can speak from addresses of
        # their own (X-Forwarded-For) instead of locking out 127.0.0.1.
        "GATEWAY_TRUSTED_PROXIES": "127.0.0.1",
        # Every test signs people up from 127.0.0.1; the per-address sign-up throttle is tested in the registry's
        # unit tests; test_auth_api checks that the gateway gives the registry the client address.
        "REGISTRY_SIGN_UPS_PER_ADDRESS": "10000",
        # As for sign-ups: every test raises help requests from 127.0.0.1 (the throttle is tested in the unit tests).
        "ALERTS_REQUESTS_PER_HOUR_PER_ADDRESS": "10000",
        "ALERTS_REQUESTS_PER_HOUR_PER_ACCOUNT": "1000",
        # Only `future` requests escalate within a test (tests/e2e/test_alerts_api.py); the others wait as deployed.
        "ALERTS_FUTURE_DEADLINE_MINUTES": "0.1",
        # Anonymous reads kept by the gateway must be forgotten by the registry's events, not by time running out.
        "GATEWAY_PUBLIC_READ_CACHE_SECONDS": "60",
    }
    # Each service runs as its own broker user, as in production (tests/e2e/running.py).
    with running_system(rabbit_vhosts, home, settings) as running:
        yield running


@pytest.fixture
def api(system):
    return system.url


@pytest.fixture
def stored_association_count(registry_database_url):
    engine = create_engine(registry_database_url)

    def count() -> int:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(AssociationRecord)).scalar_one()

    yield count
    engine.dispose()


class Person:
    """A signed-up, signed-in account, talking to the API with its bearer token."""

    def __init__(self, api: str, email: str, password: str = "correct horse battery staple", code: str | None = None):
        self.api = api
        self.email = email
        self.password = password
        signed_up = requests.post(
            f"{api}/api/v1/auth/signup",
            json={"email": email, "password": password, "display_name": email.split("@")[0]},
            timeout=10,
        )
        assert signed_up.status_code in (201, 409), signed_up.text
        credentials = {"email": email, "password": password} | ({"code": code} if code else {})
        logged_in = requests.post(f"{api}/api/v1/auth/login", json=credentials, timeout=10)
        assert logged_in.status_code == 200, logged_in.text
        self.headers = {"Authorization": f"Bearer {logged_in.json()['token']}"}

    def another_session(self) -> "Person":
        """The same account signed in again, with a session of its own."""
        return Person(self.api, self.email, self.password)

    def request(self, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        headers = self.headers | (headers or {})
        return requests.request(method, f"{self.api}{path}", headers=headers, timeout=30, **kwargs)

    def register_association(self, **fields) -> dict:
        body = {
            "name": "Mizo Welfare Association Dubai",
            "country": "AE",
            "city": "Dubai",
            "languages": ["lus", "en"],
            "email": "mwa.dubai@example.org",
        } | fields
        answer = self.request("POST", "/api/v1/associations", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()


@pytest.fixture
def person(api):
    """A new account for each call: person() signs up someone new."""
    return lambda: Person(api, f"member-{uuid.uuid4().hex[:10]}@example.org")


@pytest.fixture(scope="package")
def cell_staff(system):
    """A Mizo Diaspora Cell account, made the way an operator makes it: `diasporahub admin create`."""
    return new_cell_staff(system)


class CellStaff(Person):
    """A Cell account signed in with its second factor: enrolled as `diasporahub admin create` tells, its
    authenticator app played by pyotp (`authenticator.now()` is the code the app shows)."""

    def __init__(self, api: str, email: str, password: str):
        super().__init__(api, email, password)
        started = self.request("POST", "/api/v1/auth/second-factor/enrolment")
        assert started.status_code == 200, started.text
        self.authenticator = pyotp.TOTP(started.json()["secret"])
        self.enrolment_code = self.authenticator.now()
        confirmed = self.request("POST", "/api/v1/auth/second-factor/confirmation", json={"code": self.enrolment_code})
        assert confirmed.status_code == 200, confirmed.text
        self.recovery_codes: list[str] = confirmed.json()["recovery_codes"]

    def another_session(self) -> Person:
        """Signed in again with a recovery code: the app's code of this half-minute may have been used already."""
        return Person(self.api, self.email, self.password, code=self.recovery_codes.pop())


def new_cell_staff(system) -> CellStaff:
    email, password = f"cell-{uuid.uuid4().hex[:8]}@mizoram.gov.in", "a long Cell staff password"
    created = subprocess.run(
        [sys.executable, "-m", "diasporahub.cli", "admin", "create", "--email", email],
        input=f"{password}\n",
        text=True,
        capture_output=True,
        env=system.env,
    )
    assert created.returncode == 0, created.stderr
    return CellStaff(system.url, email, password)
