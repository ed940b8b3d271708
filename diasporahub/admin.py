"""`diasporahub admin create --email …`: a Mizo Diaspora Cell account (role cell_staff) in the registry database.

The password is read from a hidden prompt, or from standard input when that is not a terminal
(`printf '%s\\n' "$PASSWORD" | diasporahub admin create --email …`). It is never an argument: arguments
end up in shell history and in every process list.
"""

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TextIO

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import sessionmaker

from contracts.accounts import MIN_PASSWORD_LENGTH, AccountV1, SignUp
from contracts.errors import Conflict
from contracts.validation import InvalidPayload, parse
from servicekit.database import UnitOfWork, create_database_engine
from services.registry.accounts import handlers
from services.registry.accounts.domain import normalized_email
from services.registry.accounts.passwords import Argon2Passwords
from services.registry.accounts.repository import AccountRepository
from services.registry.db import Base
from services.registry.settings import RegistrySettings

PROG = "diasporahub admin"
NO_PASSWORD_ARGUMENT = (
    "there is no password option: a password given as an argument ends up in shell history and process lists. "
    "Type it at the prompt, or send it on standard input."
)


class PasswordsDiffer(Exception):
    """The password typed twice at the prompt was not the same."""


def read_password(stdin: TextIO) -> str:
    """Twice at a hidden prompt on a terminal; otherwise the first line of standard input."""
    if stdin.isatty():
        password = getpass.getpass(f"Password (at least {MIN_PASSWORD_LENGTH} characters): ")
        if getpass.getpass("The same password again: ") != password:
            raise PasswordsDiffer("the two passwords differ; nothing was created")
        return password
    return stdin.readline().rstrip("\r\n")


def registry_unit_of_work(engine: Engine) -> Callable[[], UnitOfWork]:
    return partial(
        UnitOfWork,
        sessionmaker(engine, expire_on_commit=False),
        Base.metadata,
        repositories={"accounts": AccountRepository},
    )


def create_cell_account(*, unit_of_work: Callable[[], UnitOfWork], draft: SignUp) -> AccountV1:
    """Raises Conflict if the e-mail address is taken."""
    return handlers.sign_up(
        unit_of_work=unit_of_work,
        passwords=Argon2Passwords(),
        draft=draft,
        now=datetime.now(UTC),
        is_cell_staff=True,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Look after DiasporaHub's accounts.", allow_abbrev=False)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser(
        "create",
        help="create a Mizo Diaspora Cell account (role cell_staff)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    create.add_argument("--email", required=True, help="the account's e-mail address, used to sign in")
    create.add_argument("--display-name", default="Mizo Diaspora Cell", help="the name others see")
    return parser


def main(argv: list[str] | None = None) -> int:
    """`argv` is what follows `diasporahub admin`, e.g. ["create", "--email", "cell@mizoram.gov.in"]."""
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    if any(word.split("=")[0] in ("--password", "--pass", "-p") for word in argv):
        parser.error(NO_PASSWORD_ARGUMENT)
    args = parser.parse_args(argv)
    database_url = RegistrySettings().database_url
    engine = create_database_engine(database_url)
    try:
        return _create(registry_unit_of_work(engine), email=args.email, display_name=args.display_name)
    except (OperationalError, ProgrammingError):
        shown = make_url(database_url).render_as_string(hide_password=True)
        return _fail(f"the registry database at {shown} is not ready; run `diasporahub prepare` first")
    finally:
        engine.dispose()


def _create(unit_of_work: Callable[[], UnitOfWork], *, email: str, display_name: str) -> int:
    taken = f"an account with the e-mail address {email} already exists; nothing was created"
    with unit_of_work() as work:  # before asking for a password that could not be used
        if work.accounts.get_by_email(normalized_email(email)) is not None:
            return _fail(taken)
    try:
        password = read_password(sys.stdin)
        draft = parse(SignUp, {"email": email, "password": password, "display_name": display_name})
        account = create_cell_account(unit_of_work=unit_of_work, draft=draft)
    except PasswordsDiffer as exc:
        return _fail(str(exc))
    except InvalidPayload as exc:
        problems = "; ".join(f"{problem['field']}: {problem['problem']}" for problem in exc.problems)
        return _fail(f"{problems}; nothing was created")
    except Conflict:
        return _fail(taken)
    print(f"Created the Cell account {account.email} ({account.id}); it signs in at /api/v1/auth/login.")
    return 0


def _fail(message: str) -> int:
    print(f"{PROG} create: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
