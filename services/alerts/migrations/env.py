from servicekit.migrations import run_migrations
from services.alerts.db import Base

run_migrations(Base.metadata)
