"""Alembic owns each schema: after `upgrade head` the database matches the models exactly."""

from datetime import UTC, datetime
from uuid import uuid4

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from servicekit.database import create_database_engine
from servicekit.migrations import alembic_config, upgrade
from servicekit.sqltypes import UTCDateTime
from services.registry.associations.repository import AssociationRepository
from services.registry.db import AssociationRecord
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


def test_an_association_registered_at_0001_keeps_all_of_its_data_at_head(database_url):
    """0002 moved the association into a JSON document: nothing registered before may be lost or unreadable."""
    command.upgrade(alembic_config("services.registry", database_url), "0001")
    association_id = uuid4()
    registered_at = datetime(2025, 6, 1, 8, 30, tzinfo=UTC)
    updated_at = datetime(2025, 7, 2, 9, 45, tzinfo=UTC)
    old_associations = sa.table(
        "associations",
        sa.column("id", sa.Uuid()),
        *(sa.column(name) for name in ("name", "country", "status", "version", "description")),
        sa.column("city"),
        sa.column("email"),
        sa.column("languages", sa.JSON()),
        sa.column("registered_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                old_associations.insert().values(
                    id=association_id,
                    name="Mizo Fellowship Singapore",
                    country="SG",
                    city="Singapore",
                    languages=["lus", "eng"],
                    email="hello@mizo.sg",
                    description="Sunday worship in Mizo, since 1995",
                    status="verified",
                    version=3,
                    registered_at=registered_at,
                    updated_at=updated_at,
                )
            )

        upgrade("services.registry", database_url)

        with Session(engine) as session:
            record = session.get(AssociationRecord, association_id)
            assert (record.name, record.country, record.status, record.version) == (
                "Mizo Fellowship Singapore",
                "SG",
                "verified",
                3,
            )
            assert (record.registered_at, record.updated_at) == (registered_at, updated_at)
            document = record.document
            assert {key: document[key] for key in ("name", "city", "languages", "email", "description")} == {
                "name": "Mizo Fellowship Singapore",
                "city": "Singapore",
                "languages": ["lus", "eng"],
                "email": "hello@mizo.sg",
                "description": "Sunday worship in Mizo, since 1995",
            }
            associations = AssociationRepository(session)
            association = associations.get(association_id)
            assert (association.id, association.status, association.version) == (association_id, "verified", 3)
            assert (association.registered_at, association.updated_at) == (registered_at, updated_at)
            assert [named.names for named in associations.named_in_country("SG")] == [("Mizo Fellowship Singapore",)]
    finally:
        engine.dispose()
