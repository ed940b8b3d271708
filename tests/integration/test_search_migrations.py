"""0004 makes the embedded engine's full text of individuals split as services.search.text splits words: people
indexed before it are found afterwards by their own spelling, in any script, without a reindex."""

import json
from uuid import uuid4

import sqlalchemy as sa
from alembic import command

from contracts.search import IndividualQuery
from contracts.text import fold
from servicekit.migrations import alembic_config
from services.search.domain import IndividualAudience
from services.search.embedded.engine import EmbeddedEngine

EVERYONE = IndividualAudience(everyone=True)


def put_individual_as_0003_did(url: str, name: str, city: str) -> None:
    engine = sa.create_engine(url)
    document = {
        "id": str(uuid4()),
        "name": name,
        "country": "IN",
        "city": city,
        "languages": ["lus"],
        "visibility": "public",
    }
    with engine.begin() as connection:
        key = connection.execute(
            sa.text(
                "INSERT INTO individuals (generation, id, version, visibility, country, sort_name, document)"
                " VALUES (1, :id, 1, 'public', 'IN', :sort_name, :document) RETURNING key"
            ),
            {"id": uuid4().hex, "sort_name": fold(name), "document": json.dumps(document)},
        ).scalar_one()
        connection.execute(
            sa.text("INSERT INTO individual_text (rowid, name, city) VALUES (:key, :name, :city)"),
            {"key": key, "name": fold(name), "city": fold(city)},
        )
    engine.dispose()


def names(url: str, **query) -> list[str]:
    engine = EmbeddedEngine(url)
    try:
        with engine.unit_of_work() as work:
            return [hit.name for hit in work.index.search_individuals(IndividualQuery(**query), EVERYONE).items]
    finally:
        engine.close()


def test_people_indexed_before_0004_are_found_by_their_own_spelling_after_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    config = alembic_config("services.search", url)
    command.upgrade(config, "0003")
    put_individual_as_0003_did(url, "मिज़ो लालरिनपुई", "दिल्ली")
    put_individual_as_0003_did(url, "मजबूत सिंह", "दिल्ली")
    put_individual_as_0003_did(url, "Łukasz Ralte", "Łódź")

    command.upgrade(config, "head")

    assert names(url, q="मि") == ["मिज़ो लालरिनपुई"]
    assert names(url, q="lukasz lodz") == ["Łukasz Ralte"]
    assert names(url, q="lukaz") == ["Łukasz Ralte"]  # the typo vocabulary was learnt again
    assert names(url) == ["Łukasz Ralte", "मजबूत सिंह", "मिज़ो लालरिनपुई"]


def test_0004_goes_down_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    config = alembic_config("services.search", url)
    command.upgrade(config, "head")

    command.downgrade(config, "0003")

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert "rebuild_active_at" not in {
            column["name"] for column in sa.inspect(connection).get_columns("index_generations")
        }
    engine.dispose()
