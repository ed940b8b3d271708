"""Matching and escalation: who is told of a request, and who next when nobody claims it in time.

A request is due (`due_at`) when raised (or released by the Cell), and again at each deadline while it is open.
`advance` takes the request's next round with one conditional UPDATE, so whichever of the request that raised it,
the `alerts.match-requests` consumer or a replica's escalation timer gets there first does it, and the others do
nothing; the round's lease (`due_at` moved by ALERTS_MATCHING_LEASE_SECONDS) makes a round that crashed halfway due
again. The ring is looked up and messaging told outside any transaction, then the round is recorded.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from contracts.alerts import AssociationsNotifiedV1, HelpRequestEscalatedV1
from services.alerts.help_requests import domain
from services.alerts.help_requests.domain import Candidate, Policy
from services.alerts.help_requests.presentation import notification_body, notification_subject

log = logging.getLogger(__name__)
DUE_BATCH = 50


@dataclass(frozen=True)
class Finders:
    """The search service, as matching uses it: verified associations within a radius of a point, or in a country."""

    nearby: Callable[[float, float, float], list[Candidate]]
    in_country: Callable[[str], list[Candidate]]


Notify = Callable[[list[UUID], str, str, str, str], int]
"""(association ids, subject, body, reference, once key) → how many messaging will reach: those associations and,
always, the Cell (its shared inbox and duty mailbox). Messaging sends a notification once per key, so a round
taken again after its answer was lost (messaging died after sending, or the connection dropped) tells nobody twice."""


def advance(
    *, unit_of_work: Callable, finders: Finders, notify: Notify, policy: Policy, now: datetime,
    help_request_id: UUID, round: int,
) -> int:  # fmt: skip
    """Take round `round` of the request if it is due and nobody has; return how many associations it told."""
    with unit_of_work() as work:
        if not work.help_requests.take_round(
            help_request_id, round=round, now=now, lease_until=now + policy.matching_lease
        ):
            return 0
        record = work.help_requests.get(help_request_id)
        notified = work.help_requests.notified_ids(help_request_id)
    reach = domain.widen(
        _look_up(finders, record.approximate_lat, record.approximate_lon, record.country),
        after=record.ring, notified=notified, enough=policy.enough_associations, languages=record.languages,
    )  # fmt: skip
    chosen = list(reach.candidates)
    notify(  # the Cell is told of every round, also when nobody new is near
        [candidate.association_id for candidate in chosen],
        notification_subject(record),
        notification_body(record, public_url=policy.public_url, told=len(chosen), round=round),
        record.reference,
        # A round taken again after a failure starts from the same version: every finished round adds to it.
        f"help request {help_request_id} from version {record.version}",
    )
    escalation = record.ring != domain.NOT_MATCHED
    with unit_of_work() as work:
        steps = int(bool(chosen)) + int(escalation)
        due_at = policy.deadlines.after(record.urgency, now)
        version = work.help_requests.finish_round(
            help_request_id, round=round + 1, ring=reach.ring, due_at=due_at, steps=max(steps, 1)
        )
        if version is None:
            return 0
        repository = work.help_requests
        repository.add_notifications(help_request_id, reach.ring, chosen, now)
        if escalation:
            repository.add_step(help_request_id, at=now, kind="escalated", actor="alerts")
            repository.add_step(help_request_id, at=now, kind="cell_informed", actor="alerts")
            work.add_event(
                HelpRequestEscalatedV1(
                    event_id=uuid4(), occurred_at=now, aggregate_id=help_request_id,
                    aggregate_version=version - steps + 1, reference=record.reference, status="open",
                    ring=reach.ring, round=round,
                )
            )  # fmt: skip
        if chosen:
            repository.add_step(help_request_id, at=now, kind=f"notified_{reach.ring}", actor="alerts")
            work.add_event(
                AssociationsNotifiedV1(
                    event_id=uuid4(), occurred_at=now, aggregate_id=help_request_id, aggregate_version=version,
                    reference=record.reference, status="open", ring=reach.ring,
                    association_ids=[candidate.association_id for candidate in chosen],
                )
            )  # fmt: skip
        elif not escalation:
            repository.add_step(help_request_id, at=now, kind="nobody_near_cell_alone", actor="alerts")
    log.info("help request %s round %d: ring %s, %d told", record.reference, round, reach.ring, len(chosen))
    return len(chosen)


def tell_cell_of_held(
    *, unit_of_work: Callable, notify: Notify, policy: Policy, now: datetime, help_request_id: UUID
) -> bool:  # fmt: skip
    """A request raised without an account reaches the Cell alone, which releases it or closes it; a repeated event
    finds the Cell told (`cell_notified`) and tells it nothing more."""
    with unit_of_work() as work:
        record = work.help_requests.get(help_request_id)
        told = any(step.kind == "cell_notified" for step in work.help_requests.timeline(help_request_id))
        if record is None or not record.held_for_cell or told:
            return False
    notify([], notification_subject(record), notification_body(record, public_url=policy.public_url, held=True),
           record.reference, f"help request {help_request_id} held for the Cell")  # fmt: skip
    with unit_of_work() as work:
        work.help_requests.add_step(help_request_id, at=now, kind="cell_notified", actor="alerts")
    return True


def escalate_due(*, unit_of_work: Callable, finders: Finders, notify: Notify, policy: Policy, now: datetime) -> int:
    """Every open request past its deadline goes one ring further (or to the Cell again); how many rounds ran."""
    with unit_of_work() as work:
        due = work.help_requests.due(now, DUE_BATCH)
    ran = 0
    for help_request_id, round in due:
        try:
            advance(unit_of_work=unit_of_work, finders=finders, notify=notify, policy=policy, now=now,
                    help_request_id=help_request_id, round=round)  # fmt: skip
            ran += 1
        except Exception:
            # One request's failure (search or messaging away) must not hold up the others; its lease brings it back.
            log.exception("could not advance help request %s", help_request_id)
    return ran


def purge_closed(*, unit_of_work: Callable, policy: Policy, now: datetime) -> int:
    """Forget who and where, `policy.purge_after` after a case closed: the timeline keeps its steps."""
    with unit_of_work() as work:
        purged = work.help_requests.closed_before(now - policy.purge_after, DUE_BATCH)
        for help_request_id in purged:
            work.help_requests.purge(help_request_id, now)
            work.help_requests.add_step(help_request_id, at=now, kind="personal_data_purged", actor="alerts")
    return len(purged)


def _look_up(finders: Finders, lat: float | None, lon: float | None, country: str | None):
    def look_up(ring: str) -> list[Candidate]:
        if ring in domain.RING_RADII_KM:
            return [] if lat is None else finders.nearby(lat, lon, domain.RING_RADII_KM[ring])
        return [] if country is None else finders.in_country(country)

    return look_up
