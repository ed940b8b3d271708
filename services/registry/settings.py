from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import DatabaseSettings
from services.registry.accounts.passwords import HashingProfile


class RegistrySettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_")

    database_url: str = "sqlite:///var/registry.sqlite3"
    session_days: int = Field(default=14, ge=1, le=366)
    session_idle_minutes: int = Field(default=120, ge=1)
    cell_staff_session_hours: int = Field(default=8, ge=1, le=24 * 366)
    cell_staff_idle_minutes: int = Field(default=30, ge=1)
    concurrent_password_hashes: int = Field(default=4, ge=1, le=64)
    # `fast-for-tests-only` is for the test suite's systems; the registry warns at every start with it.
    password_hashing: HashingProfile = "rfc9106-low-memory"
    sign_ups_per_address: int = Field(default=20, ge=1)
    sent_events_kept_hours: int = Field(default=6, ge=1)
