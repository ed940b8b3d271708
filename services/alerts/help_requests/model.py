"""A help request and what hangs off it, as plain dataclasses: what the repository reads and writes, and what the
handlers and the presentation work with. `*_sealed` fields hold Fernet tokens (services/alerts/protection.py)."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class HelpRequest:
    id: UUID
    reference: str
    status: str
    category: str
    urgency: str
    severity: str
    country: str | None
    city: str | None
    approximate_lat: float | None
    approximate_lon: float | None
    summary: str
    languages: list[str]
    description_sealed: str | None
    location_sealed: str | None
    contact_sealed: str | None
    requester_account_id: UUID | None
    requester_address_hash: str | None
    follow_key_hash: str | None
    on_behalf_of_someone_else: bool
    held_for_cell: bool
    claimed_by: str | None
    ring: str
    round: int
    due_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    purged_at: datetime | None
    version: int


@dataclass(frozen=True)
class Notification:
    association_id: UUID
    name: str
    ring: str
    distance_km: float | None
    notified_at: datetime
    acknowledged_at: datetime | None
    declined_at: datetime | None
    decline_reason: str | None


@dataclass(frozen=True)
class TimelineStep:
    at: datetime
    kind: str
    actor: str
    note_sealed: str | None
