"""Alembic owns each schema: after `upgrade head` the database matches the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from servicekit.database import create_database_engine
from servicekit.migrations import upgrade
from services.registry.db import Base as RegistryBase
from services.search.db import Base as SearchBase
from services.search.db import is_full_text_object


def differences(database_url: str, metadata, include_object=None) -> list:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": include_object, "compare_type": True}
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_registry_migrations_match_the_models(database_url):
    upgrade("services.registry", database_url)

    assert differences(database_url, RegistryBase.metadata) == []


def test_search_migrations_match_the_models(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    upgrade("services.search", database_url)

    assert differences(database_url, SearchBase.metadata, is_full_text_object) == []


def test_migrating_twice_changes_nothing(database_url):
    upgrade("services.registry", database_url)
    upgrade("services.registry", database_url)

    assert differences(database_url, RegistryBase.metadata) == []
