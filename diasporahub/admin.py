"""`diasporahub admin create --email …`: a Mizo Diaspora Cell account (role cell_staff) in the registry database.

The registry makes it (services/registry/accounts/commands.py); this command asks for the password.

The password is read from a hidden prompt, or from standard input when that is not a terminal
(`printf '%s\\n' "$PASSWORD" | diasporahub admin create --email …`). It is never an argument: arguments
end up in shell history and in every process list.
"""

import argparse
import getpass
import sys
from typing import TextIO

from contracts.accounts import MIN_PASSWORD_LENGTH

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
    reset = commands.add_parser(
        "reset-second-factor",
        help="a Cell account that lost its authenticator and recovery codes enrols again at its next sign-in",
        allow_abbrev=False,
    )
    reset.add_argument("--email", required=True, help="the Cell account's e-mail address")
    return parser


def main(argv: list[str] | None = None) -> int:
    """`argv` is what follows `diasporahub admin`, e.g. ["create", "--email", "cell@mizoram.gov.in"]."""
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    if any(word.split("=")[0] in ("--password", "--pass", "-p") for word in argv):
        parser.error(NO_PASSWORD_ARGUMENT)
    args = parser.parse_args(argv)
    if args.command == "reset-second-factor":
        return _reset_second_factor(email=args.email)
    return _create(email=args.email, display_name=args.display_name)


def _create(*, email: str, display_name: str) -> int:
    from contracts.errors import Conflict
    from contracts.validation import InvalidPayload
    from services.registry.accounts.commands import HOW_TO_ENROL, RegistryNotReady, create_cell_staff

    try:
        account = create_cell_staff(
            email=email, display_name=display_name, read_password=lambda: read_password(sys.stdin)
        )
    except RegistryNotReady as exc:
        return _fail(f"{exc}; run `diasporahub prepare` first")
    except Conflict:
        return _fail(f"an account with the e-mail address {email} already exists; nothing was created")
    except PasswordsDiffer as exc:
        return _fail(str(exc))
    except InvalidPayload as exc:
        problems = "; ".join(f"{problem['field']}: {problem['problem']}" for problem in exc.problems)
        return _fail(f"{problems}; nothing was created")
    print(f"Created the Cell account {account.email} ({account.id}).")
    print(HOW_TO_ENROL)
    return 0


def _reset_second_factor(*, email: str) -> int:
    from contracts.errors import NotFound
    from services.registry.accounts.commands import HOW_TO_ENROL, RegistryNotReady, reset_second_factor

    try:
        account = reset_second_factor(email=email)
    except RegistryNotReady as exc:
        return _fail(f"{exc}; run `diasporahub prepare` first", command="reset-second-factor")
    except NotFound as exc:
        return _fail(str(exc), command="reset-second-factor")
    print(f"The second factor of {account.email} is gone and its sessions have ended.")
    print(HOW_TO_ENROL)
    return 0


def _fail(message: str, *, command: str = "create") -> int:
    print(f"{PROG} {command}: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
