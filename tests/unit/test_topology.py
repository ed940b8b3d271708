"""contracts/topology.py: what each service publishes, and that every subscription listens to published events."""

import re

from contracts.topology import BROADCASTS, PUBLISHED, SUBSCRIPTIONS


def test_each_published_event_comes_from_its_service_under_a_versioned_name_of_its_own():
    for service, events in PUBLISHED.items():
        assert {event.source for event in events} == {service}
        keys = [event.routing_key for event in events]
        assert len(keys) == len(set(keys))
        assert all(re.fullmatch(r"[a-z_]+\.v[0-9]+", key) for key in keys)


def test_every_subscription_and_broadcast_listens_to_published_events_only():
    for listening in (*SUBSCRIPTIONS, *BROADCASTS):
        assert all(event in PUBLISHED[event.source] for event in listening.events), listening.queue
