"""Messaging's rules in plain Python: backoff, audiences, who speaks, the Markdown subset, webhook targets."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.accounts import AdministeredAssociation, Principal
from contracts.errors import Forbidden, Invalid, TooManyAttempts
from contracts.messaging import Audience
from services.messaging import domain
from services.messaging.delivery.transports import check_webhook_url
from services.messaging.markup import render

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


def test_rate_limits_and_digest_times():
    with pytest.raises(TooManyAttempts, match="at most 2 messages"):
        domain.RateLimit(2, timedelta(minutes=1), "messages").check(2)
    policy = domain.Policy()
    assert policy.next_digest(NOW) == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert policy.next_digest(NOW.replace(hour=6)) == datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    [email] = domain.planned_deliveries("association:x", domain.Channels(email_mode="digest", email="a@b.org"),
                                        now=NOW, urgent=True, policy=policy)  # fmt: skip
    assert email["next_attempt_at"] == NOW and not email["digest"]


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
