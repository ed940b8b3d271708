"""Help request use cases on a real database (SQLite and PostgreSQL), with search and messaging as fakes of their
ports: limits and blocks, references in sequence, every view of the restricted fields recorded, a stale step
refused, the purge after closing that keeps the timeline's steps, and resealing after a key rotation."""

from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import UUID, uuid4

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import sessionmaker

from contracts.accounts import AdministeredAssociation, Principal
from contracts.alerts import (
    Cancellation,
    ClaimRequest,
    Decline,
    FollowKey,
    HelpRequestDraft,
    RequesterBlock,
    Resolution,
)
from contracts.errors import Conflict, Forbidden, TooManyAttempts
from servicekit.database import UnitOfWork, create_database_engine
from servicekit.migrations import upgrade
from services.alerts.db import Base
from services.alerts.help_requests import handlers, matching, resealing, steps
from services.alerts.help_requests.domain import Caller, Candidate, Deadlines, Policy
from services.alerts.help_requests.repository import HelpRequestRepository
from services.alerts.protection import SealBroken, Sealer

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NEAR = [uuid4(), uuid4(), uuid4()]
SEALER_KEY = Fernet.generate_key()
SEALER = Sealer([SEALER_KEY])
POLICY = Policy(
    deadlines=Deadlines(immediate=timedelta(minutes=15), expected=timedelta(hours=2), future=timedelta(hours=24)),
    matching_lease=timedelta(seconds=60), enough_associations=3, requests_per_hour_per_account=2,
    requests_per_hour_per_address=3, purge_after=timedelta(days=30), public_url="https://hub.example.org",
)  # fmt: skip
REQUESTER = Principal(account_id=uuid4(), email="lal@example.org", display_name="Lal")
CELL = Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell", is_cell_staff=True)
DRAFT = HelpRequestDraft(
    category="detention_or_legal", urgency="expected", description="Detained at the airport since this morning.",
    location={"lat": 13.6900, "lon": 100.7501}, contact={"name": "Lal", "email": "lal@example.org"},
)  # fmt: skip


def admin_of(association_id: UUID) -> Principal:
    administered = [AdministeredAssociation(id=association_id, country="TH", verified=True)]
    return Principal(account_id=uuid4(), email="admin@example.org", display_name="Admin", administers=administered)


FINDERS = matching.Finders(
    nearby=lambda lat, lon, radius_km: [Candidate(i, f"Association {n}", ("lus",), 10.0 * n) for n, i in
                                        enumerate(NEAR)],
    in_country=lambda country: [],
)  # fmt: skip


@pytest.fixture
def unit_of_work(database_url):
    upgrade("services.alerts", database_url)
    engine = create_database_engine(database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    yield partial(UnitOfWork, sessions, Base.metadata, repositories={"help_requests": HelpRequestRepository})
    engine.dispose()


def raise_one(unit_of_work, principal=REQUESTER, address="203.0.113.7", now=NOW):
    created = handlers.raise_help_request(
        unit_of_work=unit_of_work, sealer=SEALER, locate_city=lambda city, country: None, policy=POLICY, now=now,
        caller=Caller(principal), client_address=address, draft=DRAFT,
    )  # fmt: skip
    matching.advance(unit_of_work=unit_of_work, finders=FINDERS, notify=lambda *notification: 3, policy=POLICY,
                     now=now, help_request_id=created.id, round=0)  # fmt: skip
    return created


def test_references_follow_one_sequence(unit_of_work):
    first, second = raise_one(unit_of_work), raise_one(unit_of_work, address="203.0.113.8")

    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1
    assert first.reference.startswith("DH-2026-")


def test_an_account_and_an_address_are_limited_per_hour_but_not_the_cell(unit_of_work):
    raise_one(unit_of_work, address="203.0.113.1")
    raise_one(unit_of_work, address="203.0.113.2")

    with pytest.raises(TooManyAttempts, match="within the hour"):
        raise_one(unit_of_work, address="203.0.113.3")
    raise_one(unit_of_work, now=NOW + timedelta(hours=1, seconds=1), address="203.0.113.4")
    for _ in range(3):
        raise_one(unit_of_work, principal=None, address="198.51.100.5")
    with pytest.raises(TooManyAttempts, match="your network"):
        raise_one(unit_of_work, principal=None, address="198.51.100.5")
    for _ in range(4):
        raise_one(unit_of_work, principal=CELL, address="198.51.100.5")


def test_a_blocked_requester_can_raise_no_more(unit_of_work):
    created = raise_one(unit_of_work)

    with pytest.raises(Forbidden):
        handlers.block_requester(unit_of_work=unit_of_work, now=NOW, principal=REQUESTER, help_request_id=created.id,
                                 block=RequesterBlock(reason="prank calls"))  # fmt: skip
    blocked = handlers.block_requester(
        unit_of_work=unit_of_work, now=NOW, principal=CELL, help_request_id=created.id,
        block=RequesterBlock(reason="prank calls"),
    )  # fmt: skip

    assert blocked.blocked_account and not blocked.blocked_address
    with pytest.raises(Forbidden, match="call the Mizo Diaspora Cell"):
        raise_one(unit_of_work, address="203.0.113.99")
    raise_one(unit_of_work, principal=Principal(account_id=uuid4(), email="x@example.org", display_name="X"))


def test_every_view_of_the_restricted_fields_is_recorded_and_a_summary_view_is_not(unit_of_work):
    created = raise_one(unit_of_work)
    claimer = admin_of(NEAR[0])
    steps.claim(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, caller=Caller(claimer),
                help_request_id=created.id, claim=ClaimRequest(association_id=NEAR[0]))  # fmt: skip

    for principal in (REQUESTER, admin_of(NEAR[1]), CELL):
        handlers.get_help_request(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, principal=principal,
                                  help_request_id=created.id, follow=FollowKey())  # fmt: skip

    with unit_of_work() as work:
        viewers = [viewer for viewer, _ in work.help_requests.viewers(created.id)]
    assert viewers == [f"association:{NEAR[0]}", "requester", f"cell:{CELL.account_id}"]


def test_a_step_on_a_case_that_changed_meanwhile_is_a_conflict(unit_of_work):
    created = raise_one(unit_of_work)
    with unit_of_work() as work:
        seen = work.help_requests.case(work.help_requests.get(created.id))
    steps.cancel(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, caller=Caller(REQUESTER),
                 help_request_id=created.id, cancellation=Cancellation(reason="found him"))  # fmt: skip

    with unit_of_work() as work:
        assert work.help_requests.change(seen, status="claimed") is None


def test_only_the_cell_calls_a_false_alarm(unit_of_work):
    created = raise_one(unit_of_work)

    with pytest.raises(Forbidden, match="false alarm"):
        steps.cancel(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, caller=Caller(REQUESTER),
                     help_request_id=created.id, cancellation=Cancellation(reason="x", false_alarm=True))  # fmt: skip
    false_alarm = Cancellation(reason="x", false_alarm=True)
    cancelled = steps.cancel(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, caller=Caller(CELL),
                             help_request_id=created.id, cancellation=false_alarm)  # fmt: skip
    assert cancelled.status == "cancelled" and cancelled.timeline[-1].kind == "false_alarm"
    with pytest.raises(Conflict):
        steps.claim(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, caller=Caller(CELL),
                    help_request_id=created.id, claim=ClaimRequest())  # fmt: skip


def test_a_closed_case_forgets_who_and_where_after_the_purge_delay_and_keeps_its_steps(unit_of_work):
    created = raise_one(unit_of_work)
    steps.claim(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, caller=Caller(CELL), help_request_id=created.id,
                claim=ClaimRequest())  # fmt: skip
    steps.resolve(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, caller=Caller(CELL), help_request_id=created.id,
                  resolution=Resolution(summary="Released; flew home with Lalpari's help."))  # fmt: skip

    assert matching.purge_closed(unit_of_work=unit_of_work, policy=POLICY, now=NOW + timedelta(days=29)) == 0
    assert matching.purge_closed(unit_of_work=unit_of_work, policy=POLICY, now=NOW + timedelta(days=31)) == 1

    seen = handlers.get_help_request(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, principal=CELL,
                                     help_request_id=created.id, follow=FollowKey())  # fmt: skip
    assert seen.contact is None and seen.location is None and seen.description is None and seen.summary == ""
    assert seen.city is None and seen.approximate_location is None
    kinds = [step.kind for step in seen.timeline]
    assert kinds[0] == "raised" and "resolved" in kinds and kinds[-1] == "personal_data_purged"
    assert all(step.note == "" for step in seen.timeline)
    assert matching.purge_closed(unit_of_work=unit_of_work, policy=POLICY, now=NOW + timedelta(days=40)) == 0


def test_after_a_key_rotation_everything_is_sealed_again_with_the_newest_key(unit_of_work):
    old_key, new_key = SEALER_KEY, Fernet.generate_key()
    created = raise_one(unit_of_work)
    steps.cancel(unit_of_work=unit_of_work, sealer=SEALER, now=NOW, caller=Caller(REQUESTER),
                 help_request_id=created.id, cancellation=Cancellation(reason="He called home."))  # fmt: skip
    rotated = Sealer([new_key, old_key])

    assert resealing.reseal(unit_of_work=unit_of_work, sealer=rotated) == 4  # description, place, contact, a note
    assert resealing.reseal(unit_of_work=unit_of_work, sealer=rotated) == 0
    only_the_new_key = Sealer([new_key])
    seen = handlers.get_help_request(unit_of_work=unit_of_work, sealer=only_the_new_key, now=NOW, principal=CELL,
                                     help_request_id=created.id, follow=FollowKey())  # fmt: skip
    assert seen.contact.email == "lal@example.org" and seen.location.lat == 13.69
    assert seen.timeline[-1].note == "He called home."
    with pytest.raises(SealBroken):
        handlers.get_help_request(unit_of_work=unit_of_work, sealer=Sealer([Fernet.generate_key()]), now=NOW,
                                  principal=CELL, help_request_id=created.id, follow=FollowKey())  # fmt: skip


def test_when_every_association_told_declines_the_next_ring_need_not_wait_for_the_deadline(unit_of_work):
    created = raise_one(unit_of_work)
    later = NOW + timedelta(minutes=1)

    for number, association_id in enumerate(NEAR):
        with unit_of_work() as work:
            assert work.help_requests.due(later, 10) == []
        steps.decline(unit_of_work=unit_of_work, sealer=SEALER, now=later, caller=Caller(admin_of(association_id)),
                      help_request_id=created.id, decline=Decline(reason=f"no one free ({number})"))  # fmt: skip

    with unit_of_work() as work:
        assert work.help_requests.due(later, 10) == [(created.id, 1)]
