"""Advisory rules: what an advisory must say, who answers a safety check for whom, how answers are counted."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.accounts import AdministeredAssociation, Principal
from contracts.advisories import AdvisoryDraft, Area, SafetyAnswer
from contracts.errors import Forbidden, Invalid, NotFound
from services.alerts.advisories import domain
from services.alerts.advisories.domain import Answer, Person, Recipient

NOW = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
BANGKOK = {"lat": 13.7563, "lon": 100.5018}


def draft(**changes) -> AdvisoryDraft:
    fields = {
        "headline": "Protests near Democracy Monument",
        "description": "Roads around the monument are closed.",
        "severity": "Moderate",
        "urgency": "Expected",
        "certainty": "Likely",
        "area": {"circle": BANGKOK | {"radius_km": 30}},
        "expires_at": NOW + timedelta(days=1),
        "safety_check": True,
    }
    return AdvisoryDraft.model_validate(fields | changes)


def published(**changes):
    advisory, _ = domain.publish(draft(**changes), advisory_id=uuid4(), now=NOW, new_event_id=uuid4(), reached=0)
    return advisory


def principal(*, individual_id=None, administers=(), cell=False) -> Principal:
    return Principal(
        account_id=uuid4(), email="someone@example.org", display_name="Someone", is_cell_staff=cell,
        individual_id=individual_id,
        administers=[AdministeredAssociation(id=i, country="TH", verified=True) for i in administers],
    )  # fmt: skip


def test_an_advisory_is_published_with_its_event_and_is_in_force_until_it_expires():
    advisory, event = domain.publish(draft(), advisory_id=uuid4(), now=NOW, new_event_id=uuid4(), reached=0)

    assert (event.aggregate_id, event.aggregate_version, event.advisory) == (advisory.id, 1, advisory)
    assert advisory.published_at == NOW
    assert not domain.as_seen_at(advisory, NOW + timedelta(hours=23)).expired
    assert domain.as_seen_at(advisory, NOW + timedelta(days=1)).expired


def test_an_advisory_that_would_already_have_expired_is_refused():
    with pytest.raises(Invalid, match="expires_at: must be in the future"):
        domain.publish(draft(expires_at=NOW), advisory_id=uuid4(), now=NOW, new_event_id=uuid4(), reached=0)


@pytest.mark.parametrize(
    "area, problem",
    [
        ({}, "either a circle"),
        ({"circle": BANGKOK | {"radius_km": 5}, "countries": ["TH"]}, "either a circle"),
        ({"countries": ["TH", "th"]}, "each country only once"),
        ({"countries": ["XK1"]}, "ISO 3166-1 alpha-2"),
        ({"circle": BANGKOK | {"radius_km": 0}}, "greater than 0"),
    ],
)
def test_an_area_is_a_circle_or_real_countries(area, problem):
    with pytest.raises(ValidationError, match=problem):
        Area.model_validate(area)


def test_only_the_cell_publishes():
    with pytest.raises(Forbidden, match="only the Mizo Diaspora Cell publishes"):
        domain.require_cell_staff(principal(), "publishes advisories")
    domain.require_cell_staff(principal(cell=True), "publishes advisories")


def test_a_person_lives_in_a_circle_where_the_gazetteer_put_their_city_and_in_listed_countries():
    in_bangkok = Person(id=uuid4(), country="TH", city="Bangkok", lat=13.75, lon=100.52, receives_advisories=True)
    in_chiang_mai = Person(id=uuid4(), country="TH", city="Chiang Mai", lat=18.79, lon=98.98, receives_advisories=True)
    unplaced = Person(id=uuid4(), country="TH", city="Somewhere", receives_advisories=True)
    silent = Person(id=uuid4(), country="TH", city="Bangkok", lat=13.75, lon=100.52)
    circle = Area(circle=BANGKOK | {"radius_km": 30})

    assert [r.party for r in domain.people_reached(circle, [in_bangkok, in_chiang_mai, unplaced, silent])] == [
        f"individual:{in_bangkok.id}"
    ]
    reached = domain.people_reached(Area(countries=["TH"]), [in_bangkok, in_chiang_mai, unplaced, silent])
    assert len(reached) == 3


class Reached:
    """An advisory over Bangkok that reached associations A and B and one person."""

    def __init__(self):
        self.a, self.b, self.person, self.member = uuid4(), uuid4(), uuid4(), uuid4()
        self.advisory = published()
        self.recipients = {
            r.party: r
            for r in (
                Recipient(f"association:{self.a}", "TH", "Bangkok"),
                Recipient(f"association:{self.b}", "TH", "Nonthaburi"),
                Recipient(f"individual:{self.person}", "TH", "Bangkok"),
            )
        }
        self.people = {
            self.member: Person(id=self.member, country="TH", city="Pattaya", association_ids=frozenset({self.a}))
        }

    def answer(self, who: Principal, now=NOW, **fields):
        return domain.answering_party(
            who, SafetyAnswer.model_validate({"status": "safe"} | fields), advisory=self.advisory, now=now,
            recipients=self.recipients, person_of=self.people.get,
        )  # fmt: skip


@pytest.fixture
def reached():
    return Reached()


def test_a_person_the_advisory_reached_answers_for_themself(reached):
    recipient, on_behalf = reached.answer(principal(individual_id=reached.person))

    assert (recipient.party, recipient.city, on_behalf) == (f"individual:{reached.person}", "Bangkok", None)


def test_a_person_living_in_the_area_answers_though_the_advisory_did_not_reach_them(reached):
    someone = uuid4()
    reached.people[someone] = Person(id=someone, country="TH", city="Bangkok", lat=13.74, lon=100.5)

    recipient, _ = reached.answer(principal(individual_id=someone))

    assert recipient == Recipient(f"individual:{someone}", "TH", "Bangkok")


def test_an_admin_answers_for_the_association_and_must_say_which_when_several_were_reached(reached):
    recipient, on_behalf = reached.answer(principal(administers=[reached.a]))
    assert (recipient.party, on_behalf) == (f"association:{reached.a}", reached.a)

    both = principal(administers=[reached.a, reached.b])
    with pytest.raises(Invalid, match="association_id"):
        reached.answer(both)
    assert reached.answer(both, association_id=str(reached.b))[1] == reached.b


def test_an_admin_answers_for_a_member_of_their_association_only(reached):
    recipient, on_behalf = reached.answer(principal(administers=[reached.a]), for_member=str(reached.member))
    assert (recipient.party, recipient.city, on_behalf) == (f"individual:{reached.member}", "Pattaya", reached.a)

    with pytest.raises(NotFound, match="not a member"):
        reached.answer(principal(administers=[reached.b]), for_member=str(reached.member))


def test_someone_outside_the_area_may_not_answer(reached):
    elsewhere = uuid4()
    reached.people[elsewhere] = Person(id=elsewhere, country="IN", city="Aizawl", lat=23.73, lon=92.72)

    with pytest.raises(Forbidden):
        reached.answer(principal(individual_id=elsewhere))
    with pytest.raises(Forbidden):
        reached.answer(principal(administers=[uuid4()]))
    with pytest.raises(Forbidden, match="association_id"):
        reached.answer(principal(administers=[reached.a]), association_id=str(uuid4()))


def test_no_answer_without_a_safety_check_or_after_expiry(reached):
    with pytest.raises(Invalid, match="expired"):
        reached.answer(principal(individual_id=reached.person), now=NOW + timedelta(days=2))
    reached.advisory = published(safety_check=False)
    with pytest.raises(Invalid, match="no safety question"):
        reached.answer(principal(individual_id=reached.person))


def test_need_help_opens_a_help_request_once():
    assert domain.opens_help_request(None, "need_help")
    assert domain.opens_help_request("safe", "need_help")
    assert not domain.opens_help_request("need_help", "need_help")
    assert not domain.opens_help_request(None, "safe")


def test_answers_are_counted_per_country_and_city_with_those_not_answered():
    recipients = [
        Recipient("association:1", "TH", "Bangkok"),
        Recipient("individual:2", "TH", "Bangkok"),
        Recipient("individual:3", "TH", "Bangkok"),
        Recipient("association:4", "MM", "Yangon"),
    ]
    answers = [
        Answer("association:1", "safe", "TH", "Bangkok"),
        Answer("individual:2", "need_help", "TH", "Bangkok"),
        Answer("individual:9", "safe", "TH", "Pattaya"),  # a member an association answered for
    ]
    advisory_id = uuid4()

    counts = domain.count_answers(advisory_id, recipients, answers)

    assert (counts.safe, counts.need_help, counts.not_answered) == (2, 1, 2)
    assert [(p.country, p.city, p.safe, p.need_help, p.not_answered) for p in counts.places] == [
        ("MM", "Yangon", 0, 0, 1),
        ("TH", "Bangkok", 1, 1, 1),
        ("TH", "Pattaya", 1, 0, 0),
    ]


def test_reminders_go_to_the_associations_and_people_that_have_not_answered():
    advisory = published()
    a, b, person, answered_person = uuid4(), uuid4(), uuid4(), uuid4()
    recipients = [
        Recipient(f"association:{a}", "TH", "Bangkok"),
        Recipient(f"association:{b}", "TH", "Bangkok"),
        Recipient(f"individual:{person}", "TH", "Bangkok"),
        Recipient(f"individual:{answered_person}", "TH", "Bangkok"),
    ]
    answers = [Answer(f"association:{a}", "safe", "TH", "Bangkok"), Answer(f"individual:{answered_person}", "safe",
                                                                           "TH", "Bangkok")]  # fmt: skip

    silent = domain.reminder_targets(advisory, recipients, answers, now=NOW)

    assert (domain.ids_of(silent, "association"), domain.ids_of(silent, "individual")) == ([b], [person])
    with pytest.raises(Invalid, match="no safety question"):
        domain.reminder_targets(published(safety_check=False), recipients, answers, now=NOW)


def test_need_help_raises_an_immediate_help_request_in_the_answerers_city():
    advisory = published(severity="Unknown")
    bangkok = Recipient("individual:1", "TH", "Bangkok")

    raised = domain.help_request_draft(advisory, bangkok, city_is_known=True, for_someone_else=True)

    assert (raised.urgency, raised.severity, raised.location.country, raised.location.city) == (
        "immediate", "moderate", "TH", "Bangkok",
    )  # fmt: skip
    assert (raised.location.lat, raised.on_behalf_of_someone_else) == (None, True)
    assert str(advisory.id) in raised.description


def test_need_help_from_a_city_the_gazetteer_does_not_know_is_placed_at_the_circle_or_not_raised():
    somewhere = Recipient("individual:1", "TH", "Ban Nong Somewhere")

    at_centre = domain.help_request_draft(published(), somewhere, city_is_known=False, for_someone_else=False)
    in_countries = published(area={"countries": ["TH"]})

    assert (at_centre.location.lat, at_centre.location.lon, at_centre.location.city) == (
        BANGKOK["lat"], BANGKOK["lon"], "Ban Nong Somewhere",
    )  # fmt: skip
    assert domain.help_request_draft(in_countries, somewhere, city_is_known=False, for_someone_else=False) is None


def test_the_notification_says_what_to_do_and_asks_whether_people_are_safe():
    advisory = published(instruction="Stay indoors after 18:00.")

    subject, body = domain.notification_text(advisory, link="https://hub.example.org/api/v1/advisories/x")

    assert subject == "[Moderate] Protests near Democracy Monument"
    assert "What to do: Stay indoors after 18:00." in body
    assert "Are you safe? Answer at https://hub.example.org/api/v1/advisories/x/safety" in body


def test_each_answer_of_one_party_is_a_new_version_of_the_same_aggregate():
    advisory_id, answer = uuid4(), Answer("individual:1", "safe", "TH", "Bangkok")

    first = domain.answered_event(advisory_id, answer, version=1, by=uuid4(), now=NOW)
    second = domain.answered_event(advisory_id, answer, version=2, by=uuid4(), now=NOW)
    other = domain.answered_event(advisory_id, Answer("individual:2", "safe", "TH", "Bangkok"), version=1, by=uuid4(),
                                  now=NOW)  # fmt: skip

    assert first.aggregate_id == second.aggregate_id != other.aggregate_id
    assert (first.advisory_id, second.aggregate_version, first.routing_key) == (advisory_id, 2, "safety_answered.v1")
