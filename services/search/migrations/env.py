from servicekit.migrations import run_migrations
from services.search.db import Base, is_full_text_object

run_migrations(Base.metadata, include_object=is_full_text_object)
