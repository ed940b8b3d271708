"""What /healthz and /readyz answer."""

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Liveness(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["up"]


class Readiness(BaseModel):
    """`checks` says, for the broker and each service, whether it answered."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ready", "not_ready"]
    checks: dict[str, bool]
