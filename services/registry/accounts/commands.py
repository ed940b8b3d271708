"""The registry's operator commands on accounts, run on the registry's host (`diasporahub admin create`,
`diasporahub admin reset-second-factor`).

Creating a Mizo Diaspora Cell account is deliberately not an RPC: nobody is signed in yet to authorize it
(the first Cell account is made this way), and the registry's own code writes its database.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import sessionmaker

from contracts.accounts import AccountV1, SignUp
from contracts.errors import Conflict, NotFound
from contracts.validation import parse
from servicekit.database import UnitOfWork, create_database_engine
from services.registry.accounts import handlers
from services.registry.accounts.domain import normalized_email
from services.registry.accounts.passwords import Argon2Passwords
from services.registry.accounts.repository import AccountRepository
from services.registry.db import Base
from services.registry.settings import RegistrySettings

HOW_TO_ENROL = """\
Before anything else the account sets up its second factor (an authenticator app such as FreeOTP or Aegis):
  1. sign in: POST /api/v1/auth/login {"email", "password"}; that session may only enrol;
  2. POST /api/v1/auth/second-factor/enrolment: the secret and its otpauth:// URI, shown once; add it to the app;
  3. POST /api/v1/auth/second-factor/confirmation {"code": "<the six digits the app shows>"}: the answer holds
     ten recovery codes, shown once; keep them offline.
From then on it signs in with {"email", "password", "code"}; a recovery code may stand in for the app's code, once."""


class RegistryNotReady(Exception):
    """The registry's database does not answer or has no tables yet (`diasporahub prepare` makes them)."""

    def __init__(self, shown_url: str):
        super().__init__(f"the registry database at {shown_url} is not ready")
        self.shown_url = shown_url


@contextmanager
def _registry_units_of_work(database_url: str | None) -> Iterator[Callable[[], UnitOfWork]]:
    """Units of work on the registry's database (REGISTRY_DATABASE_URL unless `database_url` is given); a database
    that does not answer or has no tables is RegistryNotReady."""
    database_url = database_url or RegistrySettings().database_url
    engine = create_database_engine(database_url)
    try:
        yield partial(
            UnitOfWork,
            sessionmaker(engine, expire_on_commit=False),
            Base.metadata,
            repositories={"accounts": AccountRepository},
        )
    except (OperationalError, ProgrammingError):
        raise RegistryNotReady(make_url(database_url).render_as_string(hide_password=True)) from None
    finally:
        engine.dispose()


def create_cell_staff(
    *,
    email: str,
    display_name: str,
    read_password: Callable[[], str],
    database_url: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AccountV1:
    """A Cell staff account in the registry's database (REGISTRY_DATABASE_URL unless `database_url` is given).

    `read_password` is called only once the e-mail address is known to be free, so nobody types a password
    that could not be used; whatever it raises is raised. Raises Conflict if the address is taken,
    InvalidPayload (from contracts.validation) if a field is invalid, RegistryNotReady if the database is not.
    """
    with _registry_units_of_work(database_url) as unit_of_work:
        with unit_of_work() as work:
            if work.accounts.get_by_email(normalized_email(email)) is not None:
                raise Conflict(f"An account with the e-mail address {email} already exists.")
        draft = parse(SignUp, {"email": email, "password": read_password(), "display_name": display_name})
        return handlers.sign_up(
            unit_of_work=unit_of_work,
            passwords=Argon2Passwords(),
            draft=draft,
            now=clock(),
            is_cell_staff=True,
        )


def reset_second_factor(
    *, email: str, database_url: str | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> AccountV1:
    """For Cell staff who lost both their authenticator and their recovery codes (the operator makes sure who is
    asking first): the secret and the recovery codes go and every session of the account ends, so its next
    sign-in, with the password alone, may only enrol again. Raises NotFound if no Cell account has the address."""
    with _registry_units_of_work(database_url) as unit_of_work, unit_of_work() as work:
        account = work.accounts.get_by_email(normalized_email(email))
        if account is None or not account.is_cell_staff:
            raise NotFound(f"No Cell staff account has the e-mail address {email}.")
        work.accounts.reset_second_factor(account.id)
        work.accounts.revoke_sessions(account.id, clock())
    return account.public()
