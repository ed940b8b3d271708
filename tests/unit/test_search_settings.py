"""The embedded engine needs SQLite: an operator who points SEARCH_DATABASE_URL at PostgreSQL is told so in one line,
before any SQL runs."""

import pytest

from servicekit.migrations import upgrade
from services.search import maintenance
from services.search.embedded.engine import EmbeddedEngine
from services.search.settings import EmbeddedEngineNeedsSQLite

POSTGRES = "postgresql+psycopg2://diasporahub:secret@db.invalid:5432/search"


def test_preparing_the_search_database_on_postgresql_says_what_to_do_in_one_line():
    with pytest.raises(SystemExit) as exit_:
        upgrade("services.search", POSTGRES)

    message = str(exit_.value.code)
    assert "\n" not in message
    assert message.startswith("diasporahub: SEARCH_DATABASE_URL is a postgresql URL")
    assert "the embedded search engine keeps its index in SQLite" in message
    assert "in production, search with Elasticsearch 8 by setting SEARCH_ELASTICSEARCH_URL" in message


def test_the_embedded_engine_refuses_postgresql_with_the_same_message():
    with pytest.raises(EmbeddedEngineNeedsSQLite, match="keeps its index in SQLite"):
        EmbeddedEngine(POSTGRES)


def test_search_reindex_on_postgresql_says_the_same_and_stops(monkeypatch, capsys):
    monkeypatch.setenv("SEARCH_DATABASE_URL", POSTGRES)

    assert maintenance.main(["reindex"]) == 2

    assert "keeps its index in SQLite" in capsys.readouterr().err
