"""Help request rules, in plain Python: references, the rings of matching, what an association sees before it
claims, the lifecycle as a table, who may do what, and when a request escalates."""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from contracts.accounts import Principal
from contracts.errors import Conflict, Forbidden, NotFound

# Matching widens ring by ring until enough associations are found; past the last, only the Cell is left.
RINGS: tuple[str, ...] = ("50km", "150km", "500km", "country", "cell")
RING_RADII_KM = {"50km": 50.0, "150km": 150.0, "500km": 500.0}
CELL_RING = "cell"
NOT_MATCHED = "none"
# One decimal degree of latitude is about 11 km: what an association sees of the place before it claims.
APPROXIMATE_DECIMALS = 1
SUMMARY_CHARACTERS = 280
CLOSED = frozenset({"resolved", "referred", "cancelled"})
_EMAIL = re.compile(r"\S+@\S+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")

CATEGORY_NAMES = {
    "medical": "medical",
    "accident": "accident",
    "death_and_repatriation": "death and repatriation",
    "detention_or_legal": "detention or legal",
    "missing_person": "missing person",
    "financial_hardship": "financial hardship",
    "abuse_or_exploitation": "abuse or exploitation",
    "disaster": "disaster",
    "other": "other",
}


@dataclass(frozen=True)
class Deadlines:
    """How long a request waits for a claim before the next ring is told, per urgency."""

    immediate: timedelta
    expected: timedelta
    future: timedelta

    def after(self, urgency: str, now: datetime) -> datetime:
        return now + getattr(self, urgency)


@dataclass(frozen=True)
class Candidate:
    association_id: UUID
    name: str
    languages: tuple[str, ...]
    distance_km: float | None


@dataclass(frozen=True)
class Reach:
    """The ring matching got to and the associations to tell now (none: the Cell alone)."""

    ring: str
    candidates: tuple[Candidate, ...]


def reference(number: int, year: int) -> str:
    return f"DH-{year}-{number:06d}"


def approximate(value: float | None) -> float | None:
    return None if value is None else round(value, APPROXIMATE_DECIMALS)


def summary_of(description: str) -> str:
    """The first words of the description, without anything that looks like an e-mail address or phone number:
    what associations that have not claimed the case may read."""
    hidden = _PHONE.sub("[number hidden]", _EMAIL.sub("[address hidden]", " ".join(description.split())))
    if len(hidden) <= SUMMARY_CHARACTERS:
        return hidden
    cut = hidden[: SUMMARY_CHARACTERS - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


def prefer_languages(candidates: list[Candidate], languages: list[str]) -> list[Candidate]:
    """Those who speak one of the person's languages first, each group nearest first (a stable sort)."""
    wanted = set(languages)
    return sorted(candidates, key=lambda candidate: not wanted.intersection(candidate.languages))


def widen(
    look_up: Callable[[str], list[Candidate]], *, after: str, notified: set[UUID], enough: int, languages: list[str]
) -> Reach:
    """The first ring after `after` that holds `enough` associations, some of them not told yet; if none does, the
    widest that holds anyone new; if nobody new is anywhere, the Cell alone. `look_up(ring)` gives a ring's
    associations (an empty list for `country` when the country is not known)."""
    start = RINGS.index(after) + 1 if after in RINGS else 0
    best = Reach(CELL_RING, ())
    for ring in RINGS[start:]:
        if ring == CELL_RING:
            break
        found = look_up(ring)
        new = tuple(prefer_languages([c for c in found if c.association_id not in notified], languages))
        if new:
            best = Reach(ring, new)
            if len(found) >= enough:
                return best
    return best


# The lifecycle: for each action, the statuses it may start from and the status it leads to.
TRANSITIONS: dict[str, dict[str, str]] = {
    "claim": {"open": "claimed"},
    "reassign": {"claimed": "claimed", "in_progress": "claimed"},
    "update": {"claimed": "in_progress", "in_progress": "in_progress"},
    "resolve": {"claimed": "resolved", "in_progress": "resolved"},
    "refer": {"claimed": "referred", "in_progress": "referred"},
    "cancel": {"open": "cancelled", "claimed": "cancelled", "in_progress": "cancelled"},
    "acknowledge": {"open": "open"},
    "decline": {"open": "open"},
    "release": {"open": "open"},
}
# Who may take each action: the Cell, the requester, the claiming association's admins, a notified one's.
ALLOWED: dict[str, frozenset[str]] = {
    "claim": frozenset({"cell", "notified"}),
    "reassign": frozenset({"cell"}),
    "update": frozenset({"cell", "claimer"}),
    "resolve": frozenset({"cell", "claimer"}),
    "refer": frozenset({"cell", "claimer"}),
    "cancel": frozenset({"cell", "requester"}),
    "acknowledge": frozenset({"notified"}),
    "decline": frozenset({"notified"}),
    "release": frozenset({"cell"}),
}
WORDS = {
    "claim": "claim",
    "reassign": "reassign",
    "update": "post an update to",
    "resolve": "resolve",
    "refer": "refer",
    "cancel": "cancel",
    "acknowledge": "acknowledge",
    "decline": "decline",
    "release": "release",
}


@dataclass(frozen=True)
class Case:
    """What the rules need to know of a help request."""

    id: UUID
    reference: str
    status: str
    urgency: str
    held_for_cell: bool
    claimed_by: str | None
    requester_account_id: UUID | None
    notified: frozenset[UUID]


@dataclass(frozen=True)
class Caller:
    """Who is asking: a principal (None without an account), and whether they hold the request's follow key."""

    principal: Principal | None
    holds_follow_key: bool = False

    @property
    def is_cell(self) -> bool:
        return self.principal is not None and self.principal.is_cell_staff

    def verified_associations(self) -> set[UUID]:
        if self.principal is None:
            return set()
        return {item.id for item in self.principal.administers if item.verified}


def association_party(association_id: UUID) -> str:
    return f"association:{association_id}"


def roles_of(caller: Caller, case: Case) -> set[str]:
    roles = set()
    if caller.is_cell:
        roles.add("cell")
    principal = caller.principal
    if caller.holds_follow_key or (principal is not None and principal.account_id == case.requester_account_id):
        roles.add("requester")
    mine = caller.verified_associations()
    if case.claimed_by is not None and case.claimed_by in {association_party(i) for i in mine}:
        roles.add("claimer")
    if not case.held_for_cell and mine & case.notified:
        roles.add("notified")
    return roles


def sees_restricted(roles: set[str]) -> bool:
    """The exact place, contact details and description: the requester, the claimer and the Cell."""
    return bool(roles & {"cell", "requester", "claimer"})


def require_visible(caller: Caller, case: Case | None, help_request_id: UUID) -> set[str]:
    """The caller's roles on the case; a request they have no part in looks missing (404)."""
    roles = set() if case is None else roles_of(caller, case)
    if not roles:
        raise NotFound(f"there is no help request with id {help_request_id}")
    return roles


def next_status(case: Case, action: str, roles: set[str]) -> str:
    """The status `action` leads to, or the reason it may not happen (403 who, 409 when)."""
    if not roles & ALLOWED[action]:
        raise Forbidden(f"You may not {WORDS[action]} help request {case.reference}.")
    if action == "release" and not case.held_for_cell:
        raise Conflict(f"Help request {case.reference} has already gone to the associations.")
    if action == "claim" and case.status != "open":
        raise Conflict(f"Help request {case.reference} has already been taken by someone else.")
    if case.status not in TRANSITIONS[action]:
        status = case.status.replace("_", " ")
        raise Conflict(f"Help request {case.reference} is {status}: you cannot {WORDS[action]} it now.")
    return TRANSITIONS[action][case.status]


def acting_association(caller: Caller, case: Case, association_id: UUID | None) -> UUID:
    """Which of the caller's associations is answering: the one named, or their only notified one."""
    mine = caller.verified_associations() & case.notified
    if association_id is not None:
        if association_id not in mine:
            raise Forbidden(f"You do not speak for an association told of help request {case.reference}.")
        return association_id
    if len(mine) != 1:
        raise Forbidden("Say which of your associations answers: give its association_id.")
    return next(iter(mine))


def claimant(caller: Caller, case: Case, association_id: UUID | None) -> str:
    """Who takes the case: an association its admins claim for, or the one the Cell assigns (the Cell itself without
    one)."""
    if caller.is_cell:
        return "cell" if association_id is None else association_party(association_id)
    return association_party(acting_association(caller, case, association_id))


def claimed(case: Case, by: str) -> Case:
    return replace(case, status="claimed", claimed_by=by)


@dataclass(frozen=True)
class Policy:
    deadlines: Deadlines
    matching_lease: timedelta
    enough_associations: int
    requests_per_hour_per_account: int
    requests_per_hour_per_address: int
    purge_after: timedelta
    public_url: str
