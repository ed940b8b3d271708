"""Alembic, driven from code: each service keeps its revisions in its own `migrations/` folder."""

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from servicekit.database import create_database_engine


def alembic_config(service_package: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{service_package}:migrations")
    config.attributes["database_url"] = database_url
    return config


def upgrade(service_package: str, database_url: str) -> None:
    command.upgrade(alembic_config(service_package, database_url), "head")


def run_migrations(target_metadata: MetaData, include_object=None) -> None:
    """The body of every service's migrations/env.py."""
    database_url = context.config.attributes["database_url"]
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                include_object=include_object,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()
