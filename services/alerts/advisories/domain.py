"""Advisory rules, in plain Python: who publishes, what an advisory must say, who answers a safety check for whom,
and how the answers are counted per place."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from contracts.accounts import Principal
from contracts.advisories import (
    AdvisoryDraft,
    AdvisoryPublishedV1,
    AdvisoryV1,
    SafetyAnswer,
    SafetyCount,
    SafetyCounts,
    SafetyStatus,
)
from contracts.errors import Forbidden, Invalid, NotFound

# What the Cell is called in the feeds and notifications.
PUBLISHER = "Mizo Diaspora Cell, Government of Mizoram"


@dataclass(frozen=True)
class Recipient:
    """An association or person the advisory reached, and where they are (no finer than the city)."""

    party: str  # "association:<id>" or "individual:<id>"
    country: str
    city: str


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
    member_associations: set[UUID],
) -> tuple[Recipient, UUID | None]:
    """Whom the answer is for, and the association answering for them (None when a person answers for themself).

    A person answers for themself if the advisory reached them; an admin answers for an association it reached,
    or, with `for_member`, for a member of it (`member_associations`: the associations `for_member` belongs to).
    """
    if not advisory.safety_check:
        raise Invalid("this advisory asks no safety question")
    if advisory.expires_at <= now:
        raise Invalid("this advisory has expired; its safety check is closed")
    speaking_for = _reached_associations(principal, answer, recipients)
    if answer.for_member is None and answer.association_id is None and principal.individual_id is not None:
        own = recipients.get(individual_party(principal.individual_id))
        if own is not None:
            return own, None
    if not speaking_for:
        raise Forbidden("only people and the admins of associations in the advisory's area answer its safety check")
    if answer.for_member is None:
        if len(speaking_for) > 1:
            raise Invalid("association_id: you administer several associations in the area; say which one answers")
        return recipients[association_party(speaking_for[0])], speaking_for[0]
    for association_id in speaking_for:
        if association_id in member_associations:
            association = recipients[association_party(association_id)]
            person = recipients.get(individual_party(answer.for_member))
            return person or Recipient(individual_party(answer.for_member), association.country, association.city), (
                association_id
            )
    raise NotFound(f"for_member: {answer.for_member} is not a member of an association you administer in the area")


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


def not_answered(recipients: list[Recipient], answers: list[Answer]) -> list[Recipient]:
    answered = {answer.party for answer in answers}
    return [recipient for recipient in recipients if recipient.party not in answered]


def notification_text(advisory: AdvisoryV1, *, link: str) -> tuple[str, str]:
    """The subject and body that associations and people receive."""
    subject = f"[{advisory.severity}] {advisory.headline}"
    parts = [advisory.description]
    if advisory.instruction:
        parts.append(f"What to do: {advisory.instruction}")
    if advisory.safety_check:
        parts.append(f"Are you safe? Answer at {link}/safety (safe or need help).")
    parts.append(f"In force until {advisory.expires_at:%Y-%m-%d %H:%M} UTC. {PUBLISHER}: {link}")
    return subject, "\n\n".join(parts)


def reminder_text(advisory: AdvisoryV1, *, link: str) -> tuple[str, str]:
    subject = f"Are you safe? {advisory.headline}"
    body = (
        f'The Mizo Diaspora Cell has not heard from you since its advisory "{advisory.headline}".\n\n'
        f"Please answer safe or need help at {link}/safety."
    )
    return subject, body
