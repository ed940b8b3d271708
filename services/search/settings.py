from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import DatabaseSettings


class SearchSettings(DatabaseSettings):
    """`SEARCH_ELASTICSEARCH_URL` set means Elasticsearch; otherwise the embedded engine keeps its index,
    and the ids of handled events, in the SQLite file of `SEARCH_DATABASE_URL`."""

    model_config = SettingsConfigDict(env_prefix="SEARCH_")

    database_url: str = "sqlite:///var/search.sqlite3"
    elasticsearch_url: str | None = None
    elasticsearch_index_prefix: str = "diasporahub-"

    @field_validator("elasticsearch_url")
    @classmethod
    def _empty_means_unset(cls, url: str | None) -> str | None:
        return url or None
