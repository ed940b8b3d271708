"""Alerts' migrations make exactly its models, on SQLite and PostgreSQL, and running them again changes nothing
(house style rule 11)."""

from servicekit.migrations import upgrade
from services.alerts.db import Base
from tests.integration.test_migrations import differences


def test_alerts_migrations_match_the_models(database_url):
    upgrade("services.alerts", database_url)
    upgrade("services.alerts", database_url)

    assert differences(database_url, Base.metadata) == []
