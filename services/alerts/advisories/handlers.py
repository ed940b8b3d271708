"""Advisory use cases. `unit_of_work` is a factory of servicekit units of work (or a fake); `now` is the injected
clock's time; finding, notifying and opening help requests are passed in as plain functions."""

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from contracts.accounts import Principal
from contracts.advisories import (
    AdvisoryDocument,
    AdvisoryDraft,
    AdvisoryList,
    AdvisoryPublishedV1,
    AdvisoryQuery,
    AdvisoryV1,
    Area,
    SafetyAnswer,
    SafetyAnswerV1,
    SafetyCounts,
    SafetyReminder,
)
from contracts.errors import NotFound
from services.alerts.advisories import domain
from services.alerts.advisories.atom import ATOM_MEDIA_TYPE, render_atom
from services.alerts.advisories.cap import CAP_MEDIA_TYPE, render_cap
from services.alerts.advisories.domain import Answer, Recipient

log = logging.getLogger(__name__)

# The Atom feed lists at most this many advisories in force, newest first.
FEED_SIZE = 100

FindAssociations = Callable[[Area], list[Recipient]]
Notify = Callable[..., None]  # (recipients, subject=, body=, reference=, urgent=, once_key=None)
OpenHelpRequest = Callable[..., UUID | None]  # (principal, advisory=, recipient=, now=) -> the help request's id
LinkOf = Callable[[UUID], str]


def _advisory(work, advisory_id: UUID) -> AdvisoryV1:
    advisory = work.advisories.get(advisory_id)
    if advisory is None:
        raise NotFound(f"there is no advisory with id {advisory_id}")
    return advisory


def publish_advisory(
    *, unit_of_work: Callable, now: datetime, principal: Principal, draft: AdvisoryDraft
) -> AdvisoryV1:
    """Stored with its event; associations are found and notified from the event (deliver_advisory)."""
    domain.require_cell_staff(principal, "publishes advisories")
    advisory, published = domain.publish(draft, advisory_id=uuid4(), now=now, new_event_id=uuid4(), reached=0)
    with unit_of_work() as work:
        work.advisories.add(advisory, published_by=principal.account_id)
        work.add_event(published)
    log.info("published advisory %s", advisory.id)
    return advisory


def deliver_advisory(
    *,
    unit_of_work: Callable,
    reading: Callable,
    now: datetime,
    event: AdvisoryPublishedV1,
    find_associations: FindAssociations,
    notify: Notify,
    link_of: LinkOf,
) -> list[Recipient]:
    """Verified associations in the area and the people there who asked for advisories are told through messaging,
    then remembered as reached (whom the safety check counts).

    Finding and notifying happen before the transaction (no write waits on the network); a failure retries the
    whole, so someone may be told twice but never not at all. `reading` is a unit of work that does not record the
    event as handled: an advisory already delivered is not delivered again.
    """
    advisory = event.advisory
    with reading() as work:
        if work.advisories.delivered(advisory.id):
            return []
        people = domain.people_reached(advisory.area, work.advisory_people.receiving(advisory.area.countries))
    reached = find_associations(advisory.area) + people
    if reached:
        subject, body = domain.notification_text(advisory, link=link_of(advisory.id))
        # A retry after messaging sent but alerts did not record it tells nobody twice (messaging's once keys).
        notify(reached, subject=subject, body=body, reference=f"advisory:{advisory.id}",
               urgent=advisory.urgency == "Immediate", once_key=f"advisory {advisory.id} delivered")  # fmt: skip
    with unit_of_work() as work:
        work.advisories.record_delivery(_advisory(work, advisory.id), reached, now=now)
    log.info("advisory %s reached %d associations and people", advisory.id, len(reached))
    return reached


def get_advisory(*, unit_of_work: Callable, now: datetime, advisory_id: UUID) -> AdvisoryV1:
    with unit_of_work() as work:
        return domain.as_seen_at(_advisory(work, advisory_id), now)


def list_advisories(*, unit_of_work: Callable, now: datetime, query: AdvisoryQuery) -> AdvisoryList:
    with unit_of_work() as work:
        total, items = work.advisories.page(now=now, offset=(query.page - 1) * query.size, limit=query.size)
    return AdvisoryList(total=total, items=[domain.as_seen_at(item, now) for item in items])


def cap_alert(*, unit_of_work: Callable, advisory_id: UUID, public_url: str, link_of: LinkOf) -> AdvisoryDocument:
    with unit_of_work() as work:
        advisory = _advisory(work, advisory_id)
    return AdvisoryDocument(
        media_type=CAP_MEDIA_TYPE, body=render_cap(advisory, public_url=public_url, link=link_of(advisory.id))
    )


def atom_feed(
    *, unit_of_work: Callable, now: datetime, public_url: str, feed_url: str, link_of: LinkOf
) -> AdvisoryDocument:
    with unit_of_work() as work:
        advisories = work.advisories.in_force(now=now, limit=FEED_SIZE)
    body = render_atom(
        advisories, public_url=public_url, feed_url=feed_url, link_of=lambda item: link_of(item.id), now=now
    )
    return AdvisoryDocument(media_type=ATOM_MEDIA_TYPE, body=body)


def answer_safety(
    *,
    unit_of_work: Callable,
    now: datetime,
    principal: Principal,
    advisory_id: UUID,
    answer: SafetyAnswer,
    open_help_request: OpenHelpRequest,
) -> SafetyAnswerV1:
    """The latest answer counts. A first "need help" opens a help request at once, before the answer is stored (in
    a transaction of its own): a failure after it leaves a request for help, never a lost one."""
    with unit_of_work() as work:
        advisory = _advisory(work, advisory_id)
        recipients = {recipient.party: recipient for recipient in work.advisories.recipients(advisory_id)}
        recipient, for_association = domain.answering_party(
            principal, answer, advisory=advisory, now=now, recipients=recipients, person_of=work.advisory_people.get
        )
        previous_status, _, help_request_id = work.advisories.previous_answer(advisory_id, recipient.party) or (
            None, 0, None,
        )  # fmt: skip
    if domain.opens_help_request(previous_status, answer.status):
        help_request_id = open_help_request(principal, advisory=advisory, recipient=recipient, now=now)
    given = Answer(party=recipient.party, status=answer.status, country=recipient.country, city=recipient.city)
    with unit_of_work() as work:
        _, version, _ = work.advisories.previous_answer(advisory_id, recipient.party) or (None, 0, None)
        work.advisories.save_answer(
            advisory_id=advisory_id, answer=given, answered_by=principal.account_id, for_association=for_association,
            answered_at=now, help_request_id=help_request_id, version=version + 1,
        )  # fmt: skip
        work.add_event(domain.answered_event(advisory_id, given, version=version + 1, by=principal.account_id, now=now))
    return SafetyAnswerV1(
        advisory_id=advisory_id, party=recipient.party, status=answer.status, answered_at=now,
        help_request_id=help_request_id,
    )  # fmt: skip


def safety_counts(*, unit_of_work: Callable, principal: Principal, advisory_id: UUID) -> SafetyCounts:
    domain.require_cell_staff(principal, "sees the safety answers")
    with unit_of_work() as work:
        _advisory(work, advisory_id)
        return domain.count_answers(
            advisory_id, work.advisories.recipients(advisory_id), work.advisories.answers(advisory_id)
        )


def remind_silent(
    *, unit_of_work: Callable, now: datetime, principal: Principal, advisory_id: UUID, notify: Notify, link_of: LinkOf
) -> SafetyReminder:
    """The associations and people reached that have not answered are asked again (urgently)."""
    domain.require_cell_staff(principal, "reminds people of a safety check")
    with unit_of_work() as work:
        advisory = _advisory(work, advisory_id)
        silent = domain.reminder_targets(
            advisory, work.advisories.recipients(advisory_id), work.advisories.answers(advisory_id), now=now
        )
    if silent:
        subject, body = domain.reminder_text(advisory, link=link_of(advisory_id))
        notify(silent, subject=subject, body=body, reference=f"advisory:{advisory_id}", urgent=True)
        with unit_of_work() as work:
            work.advisories.mark_reminded(advisory_id, [recipient.party for recipient in silent], now)
    return SafetyReminder(advisory_id=advisory_id, reminded=len(silent))
