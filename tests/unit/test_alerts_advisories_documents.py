"""The advisories' CAP alerts validate against the OASIS CAP 1.2 schema; the Atom feed reads as aggregators read it."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4
from xml.etree import ElementTree

import feedparser
import pytest
import xmlschema

from contracts.advisories import AdvisoryDraft, AdvisoryV1
from services.alerts.advisories.atom import ATOM_NAMESPACE, render_atom
from services.alerts.advisories.cap import CAP_NAMESPACE, render_cap
from tests.cap_schema import CAP_SCHEMA

PUBLIC_URL = "https://diasporahub.example.org"
NOW = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
CAP = f"{{{CAP_NAMESPACE}}}"


@pytest.fixture(scope="module")
def cap_schema():
    return xmlschema.XMLSchema(str(CAP_SCHEMA))


def advisory(**changes) -> AdvisoryV1:
    draft = {
        "headline": "Floods in Chennai: stay indoors",
        "description": "Heavy rain has flooded the roads of south Chennai.",
        "instruction": "Keep away from the river banks; call your association if you need shelter.",
        "severity": "Severe",
        "urgency": "Immediate",
        "certainty": "Observed",
        "area": {"circle": {"lat": 13.0827, "lon": 80.2707, "radius_km": 40}},
        "expires_at": NOW + timedelta(days=2),
        "safety_check": True,
    } | changes
    parsed = AdvisoryDraft.model_validate(draft)
    return AdvisoryV1(**parsed.model_dump(), id=uuid4(), published_at=NOW, reached=3)


def link_of(item: AdvisoryV1) -> str:
    return f"{PUBLIC_URL}/api/v1/advisories/{item.id}"


def cap_of(item: AdvisoryV1) -> str:
    return render_cap(item, public_url=PUBLIC_URL, link=link_of(item))


SAMPLES = {
    "circle": advisory(),
    "countries": advisory(
        area={"countries": ["TH", "MM"]},
        instruction=None,
        severity="Moderate",
        urgency="Expected",
        certainty="Likely",
        safety_check=False,
    ),  # fmt: skip
    "escaped text": advisory(
        headline='Unrest <near> the "embassy" & the market',
        description="Curfew 18:00–06:00 ‹Ṭhalai› & more",
        area={"countries": ["MM"]},
    ),  # fmt: skip
    "an expiry in another time zone": advisory(
        expires_at=datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        area={"circle": {"lat": -33.86, "lon": 151.2, "radius_km": 0.5}},
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_cap_alert_is_valid_against_the_oasis_schema(cap_schema, name):
    document = cap_of(SAMPLES[name])

    cap_schema.validate(document)


def test_the_cap_alert_says_what_the_advisory_says():
    item = SAMPLES["escaped text"]
    alert = ElementTree.fromstring(cap_of(item).encode())

    assert alert.findtext(f"{CAP}identifier") == f"urn:uuid:{item.id}"
    assert alert.findtext(f"{CAP}sent") == "2026-11-28T21:00:00-00:00"
    assert alert.findtext(f"{CAP}info/{CAP}headline") == 'Unrest <near> the "embassy" & the market'
    assert alert.findtext(f"{CAP}info/{CAP}description") == "Curfew 18:00–06:00 ‹Ṭhalai› & more"
    assert [value.text for value in alert.iterfind(f"{CAP}info/{CAP}area/{CAP}geocode/{CAP}value")] == ["MM"]
    assert alert.findtext(f"{CAP}info/{CAP}area/{CAP}areaDesc") == "Myanmar"


def test_a_circle_is_written_as_cap_wants_it_and_times_in_utc():
    alert = ElementTree.fromstring(cap_of(SAMPLES["an expiry in another time zone"]).encode())

    assert alert.findtext(f"{CAP}info/{CAP}area/{CAP}circle") == "-33.860000,151.200000 0.5"
    assert alert.findtext(f"{CAP}info/{CAP}expires") == "2026-12-01T04:00:00-00:00"


def render_feed(items: list[AdvisoryV1]) -> str:
    return render_atom(
        items, public_url=PUBLIC_URL, feed_url=f"{PUBLIC_URL}/api/v1/advisories.atom", link_of=link_of, now=NOW
    )


def test_the_atom_feed_parses_with_an_entry_per_advisory_linking_its_cap_alert():
    items = [SAMPLES["circle"], SAMPLES["escaped text"]]

    feed = feedparser.parse(render_feed(items))

    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "DiasporaHub advisories"
    assert [entry.title for entry in feed.entries] == [item.headline for item in items]
    for entry, item in zip(feed.entries, items, strict=True):
        assert entry.id == f"urn:uuid:{item.id}"
        [cap_link] = [link for link in entry.links if link.type == "application/cap+xml"]
        assert (cap_link.rel, cap_link.href) == ("alternate", f"{link_of(item)}.cap")


def test_each_atom_entry_carries_its_cap_alert_valid_against_the_schema(cap_schema):
    items = [SAMPLES["countries"], SAMPLES["escaped text"]]
    feed = ElementTree.fromstring(render_feed(items).encode())

    alerts = feed.findall(f"{{{ATOM_NAMESPACE}}}entry/{{{ATOM_NAMESPACE}}}content/{CAP}alert")

    assert [alert.findtext(f"{CAP}identifier") for alert in alerts] == [f"urn:uuid:{item.id}" for item in items]
    for alert in alerts:
        cap_schema.validate(ElementTree.tostring(alert, encoding="unicode"))


def test_an_empty_feed_is_still_a_valid_feed():
    feed = feedparser.parse(render_feed([]))

    assert not feed.bozo
    assert feed.entries == []
    assert feed.feed.updated == "2026-11-28T21:00:00Z"
