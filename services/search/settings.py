from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict
from sqlalchemy.engine import make_url

from servicekit.settings import DatabaseSettings


class EmbeddedEngineNeedsSQLite(Exception):
    """SEARCH_DATABASE_URL names another database than SQLite."""


def require_sqlite(database_url: str) -> None:
    """The embedded engine's index is made of SQLite's own tables (FTS5): say so plainly rather than fail in SQL."""
    backend = make_url(database_url).get_backend_name()
    if backend != "sqlite":
        raise EmbeddedEngineNeedsSQLite(
            f"SEARCH_DATABASE_URL is a {backend} URL, but the embedded search engine keeps its index in SQLite:"
            " leave it at sqlite:///var/search.sqlite3 (or another sqlite:/// path); in production, search with"
            " Elasticsearch 8 by setting SEARCH_ELASTICSEARCH_URL (services/search/README.md)"
        )


class SearchSettings(DatabaseSettings):
    """`SEARCH_ELASTICSEARCH_URL` set means Elasticsearch; otherwise the embedded engine keeps its index,
    and the ids of handled events, in the SQLite file of `SEARCH_DATABASE_URL`.

    A secured cluster (Elasticsearch 8's default) takes an API key or a user and password, and a CA
    certificate file or the SHA-256 fingerprint of its CA certificate when that CA is not a public one.
    """

    model_config = SettingsConfigDict(env_prefix="SEARCH_")

    database_url: str = "sqlite:///var/search.sqlite3"
    elasticsearch_url: str | None = None
    elasticsearch_index_prefix: str = "diasporahub-"
    elasticsearch_api_key: SecretStr | None = None
    elasticsearch_username: str | None = None
    elasticsearch_password: SecretStr | None = None
    elasticsearch_ca_certs: str | None = None
    elasticsearch_ca_fingerprint: str | None = None

    @field_validator(
        "elasticsearch_url",
        "elasticsearch_api_key",
        "elasticsearch_username",
        "elasticsearch_password",
        "elasticsearch_ca_certs",
        "elasticsearch_ca_fingerprint",
        mode="before",
    )
    @classmethod
    def _empty_means_unset(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> "SearchSettings":
        if (self.elasticsearch_username is None) != (self.elasticsearch_password is None):
            raise ValueError("set both SEARCH_ELASTICSEARCH_USERNAME and SEARCH_ELASTICSEARCH_PASSWORD, or neither")
        if self.elasticsearch_api_key is not None and self.elasticsearch_username is not None:
            raise ValueError("set SEARCH_ELASTICSEARCH_API_KEY or a username and password, not both")
        if self.elasticsearch_ca_certs is not None and self.elasticsearch_ca_fingerprint is not None:
            raise ValueError("set SEARCH_ELASTICSEARCH_CA_CERTS or SEARCH_ELASTICSEARCH_CA_FINGERPRINT, not both")
        return self

    def elasticsearch_options(self) -> dict:
        """Keyword arguments of `elasticsearch.Elasticsearch` for signing in and trusting the cluster's certificate."""
        options: dict = {}
        if self.elasticsearch_api_key is not None:
            options["api_key"] = self.elasticsearch_api_key.get_secret_value()
        if self.elasticsearch_username is not None and self.elasticsearch_password is not None:
            options["basic_auth"] = (self.elasticsearch_username, self.elasticsearch_password.get_secret_value())
        if self.elasticsearch_ca_certs is not None:
            options["ca_certs"] = self.elasticsearch_ca_certs
        if self.elasticsearch_ca_fingerprint is not None:
            options["ssl_assert_fingerprint"] = self.elasticsearch_ca_fingerprint
        return options
