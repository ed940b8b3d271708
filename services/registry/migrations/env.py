from servicekit.migrations import run_migrations
from services.registry.db import Base

run_migrations(Base.metadata)
