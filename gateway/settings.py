"""The gateway's configuration, read once when the gateway starts."""

from ipaddress import IPv4Network, IPv6Network
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """How the HTTP server defends itself, and which proxies in front of it are believed (`GATEWAY_…`)."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_")

    # Each read from a client must make progress within this; a whole request body must arrive within the deadline.
    read_timeout_seconds: float = Field(default=10.0, gt=0)
    body_deadline_seconds: float = Field(default=30.0, gt=0)
    # Connections beyond this are answered 503 at once instead of waiting behind slow ones.
    max_connections: int = Field(default=500, ge=1)
    # Requests served at once (waiting for a worker or an RPC answer); one more is answered 503 at once.
    max_requests_in_flight: int = Field(default=40, ge=1)
    keepalive_seconds: float = Field(default=15.0, gt=0)
    # How long the registry's answer to "who holds this session token" is believed (gateway/auth.py,
    # PrincipalCache; SECURITY.md): a session ended elsewhere may still be believed this long. 0: ask every time.
    principal_cache_seconds: float = Field(default=5.0, ge=0)
    # How long, at most, an anonymous read's answer is kept (gateway/public_reads.py; SECURITY.md): forgotten sooner
    # when the registry's event about a change arrives. 0: every read asks the registry.
    public_read_cache_seconds: float = Field(default=2.0, ge=0)
    # How long, at most, an anonymous association search's answer is kept (gateway/public_reads.py; SECURITY.md):
    # forgotten sooner on any association event, but search may index one later than the gateway hears it. 0: off.
    public_search_cache_seconds: float = Field(default=2.0, ge=0)
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
