from pydantic_settings import SettingsConfigDict

from servicekit.settings import DatabaseSettings


class SearchSettings(DatabaseSettings):
    """The embedded engine keeps its index, and the ids of handled events, in one SQLite file."""

    model_config = SettingsConfigDict(env_prefix="SEARCH_")

    database_url: str = "sqlite:///var/search.sqlite3"
