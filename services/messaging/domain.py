"""Messaging rules in plain Python: who speaks for whom, who may read what, who a broadcast reaches, retries.

A party is written `kind:id`: `association:<id>` (its admins act for it), `account:<id>` (a person or a Cell staff
member), `individual:<id>` (a person as a member of associations; their account reads it), `cell:<CELL_ID>` (the Mizo
Diaspora Cell's shared inbox: every Cell staff account reads it).
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts.accounts import Principal
from contracts.errors import Forbidden, Invalid, NotFound, TooManyAttempts
from contracts.messaging import Audience, Party

CELL_ID = UUID("00000000-0000-4000-8000-00000000ce11")
CELL_PARTY = f"cell:{CELL_ID}"


def association_party(association_id: UUID) -> str:
    return f"association:{association_id}"


def account_party(account_id: UUID) -> str:
    return f"account:{account_id}"


def individual_party(individual_id: UUID) -> str:
    return f"individual:{individual_id}"


def party_of(text: str, name: str = "") -> Party:
    kind, _, identifier = text.partition(":")
    return Party(kind=kind, id=UUID(identifier), name=name)


def parties_of(principal: Principal) -> set[str]:
    """Everything the caller may read as: their account, their profile, every association they administer."""
    parties = {account_party(principal.account_id)}
    if principal.individual_id is not None:
        parties.add(individual_party(principal.individual_id))
    parties.update(association_party(association.id) for association in principal.administers)
    if principal.is_cell_staff:
        parties.add(CELL_PARTY)
    return parties


def administers(principal: Principal, association_id: UUID) -> bool:
    return any(association.id == association_id for association in principal.administers)


def speaker(principal: Principal, from_association_id: UUID | None) -> str:
    """Which party the caller speaks as: the association named (they must administer it), else themselves."""
    if from_association_id is None:
        return account_party(principal.account_id)
    if not administers(principal, from_association_id):
        raise Forbidden(f"from_association_id: you do not administer association {from_association_id}")
    return association_party(from_association_id)


def reader(principal: Principal, association_id: UUID | None) -> set[str]:
    """Whose inbox or conversations to list: one association's (its admins only) or the caller's own."""
    if association_id is None:
        return (
            {account_party(principal.account_id)}
            | ({individual_party(principal.individual_id)} if principal.individual_id else set())
            | ({CELL_PARTY} if principal.is_cell_staff else set())
        )
    if not administers(principal, association_id):
        raise Forbidden(f"you do not administer association {association_id}")
    return {association_party(association_id)}


@dataclass(frozen=True)
class DirectoryEntry:
    """An association as messaging knows it from the registry's events."""

    id: UUID
    name: str
    status: str
    country: str
    languages: tuple[str, ...]
    categories: tuple[str, ...]
    parent_id: UUID | None
    email: str

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def check_conversation(
    principal: Principal, sender: str, participants: list[DirectoryEntry | None], participant_ids: list[UUID]
) -> None:
    """Every participant must be a known association; a person (not speaking for an association, not the Cell)
    writes to exactly one verified association."""
    for association_id, entry in zip(participant_ids, participants, strict=True):
        if (
            entry is None
            or entry.status in ("rejected", "dissolved")
            or (entry.status != "verified" and not principal.is_cell_staff)
        ):
            raise NotFound(f"participants: there is no verified association with id {association_id}")
    if association_party_id(sender) in participant_ids:
        raise Invalid("participants: the association you speak as takes part already; name the others")
    if sender.startswith("account:") and not principal.is_cell_staff and len(participant_ids) != 1:
        raise Invalid("participants: a person writes to one association at a time")


def association_party_id(party: str) -> UUID | None:
    kind, _, identifier = party.partition(":")
    return UUID(identifier) if kind == "association" else None


def individual_party_id(party: str) -> UUID | None:
    kind, _, identifier = party.partition(":")
    return UUID(identifier) if kind == "individual" else None


def broadcast_sender(principal: Principal, from_association_id: UUID | None, audience: Audience) -> str:
    """The Cell broadcasts to any audience; an association only to its own branches or its own members."""
    if from_association_id is None:
        if not principal.is_cell_staff:
            raise Forbidden("only the Mizo Diaspora Cell broadcasts without from_association_id")
        return account_party(principal.account_id)
    sender = speaker(principal, from_association_id)
    own = {audience.branches_of, audience.members_of} - {None}
    if own != {from_association_id} or audience.countries or audience.languages or audience.categories:
        raise Forbidden("an association broadcasts only to its own branches (branches_of) or members (members_of)")
    return sender


def matches(audience: Audience, entry: DirectoryEntry) -> bool:
    """Whether the Cell's audience (countries, languages, categories; each empty: any) takes in this association."""
    return (
        entry.verified
        and (not audience.countries or entry.country in audience.countries)
        and (not audience.languages or bool(set(entry.languages) & set(audience.languages)))
        and (not audience.categories or bool(set(entry.categories) & set(audience.categories)))
    )


@dataclass(frozen=True)
class RateLimit:
    limit: int
    window: timedelta
    what: str

    def check(self, recent: int) -> None:
        if recent >= self.limit:
            seconds = int(self.window.total_seconds())
            raise TooManyAttempts(f"at most {self.limit} {self.what} per {seconds} s per account; wait, then retry")


def next_attempt(
    *, attempts: int, now: datetime, base: timedelta, cap: timedelta, give_up_at: datetime, jitter=random.random
) -> datetime | None:
    """Exponential backoff with full jitter after `attempts` failures; None once the retry window has passed."""
    delay = min(cap, base * (2 ** (attempts - 1)))
    when = now + delay * (0.5 + jitter() / 2)
    return None if when > give_up_at else when


@dataclass(frozen=True)
class Policy:
    """The limits and windows a deployment sets (MessagingSettings)."""

    posts_per_minute: int = 30
    broadcasts_per_hour: int = 10
    retry_window: timedelta = timedelta(hours=24)
    cell_email: str | None = None

    @property
    def posts(self) -> RateLimit:
        return RateLimit(self.posts_per_minute, timedelta(minutes=1), "messages")

    @property
    def broadcasts(self) -> RateLimit:
        return RateLimit(self.broadcasts_per_hour, timedelta(hours=1), "broadcasts")


def next_digest(now: datetime, *, hour: int, time_zone: str) -> datetime:
    """The next `hour`:00 on the recipient's clock (in UTC): later today, or tomorrow once it has passed. An hour
    that a daylight-saving change skips comes at the same instant an hour later would."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    when = datetime.combine(today, time(hour), tzinfo=zone).astimezone(UTC)
    return when if when > now else datetime.combine(today + timedelta(days=1), time(hour), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Channels:
    """How one recipient (an association, or a person as a member) is reached besides its inbox; the digest goes
    at `digest_hour` o'clock in `time_zone`."""

    email_mode: str = "immediate"
    email: str | None = None
    webhook_url: str | None = None
    digest_hour: int = 7
    time_zone: str = "UTC"


def planned_deliveries(
    recipient: str, channels: Channels, *, now: datetime, urgent: bool, policy: Policy
) -> list[dict]:
    """The delivery rows for one recipient: e-mail (now, or at the next digest unless urgent) and webhook."""
    rows = []
    if channels.email_mode != "off" and channels.email:
        digest = channels.email_mode == "digest" and not urgent
        rows.append(
            {"recipient": recipient, "channel": "email", "digest": digest,
             "next_attempt_at": next_digest(now, hour=channels.digest_hour, time_zone=channels.time_zone)
             if digest else now}
        )  # fmt: skip
    if channels.webhook_url:
        rows.append({"recipient": recipient, "channel": "webhook", "digest": False, "next_attempt_at": now})
    for row in rows:
        row["give_up_at"] = row["next_attempt_at"] + policy.retry_window
        row["created_at"] = now
    return rows
