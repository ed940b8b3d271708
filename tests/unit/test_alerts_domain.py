"""Help request rules: the rings of matching, what associations see before they claim, the lifecycle table, who
may take which step, and deadlines per urgency."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.accounts import AdministeredAssociation, Principal
from contracts.errors import Conflict, Forbidden, NotFound
from services.alerts.help_requests import domain
from services.alerts.help_requests.domain import ALLOWED, TRANSITIONS, Caller, Candidate, Case, Deadlines

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def candidate(distance_km: float, languages=("en",)) -> Candidate:
    return Candidate(association_id=uuid4(), name=f"at {distance_km} km", languages=languages, distance_km=distance_km)


def rings(**found) -> dict:
    """What each ring holds; nested rings hold what the narrower ones hold."""
    held, result = [], {}
    for ring in ("50km", "150km", "500km", "country"):
        held = held + found.get(ring, [])
        result[ring] = list(held)
    return result


def widen(found: dict, *, after: str = domain.NOT_MATCHED, notified=frozenset(), languages=()):
    looked_up = []

    def look_up(ring):
        looked_up.append(ring)
        return found.get(ring, [])

    reach = domain.widen(look_up, after=after, notified=set(notified), enough=3, languages=list(languages))
    return reach, looked_up


def test_three_within_50_km_are_enough():
    near = [candidate(5), candidate(20), candidate(40)]
    reach, looked_up = widen(rings(**{"50km": near, "150km": [candidate(120)]}))

    assert reach.ring == "50km"
    assert [c.distance_km for c in reach.candidates] == [5, 20, 40]
    assert looked_up == ["50km"]


def test_fewer_than_three_widens_until_three_are_found():
    reach, looked_up = widen(rings(**{"50km": [candidate(10)], "150km": [candidate(100)], "500km": [candidate(400)]}))

    assert reach.ring == "500km"
    assert len(reach.candidates) == 3
    assert looked_up == ["50km", "150km", "500km"]


def test_when_no_ring_holds_three_the_widest_that_holds_anyone_is_told():
    reach, looked_up = widen(rings(**{"150km": [candidate(100)], "country": [candidate(900)]}))

    assert reach.ring == "country"
    assert len(reach.candidates) == 2
    assert looked_up == ["50km", "150km", "500km", "country"]


def test_nobody_anywhere_leaves_the_cell_alone():
    reach, _ = widen({})

    assert reach == domain.Reach(domain.CELL_RING, ())


def test_escalation_tells_the_next_ring_only_those_not_told_yet():
    near = [candidate(5), candidate(20), candidate(40)]
    farther = candidate(120)
    found = rings(**{"50km": near, "150km": [farther]})

    reach, looked_up = widen(found, after="50km", notified={c.association_id for c in near})

    assert reach.ring == "150km"
    assert reach.candidates == (farther,)
    assert looked_up == ["150km"]


def test_escalation_past_the_last_ring_is_the_cell_again():
    reach, looked_up = widen(rings(country=[candidate(900)]), after="country")

    assert reach.ring == domain.CELL_RING
    assert looked_up == []


def test_associations_speaking_the_persons_language_come_first_each_group_nearest_first():
    english_near, mizo_far, english_far, mizo_near = (
        candidate(5, ("en",)), candidate(45, ("lus", "en")), candidate(30, ("en",)), candidate(10, ("lus",))
    )  # fmt: skip

    ordered = domain.prefer_languages([english_near, mizo_near, english_far, mizo_far], ["lus"])

    assert ordered == [mizo_near, mizo_far, english_near, english_far]


def test_the_place_associations_see_first_is_rounded_to_about_ten_km():
    assert domain.approximate(25.204849) == 25.2
    assert domain.approximate(55.270782) == 55.3
    assert domain.approximate(None) is None


def test_the_summary_hides_phone_numbers_and_e_mail_addresses_and_is_short():
    summary = domain.summary_of("Call my brother on +971 50 123 4567 or write to lal@example.org. " + "word " * 100)

    assert "4567" not in summary and "lal@example.org" not in summary
    assert "[number hidden]" in summary and "[address hidden]" in summary
    assert len(summary) <= domain.SUMMARY_CHARACTERS and summary.endswith("…")


def test_references_count_within_the_year():
    assert domain.reference(123, 2026) == "DH-2026-000123"


def test_deadlines_follow_the_urgency():
    deadlines = Deadlines(immediate=timedelta(minutes=15), expected=timedelta(hours=2), future=timedelta(hours=24))

    assert deadlines.after("immediate", NOW) == NOW + timedelta(minutes=15)
    assert deadlines.after("expected", NOW) == NOW + timedelta(hours=2)
    assert deadlines.after("future", NOW) == NOW + timedelta(hours=24)


# The lifecycle


ASSOCIATION_A, ASSOCIATION_B = uuid4(), uuid4()


def admin_of(*association_ids, verified=True) -> Principal:
    return Principal(
        account_id=uuid4(), email="admin@example.org", display_name="Admin",
        administers=[AdministeredAssociation(id=i, country="AE", verified=verified) for i in association_ids],
    )  # fmt: skip


REQUESTER = Principal(account_id=uuid4(), email="lal@example.org", display_name="Lal")
CELL = Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell", is_cell_staff=True)


def case(status="open", claimed_by=None, held=False) -> Case:
    return Case(
        id=uuid4(), reference="DH-2026-000001", status=status, urgency="immediate", held_for_cell=held,
        claimed_by=claimed_by, requester_account_id=REQUESTER.account_id,
        notified=frozenset({ASSOCIATION_A, ASSOCIATION_B}),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("action", "status", "after"),
    [(action, status, after) for action, moves in TRANSITIONS.items() for status, after in moves.items()],
)
def test_each_step_of_the_table_leads_where_it_says_for_those_allowed(action, status, after):
    callers = {
        "cell": Caller(CELL),
        "requester": Caller(REQUESTER),
        "claimer": Caller(admin_of(ASSOCIATION_A)),
        "notified": Caller(admin_of(ASSOCIATION_B)),
    }
    held = action == "release"
    the_case = case(status, claimed_by=None if status == "open" else f"association:{ASSOCIATION_A}", held=held)
    role = sorted(ALLOWED[action])[0]

    assert domain.next_status(the_case, action, domain.roles_of(callers[role], the_case)) == after


@pytest.mark.parametrize("status", ["resolved", "referred", "cancelled"])
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_a_closed_case_takes_no_step(status, action):
    closed = case(status, claimed_by=f"association:{ASSOCIATION_A}")

    with pytest.raises(Conflict):
        domain.next_status(closed, action, {"cell", "requester", "claimer", "notified"})


def test_a_second_claim_is_a_conflict_that_says_it_is_taken():
    taken = case("claimed", claimed_by=f"association:{ASSOCIATION_A}")

    with pytest.raises(Conflict, match="already been taken"):
        domain.next_status(taken, "claim", domain.roles_of(Caller(admin_of(ASSOCIATION_B)), taken))


def test_who_may_take_which_step():
    claimed = case("claimed", claimed_by=f"association:{ASSOCIATION_A}")
    notified_only = domain.roles_of(Caller(admin_of(ASSOCIATION_B)), claimed)

    assert notified_only == {"notified"}
    for action in ("update", "resolve", "refer", "cancel", "reassign"):
        with pytest.raises(Forbidden):
            domain.next_status(claimed, action, notified_only)
    with pytest.raises(Forbidden):
        domain.next_status(case(), "claim", domain.roles_of(Caller(REQUESTER), case()))


def test_restricted_fields_are_for_the_requester_the_claimer_and_the_cell_only():
    claimed = case("claimed", claimed_by=f"association:{ASSOCIATION_A}")

    assert domain.sees_restricted(domain.roles_of(Caller(REQUESTER), claimed))
    assert domain.sees_restricted(domain.roles_of(Caller(CELL), claimed))
    assert domain.sees_restricted(domain.roles_of(Caller(admin_of(ASSOCIATION_A)), claimed))
    assert not domain.sees_restricted(domain.roles_of(Caller(admin_of(ASSOCIATION_B)), claimed))


def test_an_unverified_association_or_a_stranger_does_not_see_the_request_at_all():
    for stranger in (Caller(admin_of(ASSOCIATION_A, verified=False)), Caller(admin_of(uuid4())), Caller(None)):
        with pytest.raises(NotFound):
            domain.require_visible(stranger, case(), uuid4())


def test_a_request_held_for_the_cell_is_not_seen_by_notified_associations():
    with pytest.raises(NotFound):
        domain.require_visible(Caller(admin_of(ASSOCIATION_A)), case(held=True), uuid4())


def test_the_follow_key_makes_its_holder_the_requester():
    assert domain.roles_of(Caller(None, holds_follow_key=True), case()) == {"requester"}


def test_the_cell_takes_over_without_an_association_or_assigns_one():
    assert domain.claimant(Caller(CELL), case(), None) == "cell"
    assert domain.claimant(Caller(CELL), case(), ASSOCIATION_B) == f"association:{ASSOCIATION_B}"


def test_an_admin_of_two_notified_associations_says_which_one_claims():
    both = Caller(admin_of(ASSOCIATION_A, ASSOCIATION_B))

    with pytest.raises(Forbidden, match="association_id"):
        domain.claimant(both, case(), None)
    assert domain.claimant(both, case(), ASSOCIATION_B) == f"association:{ASSOCIATION_B}"
    with pytest.raises(Forbidden):
        domain.claimant(Caller(admin_of(ASSOCIATION_A)), case(), ASSOCIATION_B)
