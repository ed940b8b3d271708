"""The gateway's configuration, read once when the gateway starts (GatewayService.settings)."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """`GATEWAY_TRUST_FORWARDED_FOR=true` only behind a proxy that sets X-Forwarded-For itself."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_")

    trust_forwarded_for: bool = False
