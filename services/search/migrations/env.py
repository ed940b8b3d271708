from alembic import context

from servicekit.migrations import run_migrations
from services.search.db import Base, is_full_text_object
from services.search.settings import EmbeddedEngineNeedsSQLite, require_sqlite

try:
    require_sqlite(context.config.attributes["database_url"])
except EmbeddedEngineNeedsSQLite as exc:
    # `diasporahub prepare` runs this first: one line saying what to do, not an SQL error about FTS5.
    raise SystemExit(f"diasporahub: {exc}") from None

run_migrations(Base.metadata, include_object=is_full_text_object)
