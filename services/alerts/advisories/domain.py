"""Advisory rules, in plain Python: who publishes, what an advisory must say, who answers a safety check for whom,
and how the answers are counted per place."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from math import asin, cos, radians, sin, sqrt
from uuid import UUID, uuid4

from contracts.accounts import Principal
from contracts.advisories import (
    AdvisoryDraft,
    AdvisoryPublishedV1,
    AdvisoryV1,
    Area,
    SafetyAnswer,
    SafetyAnsweredV1,
    SafetyCount,
    SafetyCounts,
    SafetyStatus,
    safety_answer_id,
)
from contracts.alerts import HelpRequestDraft, Place
from contracts.errors import Forbidden, Invalid, NotFound

# What the Cell is called in the feeds and notifications.
PUBLISHER = "Mizo Diaspora Cell, Government of Mizoram"
EARTH_RADIUS_KM = 6371.0088
# A help request's severity for an advisory's (CAP's Unknown: moderate, until someone knows more).
HELP_SEVERITY = {
    "Extreme": "extreme",
    "Severe": "severe",
    "Moderate": "moderate",
    "Minor": "minor",
    "Unknown": "moderate",
}


@dataclass(frozen=True)
class Recipient:
    """An association or person the advisory reached, and where they are (no finer than the city)."""

    party: str  # "association:<id>" or "individual:<id>"
    country: str
    city: str


@dataclass(frozen=True)
class Person:
    """What alerts knows of an individual, from the registry's events: their city (and where the gazetteer puts
    it), the associations they are an accepted member of, and whether they asked to receive advisories."""

    id: UUID
    country: str
    city: str
    lat: float | None = None
    lon: float | None = None
    association_ids: frozenset[UUID] = frozenset()
    receives_advisories: bool = False


@dataclass(frozen=True)
class Answer:
    party: str
    status: SafetyStatus
    country: str
    city: str


def association_party(association_id: UUID) -> str:
    return f"association:{association_id}"


def individual_party(individual_id: UUID) -> str:
    return f"individual:{individual_id}"


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = radians(lat1), radians(lat2)
    half_chord = sin((phi2 - phi1) / 2) ** 2 + cos(phi1) * cos(phi2) * sin(radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(half_chord)))


def lives_in(area: Area, person: Person) -> bool:
    """In one of the countries, or (when the gazetteer knows their city) within the circle."""
    if area.circle is None:
        return person.country in area.countries
    if person.lat is None or person.lon is None:
        return False
    return great_circle_km(area.circle.lat, area.circle.lon, person.lat, person.lon) <= area.circle.radius_km


def people_reached(area: Area, people: list[Person]) -> list[Recipient]:
    """The people in the area who asked to receive advisories."""
    return [
        Recipient(individual_party(person.id), person.country, person.city)
        for person in people
        if person.receives_advisories and lives_in(area, person)
    ]


def require_cell_staff(principal: Principal, doing: str) -> None:
    if not principal.is_cell_staff:
        raise Forbidden(f"only the Mizo Diaspora Cell {doing}")


def publish(
    draft: AdvisoryDraft, *, advisory_id: UUID, now: datetime, new_event_id: UUID, reached: int
) -> tuple[AdvisoryV1, AdvisoryPublishedV1]:
    """A new advisory and its event; one that would already have expired is refused."""
    if draft.expires_at <= now:
        raise Invalid("expires_at: must be in the future")
    advisory = AdvisoryV1(**draft.model_dump(), id=advisory_id, published_at=now, reached=reached)
    event = AdvisoryPublishedV1(
        event_id=new_event_id, occurred_at=now, aggregate_id=advisory_id, aggregate_version=1, advisory=advisory
    )
    return advisory, event


def as_seen_at(advisory: AdvisoryV1, now: datetime) -> AdvisoryV1:
    return advisory.model_copy(update={"expired": advisory.expires_at <= now})


def answering_party(
    principal: Principal,
    answer: SafetyAnswer,
    *,
    advisory: AdvisoryV1,
    now: datetime,
    recipients: dict[str, Recipient],
    person_of: Callable[[UUID], Person | None],
) -> tuple[Recipient, UUID | None]:
    """Whom the answer is for, and the association answering for them (None when a person answers for themself).

    A person answers for themself if the advisory reached them or they live in its area; an association's admin
    answers for an association it reached, or, with `for_member`, for one of that association's members.
    """
    if not advisory.safety_check:
        raise Invalid("this advisory asks no safety question")
    if advisory.expires_at <= now:
        raise Invalid("this advisory has expired; its safety check is closed")
    if answer.for_member is None and answer.association_id is None and principal.individual_id is not None:
        own = recipients.get(individual_party(principal.individual_id)) or _in_area(
            advisory.area, person_of(principal.individual_id)
        )
        if own is not None:
            return own, None
    speaking_for = _reached_associations(principal, answer, recipients)
    if not speaking_for:
        raise Forbidden("only people and the admins of associations in the advisory's area answer its safety check")
    if answer.for_member is None:
        if len(speaking_for) > 1:
            raise Invalid("association_id: you administer several associations in the area; say which one answers")
        return recipients[association_party(speaking_for[0])], speaking_for[0]
    member = person_of(answer.for_member)
    for association_id in speaking_for:
        if member is not None and association_id in member.association_ids:
            return Recipient(individual_party(member.id), member.country, member.city), association_id
    raise NotFound(f"for_member: {answer.for_member} is not a member of an association you administer in the area")


def _in_area(area: Area, person: "Person | None") -> Recipient | None:
    if person is None or not lives_in(area, person):
        return None
    return Recipient(individual_party(person.id), person.country, person.city)


def _reached_associations(principal: Principal, answer: SafetyAnswer, recipients: dict[str, Recipient]) -> list[UUID]:
    administered = [
        association.id
        for association in principal.administers
        if association.verified and association_party(association.id) in recipients
    ]
    if answer.association_id is None:
        return administered
    if answer.association_id not in administered:
        raise Forbidden("association_id: you do not administer that association, or the advisory did not reach it")
    return [answer.association_id]


def help_request_draft(
    advisory: AdvisoryV1, recipient: Recipient, *, city_is_known: bool, for_someone_else: bool
) -> HelpRequestDraft | None:
    """What a "need help" answer raises: an immediate request in the answerer's city (the gazetteer places it), or,
    for a city it does not know, at the centre of the advisory's circle; None when there is no place at all (the
    answer still counts for the Cell)."""
    if city_is_known:
        place = Place(country=recipient.country, city=recipient.city)
    elif advisory.area.circle is not None:
        circle = advisory.area.circle
        place = Place(lat=circle.lat, lon=circle.lon, country=recipient.country, city=recipient.city)
    else:
        return None
    return HelpRequestDraft(
        category="other",
        urgency="immediate",
        severity=HELP_SEVERITY[advisory.severity],
        description=f'Answered "need help" to the Cell\'s advisory "{advisory.headline}" (advisory {advisory.id}).',
        location=place,
        on_behalf_of_someone_else=for_someone_else,
    )


def opens_help_request(previous: SafetyStatus | None, status: SafetyStatus) -> bool:
    """A "need help" opens a help request once; saying it again does not open another."""
    return status == "need_help" and previous != "need_help"


def count_answers(advisory_id: UUID, recipients: list[Recipient], answers: list[Answer]) -> SafetyCounts:
    """Per country and city: safe, need help, and not answered (reached but silent); sorted by place."""
    answered = {answer.party: answer for answer in answers}
    counts: Counter[tuple[str, str, str]] = Counter()
    for answer in answers:
        counts[(answer.country, answer.city, answer.status)] += 1
    for recipient in recipients:
        if recipient.party not in answered:
            counts[(recipient.country, recipient.city, "not_answered")] += 1
    places = sorted({(country, city) for country, city, _ in counts})
    rows = [
        SafetyCount(
            country=country,
            city=city,
            safe=counts[(country, city, "safe")],
            need_help=counts[(country, city, "need_help")],
            not_answered=counts[(country, city, "not_answered")],
        )
        for country, city in places
    ]
    return SafetyCounts(
        advisory_id=advisory_id,
        safe=sum(row.safe for row in rows),
        need_help=sum(row.need_help for row in rows),
        not_answered=sum(row.not_answered for row in rows),
        places=rows,
    )


def ids_of(recipients: list[Recipient], kind: str) -> list[UUID]:
    """The ids of the associations (`kind="association"`) or individuals among the recipients."""
    prefix = f"{kind}:"
    return [UUID(r.party.removeprefix(prefix)) for r in recipients if r.party.startswith(prefix)]


def reminder_targets(
    advisory: AdvisoryV1, recipients: list[Recipient], answers: list[Answer], *, now: datetime
) -> list[Recipient]:
    """The associations and people reached that have not answered."""
    if not advisory.safety_check:
        raise Invalid("this advisory asks no safety question: there is nobody to remind")
    if advisory.expires_at <= now:
        raise Invalid("this advisory has expired; its safety check is closed")
    answered = {answer.party for answer in answers}
    return [recipient for recipient in recipients if recipient.party not in answered]


def answered_event(advisory_id: UUID, answer: Answer, *, version: int, by: UUID, now: datetime) -> SafetyAnsweredV1:
    return SafetyAnsweredV1(
        event_id=uuid4(), occurred_at=now, aggregate_id=safety_answer_id(advisory_id, answer.party),
        aggregate_version=version, advisory_id=advisory_id, party=answer.party, status=answer.status,
        country=answer.country, city=answer.city, answered_by_account_id=by,
    )  # fmt: skip


def notification_text(advisory: AdvisoryV1, *, link: str) -> tuple[str, str]:
    """The subject and body that associations and people receive."""
    subject = f"[{advisory.severity}] {advisory.headline}"
    parts = [advisory.description]
    if advisory.instruction:
        parts.append(f"What to do: {advisory.instruction}")
    if advisory.safety_check:
        parts.append(f"Are you safe? Answer at {link}/safety (safe or need help).")
    parts.append(f"In force until {advisory.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC. {PUBLISHER}: {link}")
    return subject, "\n\n".join(parts)


def reminder_text(advisory: AdvisoryV1, *, link: str) -> tuple[str, str]:
    subject = f"Are you safe? {advisory.headline}"
    body = (
        f'The Mizo Diaspora Cell has not heard from you since its advisory "{advisory.headline}".\n\n'
        f"Please answer safe or need help at {link}/safety."
    )
    return subject, body
