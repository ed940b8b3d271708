"""`diasporahub admin create`: the first Cell account, on SQLite and PostgreSQL; never a password argument."""

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, update

from contracts.errors import Conflict
from diasporahub import admin
from servicekit.database import create_database_engine
from services.registry.accounts.commands import RegistryNotReady, create_cell_staff
from services.registry.db import AccountRecord, Base, RecoveryCodeRecord, SessionRecord

PASSWORD = "Mizoram Cell 2026"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def registry_url(database_url, monkeypatch):
    engine = create_database_engine(database_url)
    Base.metadata.create_all(engine)  # until the registry's migration for accounts exists
    engine.dispose()
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    return database_url


def accounts(database_url) -> list[AccountRecord]:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(AccountRecord)).all())
    finally:
        engine.dispose()


def create(monkeypatch, stdin: io.StringIO, *arguments: str) -> int:
    monkeypatch.setattr("sys.stdin", stdin)
    return admin.main(["create", *arguments])


def test_a_password_piped_on_stdin_makes_a_cell_staff_account(registry_url, monkeypatch, capsys):
    status = create(monkeypatch, io.StringIO(f"{PASSWORD}\n"), "--email", "Cell@Mizoram.example.org")

    assert status == 0
    [account] = accounts(registry_url)
    assert account.email == "cell@mizoram.example.org"
    assert account.is_cell_staff is True
    assert account.display_name == "Mizo Diaspora Cell"
    assert account.password_hash.startswith("$argon2id$")
    output = capsys.readouterr()
    assert "Created the Cell account cell@mizoram.example.org" in output.out
    assert PASSWORD not in output.out + output.err


def test_on_a_terminal_the_password_is_asked_twice_at_a_hidden_prompt(registry_url, monkeypatch):
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or PASSWORD)

    status = create(monkeypatch, Terminal(), "--email", "cell@mizoram.example.org", "--display-name", "Pu Lala")

    assert status == 0
    assert len(prompts) == 2
    [account] = accounts(registry_url)
    assert account.display_name == "Pu Lala"


def test_two_different_passwords_at_the_prompt_create_nothing(registry_url, monkeypatch, capsys):
    typed = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))

    assert create(monkeypatch, Terminal(), "--email", "cell@mizoram.example.org") == 1

    assert "the two passwords differ" in capsys.readouterr().err
    assert accounts(registry_url) == []


def test_a_short_password_is_refused_with_a_clear_message(registry_url, monkeypatch, capsys):
    status = create(monkeypatch, io.StringIO("too short\n"), "--email", "cell@mizoram.example.org")

    assert status == 1
    assert capsys.readouterr().err == (
        "diasporahub admin create: password: must be at least 12 characters long; nothing was created\n"
    )
    assert accounts(registry_url) == []


def test_an_existing_email_is_refused_before_asking_for_a_password(registry_url, monkeypatch, capsys):
    create(monkeypatch, io.StringIO(f"{PASSWORD}\n"), "--email", "cell@mizoram.example.org")
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail("asked for a password"))

    status = create(monkeypatch, Terminal(), "--email", "CELL@mizoram.example.org")

    assert status == 1
    assert "an account with the e-mail address CELL@mizoram.example.org already exists" in capsys.readouterr().err
    assert len(accounts(registry_url)) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        ["--password", PASSWORD],
        [f"--password={PASSWORD}"],
        ["--pass", PASSWORD],
        ["-p", PASSWORD],
    ],
)
def test_a_password_given_as_an_argument_is_refused_and_creates_nothing(registry_url, monkeypatch, capsys, arguments):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))

    with pytest.raises(SystemExit) as exited:
        admin.main(["create", "--email", "cell@mizoram.example.org", *arguments])

    assert exited.value.code == 2
    assert "there is no password option" in capsys.readouterr().err
    assert accounts(registry_url) == []


def test_the_create_command_has_no_password_option(capsys):
    with pytest.raises(SystemExit):
        admin.main(["create", "--help"])

    usage = capsys.readouterr().out
    assert "--email" in usage
    assert "--display-name" in usage
    assert "--password" not in usage
    assert "never an argument" in usage


def test_a_database_without_the_registry_tables_says_to_run_prepare(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    assert create(monkeypatch, io.StringIO(f"{PASSWORD}\n"), "--email", "cell@mizoram.example.org") == 1

    assert "run `diasporahub prepare` first" in capsys.readouterr().err


# The registry's command module that `diasporahub admin create` dispatches to


def test_the_registry_command_creates_cell_staff_at_the_given_time(database_url):
    engine = create_database_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    created_at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    account = create_cell_staff(
        email="Cell@Mizoram.example.org",
        display_name="Mizo Diaspora Cell",
        read_password=lambda: PASSWORD,
        database_url=database_url,
        clock=lambda: created_at,
    )

    assert (account.email, account.is_cell_staff, account.created_at) == ("cell@mizoram.example.org", True, created_at)
    with pytest.raises(Conflict):
        create_cell_staff(
            email="cell@mizoram.example.org",
            display_name="Someone else",
            read_password=lambda: pytest.fail("asked for a password"),
            database_url=database_url,
        )
    assert len(accounts(database_url)) == 1


def test_the_registry_command_says_when_its_database_is_not_ready(tmp_path):
    with pytest.raises(RegistryNotReady, match="empty.sqlite3"):
        create_cell_staff(
            email="cell@mizoram.example.org",
            display_name="Mizo Diaspora Cell",
            read_password=lambda: PASSWORD,
            database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        )


def test_reset_second_factor_makes_a_cell_account_enrol_again_and_ends_its_sessions(registry_url, monkeypatch, capsys):
    create(monkeypatch, io.StringIO(f"{PASSWORD}\n"), "--email", "cell@mizoram.example.org")
    engine = create_database_engine(registry_url)
    with engine.begin() as connection:
        [account_id] = connection.execute(select(AccountRecord.id)).scalars()
        connection.execute(update(AccountRecord).values(totp_secret="A" * 32, totp_confirmed_at=NOW, totp_last_step=1))
        connection.execute(insert(RecoveryCodeRecord).values(code_hash="0" * 64, account_id=account_id, created_at=NOW))
        connection.execute(
            insert(SessionRecord).values(token_hash="1" * 64, account_id=account_id, created_at=NOW, expires_at=NOW)
        )

    assert admin.main(["reset-second-factor", "--email", "Cell@Mizoram.example.org"]) == 0

    with engine.connect() as connection:
        account = connection.execute(select(AccountRecord)).one()
        assert connection.execute(select(RecoveryCodeRecord)).all() == []
        assert connection.execute(select(SessionRecord.revoked_at)).scalar_one() is not None
    engine.dispose()
    assert (account.totp_secret, account.totp_confirmed_at, account.totp_last_step) == (None, None, None)
    assert "POST /api/v1/auth/second-factor/enrolment" in capsys.readouterr().out


def test_reset_second_factor_of_an_unknown_address_says_so(registry_url, capsys):
    assert admin.main(["reset-second-factor", "--email", "nobody@mizoram.example.org"]) == 1
    assert "No Cell staff account has the e-mail address nobody@mizoram.example.org" in capsys.readouterr().err
