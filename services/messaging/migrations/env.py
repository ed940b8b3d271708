from servicekit.migrations import run_migrations
from services.messaging.db import Base

run_migrations(Base.metadata)
