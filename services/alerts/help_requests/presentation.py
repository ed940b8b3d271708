"""A help request as one caller may see it, and the notification text associations get before they claim.

Only `HelpRequestV1`s built with `restricted=True` carry the description, the exact place, the contact details,
the notes of the timeline and who was told; the handlers record every such view.
"""

import json

from contracts.alerts import Contact, HelpRequestV1, NotifiedAssociation, TimelineEntry
from contracts.associations import Location
from services.alerts.help_requests.domain import CATEGORY_NAMES
from services.alerts.help_requests.model import HelpRequest, Notification, TimelineStep
from services.alerts.protection import Sealer


def sealed_location(sealer: Sealer, location: Location | None) -> str | None:
    return None if location is None else sealer.seal(location.model_dump_json())


def sealed_contact(sealer: Sealer, contact: Contact) -> str | None:
    return sealer.seal(contact.model_dump_json())


def help_request_view(
    record: HelpRequest,
    *,
    sealer: Sealer,
    restricted: bool,
    notifications: list[Notification] = (),
    timeline: list[TimelineStep] = (),
) -> HelpRequestV1:
    approximate = None
    if record.approximate_lat is not None and record.approximate_lon is not None:
        approximate = Location(lat=record.approximate_lat, lon=record.approximate_lon)
    shown = {}
    if restricted:
        location = sealer.unseal(record.location_sealed)
        contact = sealer.unseal(record.contact_sealed)
        shown = {
            "description": sealer.unseal(record.description_sealed),
            "location": None if location is None else Location.model_validate_json(location),
            "contact": None if contact is None else Contact.model_validate(json.loads(contact)),
            "notified": [_notified(notification) for notification in notifications],
            "timeline": [_step(step, sealer) for step in timeline],
        }
    return HelpRequestV1(
        id=record.id,
        reference=record.reference,
        status=record.status,
        category=record.category,
        urgency=record.urgency,
        severity=record.severity,
        country=record.country,
        city=record.city,
        approximate_location=approximate,
        summary=record.summary,
        languages=record.languages,
        held_for_cell=record.held_for_cell,
        claimed_by=record.claimed_by,
        ring=record.ring,
        next_escalation_at=record.due_at if record.status == "open" else None,
        created_at=record.created_at,
        **shown,
    )


def _notified(record: Notification) -> NotifiedAssociation:
    return NotifiedAssociation(
        association_id=record.association_id,
        name=record.name,
        ring=record.ring,
        distance_km=record.distance_km,
        notified_at=record.notified_at,
        acknowledged_at=record.acknowledged_at,
        declined_at=record.declined_at,
        decline_reason=record.decline_reason,
    )


def _step(record: TimelineStep, sealer: Sealer) -> TimelineEntry:
    note = sealer.unseal(record.note_sealed) or ""
    return TimelineEntry(at=record.at, kind=record.kind, actor=record.actor, note=note)


def notification_subject(record: HelpRequest) -> str:
    place = record.city or record.country or "an unknown place"
    return f"Help needed near {place}: {CATEGORY_NAMES[record.category]} ({record.urgency}) {record.reference}"


def notification_body(
    record: HelpRequest, *, public_url: str, told: int | None = None, round: int = 0, held: bool = False
) -> str:
    """What associations (and the Cell's mailbox) read before they claim: never the exact place, the contact
    details or the description; those are behind the link, for the claimer and Cell staff. `told`: how many
    associations this round reached, for the Cell's line."""
    place = ", ".join(part for part in (record.city, record.country) if part) or "an unknown place"
    lines = [
        f"A Mizo near {place} needs help: {CATEGORY_NAMES[record.category]}.",
        f"Urgency: {record.urgency}. Severity: {record.severity}.",
    ]
    if record.approximate_lat is not None:
        lines.append(f"Around {record.approximate_lat:.1f}, {record.approximate_lon:.1f} (to about 10 km).")
    if record.languages:
        lines.append(f"Speaks: {', '.join(record.languages)}.")
    lines += [
        "",
        f"> {record.summary}",
        "",
        f"Reference {record.reference}. Acknowledge, decline or claim it: "
        f"{public_url.rstrip('/')}/api/v1/alerts/{record.id}",
        "Whoever claims it sees the exact place and how to reach the person.",
    ]
    if held:
        lines.append("For the Cell: raised without an account, held for you to release to associations or close.")
    elif told is not None:
        step = "raised" if round == 0 else f"escalated (round {round})"
        lines.append(f"For the Cell: {step}, {told} association(s) told in this round.")
    return "\n".join(lines)
