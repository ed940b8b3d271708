"""Alerts configuration: its database, the key that seals what people in need tell us, deadlines and limits."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import DatabaseSettings


class AlertsSettings(DatabaseSettings):
    """`data_keys`: comma-separated Fernet keys, the first seals, all unseal (services/alerts/README.md: rotation).
    Empty (the embedded default), a key is made once in `data_key_file`."""

    model_config = SettingsConfigDict(env_prefix="ALERTS_")

    database_url: str = "sqlite:///var/alerts.sqlite3"
    public_url: str = "http://127.0.0.1:8000"
    data_keys: SecretStr = SecretStr("")
    data_key_file: str = "var/alerts-data.key"
    immediate_deadline_minutes: float = Field(default=15, gt=0)
    expected_deadline_minutes: float = Field(default=120, gt=0)
    future_deadline_minutes: float = Field(default=24 * 60, gt=0)
    matching_lease_seconds: float = Field(default=60.0, gt=0)
    purge_after_days: float = Field(default=30, gt=0)
    requests_per_hour_per_account: int = Field(default=5, ge=1)
    requests_per_hour_per_address: int = Field(default=10, ge=1)
    enough_associations: int = Field(default=3, ge=1, le=100)
