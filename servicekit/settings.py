"""Configuration from the environment, one pydantic-settings class per concern."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class BusSettings(BaseSettings):
    """How every process reaches RabbitMQ (`DIASPORAHUB_AMQP_URI`, ...)."""

    model_config = SettingsConfigDict(env_prefix="DIASPORAHUB_")

    amqp_uri: str = "amqp://guest:guest@localhost:5672/"
    rpc_timeout_seconds: float = 5.0
    max_workers: int = 10

    def nameko_config(self, **extra: object) -> dict[str, object]:
        return {"AMQP_URI": self.amqp_uri, "max_workers": self.max_workers, **extra}


class DatabaseSettings(BaseSettings):
    """A service's own database; subclasses set the prefix, e.g. `REGISTRY_DATABASE_URL`."""

    database_url: str
