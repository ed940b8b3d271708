"""Messaging's rules in plain Python: backoff, audiences, who speaks, digest times and zones, idempotency
fingerprints, the Markdown subset, webhook targets."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.accounts import AdministeredAssociation, Principal
from contracts.errors import Forbidden, Invalid, TooManyAttempts
from contracts.messaging import Audience, MemberNotificationSettings, MessageDraft, NotificationSettings
from services.messaging import domain
from services.messaging.delivery.transports import check_webhook_url
from services.messaging.idempotency import fingerprint
from services.messaging.markup import render
from services.messaging.time_zones import main_time_zone

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def entry(**fields) -> domain.DirectoryEntry:
    return domain.DirectoryEntry(**({"id": uuid4(), "name": "A", "status": "verified", "country": "IN",
                                     "languages": ("lus",), "categories": (), "parent_id": None,
                                     "email": "a@example.org"} | fields))  # fmt: skip


def test_backoff_doubles_with_jitter_and_stops_at_the_window():
    base, cap = timedelta(seconds=30), timedelta(hours=1)
    give_up = NOW + timedelta(hours=24)
    delays = [
        domain.next_attempt(attempts=n, now=NOW, base=base, cap=cap, give_up_at=give_up, jitter=lambda: 1.0) - NOW
        for n in (1, 2, 3, 10)
    ]
    assert delays == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120), timedelta(hours=1)]
    low = domain.next_attempt(attempts=1, now=NOW, base=base, cap=cap, give_up_at=give_up, jitter=lambda: 0.0)
    assert low - NOW == timedelta(seconds=15)
    assert domain.next_attempt(attempts=1, now=NOW, base=base, cap=cap, give_up_at=NOW + timedelta(seconds=5)) is None


def test_the_cells_audience_takes_verified_associations_by_country_language_and_category():
    audience = Audience(countries=["IN", "AE"], languages=["lus"])
    assert domain.matches(audience, entry())
    assert not domain.matches(audience, entry(country="SG"))
    assert not domain.matches(audience, entry(languages=("en",)))
    assert not domain.matches(audience, entry(status="pending"))
    assert domain.matches(Audience(), entry(country="SG"))


def test_an_association_broadcasts_only_to_its_own_branches_or_members():
    own, other = uuid4(), uuid4()
    admin = Principal(account_id=uuid4(), email="a@example.org", display_name="A",
                      administers=[AdministeredAssociation(id=own, country="IN", verified=True)])  # fmt: skip
    assert domain.broadcast_sender(admin, own, Audience(branches_of=own)) == f"association:{own}"
    for audience in (Audience(branches_of=other), Audience(members_of=own, countries=["IN"]), Audience()):
        with pytest.raises(Forbidden):
            domain.broadcast_sender(admin, own, audience)
    with pytest.raises(Forbidden):
        domain.broadcast_sender(admin, None, Audience())
    with pytest.raises(Forbidden):
        domain.speaker(admin, other)


def test_rate_limits_and_urgent_notifications_skip_the_digest():
    with pytest.raises(TooManyAttempts, match="at most 2 messages"):
        domain.RateLimit(2, timedelta(minutes=1), "messages").check(2)
    [email] = domain.planned_deliveries("association:x", domain.Channels(email_mode="digest", email="a@b.org"),
                                        now=NOW, urgent=True, policy=domain.Policy())  # fmt: skip
    assert email["next_attempt_at"] == NOW and not email["digest"]


@pytest.mark.parametrize(
    ("now", "hour", "zone", "expected"),
    [
        (NOW, 7, "UTC", datetime(2026, 11, 29, 7, 0, tzinfo=UTC)),  # 07:00 has passed today: tomorrow
        (NOW.replace(hour=6), 7, "UTC", datetime(2026, 11, 28, 7, 0, tzinfo=UTC)),
        # 12:00 UTC is 17:30 in India: 07:00 there is tomorrow at 01:30 UTC
        (NOW, 7, "Asia/Kolkata", datetime(2026, 11, 29, 1, 30, tzinfo=UTC)),
        (NOW, 18, "Asia/Kolkata", datetime(2026, 11, 28, 12, 30, tzinfo=UTC)),
        # New York moves to summer time on 8 March 2026: 07:00 is 12:00 UTC before, 11:00 UTC after
        (datetime(2026, 3, 7, 13, 0, tzinfo=UTC), 7, "America/New_York", datetime(2026, 3, 8, 11, 0, tzinfo=UTC)),
        # 02:00 does not exist that night in New York: the digest comes at the instant 03:00 summer time is
        (datetime(2026, 3, 8, 5, 0, tzinfo=UTC), 2, "America/New_York", datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    ],
)
def test_the_digest_comes_at_the_recipients_hour_in_their_time_zone(now, hour, zone, expected):
    assert domain.next_digest(now, hour=hour, time_zone=zone) == expected
    channels = domain.Channels(email_mode="digest", email="a@b.org", digest_hour=hour, time_zone=zone)
    [email] = domain.planned_deliveries("association:x", channels, now=now, urgent=False, policy=domain.Policy())
    assert email["digest"] and email["next_attempt_at"] == expected


def test_a_countrys_main_time_zone_is_its_most_populous_one_and_utc_when_unknown():
    assert [main_time_zone(country) for country in ("IN", "US", "AU", "CA", "BR", "RU", "AE", "in")] == [
        "Asia/Kolkata", "America/New_York", "Australia/Sydney", "America/Toronto", "America/Sao_Paulo",
        "Europe/Moscow", "Asia/Dubai", "Asia/Kolkata",
    ]  # fmt: skip
    assert main_time_zone("XX") == main_time_zone(None) == "UTC"


def test_a_time_zone_outside_the_tz_database_is_refused_with_its_name():
    assert NotificationSettings(digest_hour=18, time_zone="Asia/Kolkata").time_zone == "Asia/Kolkata"
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "localtime", ""):
        with pytest.raises(ValidationError, match="time zone of the tz database"):
            MemberNotificationSettings(time_zone=bad)
    with pytest.raises(ValidationError, match="less than or equal to 23"):
        NotificationSettings(digest_hour=24)
    for not_a_number in ("7", True, 7.0):
        with pytest.raises(ValidationError, match="digest_hour"):
            NotificationSettings(digest_hour=not_a_number)


def test_an_idempotency_fingerprint_tells_requests_apart_but_not_retries():
    draft = MessageDraft(body="Hello")
    conversation = uuid4()
    same = fingerprint("post_message", MessageDraft(body="Hello"), conversation_id=conversation)
    assert fingerprint("post_message", draft, conversation_id=conversation) == same
    assert fingerprint("post_message", MessageDraft(body="Hello!"), conversation_id=conversation) != same
    assert fingerprint("post_message", draft, conversation_id=uuid4()) != same


def test_markdown_is_a_small_safe_subset():
    html = render("**bold** _it_ <img src=x onerror=alert(1)> [x](javascript:alert(1)) [ok](https://a.example)")
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<img" not in html and 'href="javascript' not in html
    assert 'href="https://a.example"' in html and 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://10.0.0.5/x", "http://[::1]/x", "http://169.254.1.1/x",
                                 "ftp://example.org/x"])  # fmt: skip
def test_private_loopback_and_odd_webhook_targets_are_refused(url):
    with pytest.raises(Invalid):
        check_webhook_url(url, allow_private=False)
