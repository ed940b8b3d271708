"""The alerts service: its entrypoints come from each feature package; the work is in their handlers.

Help requests (help_requests/) and advisories (advisories/) come through the gateway, which passes the caller's
principal; who may see and do what is decided in the handlers from it.
"""

import logging
from datetime import UTC, datetime
from pathlib import Path

from servicekit.database import Database
from servicekit.health import Pingable
from servicekit.logs import CallIdLogging
from servicekit.metrics import Metrics
from servicekit.places import Gazetteer
from servicekit.rpc import TimedRpcProxy
from servicekit.shared import Shared
from services.alerts.advisories.entrypoints import AdvisoryEntrypoints
from services.alerts.advisories.repository import AdvisoryRepository, PeopleRepository
from services.alerts.db import Base
from services.alerts.help_requests.entrypoints import HelpRequestEntrypoints, help_policy_from_settings
from services.alerts.help_requests.repository import HelpRequestRepository
from services.alerts.metrics import help_requests_by_status
from services.alerts.protection import Sealer, keys_from
from services.alerts.settings import AlertsSettings

log = logging.getLogger(__name__)


def system_clock() -> datetime:
    return datetime.now(UTC)


def sealer_from_settings() -> Sealer:
    settings = AlertsSettings()
    keys = settings.data_keys.get_secret_value()
    if not keys and not settings.database_url.startswith("sqlite"):
        log.warning(
            "ALERTS_DATA_KEYS is not set: sealing with %s, a key other replicas do not share; give every alerts "
            "process the same ALERTS_DATA_KEYS (services/alerts/README.md)",
            settings.data_key_file,
        )
    return Sealer(keys_from(keys, Path(settings.data_key_file)))


REPOSITORIES = {
    "help_requests": HelpRequestRepository,
    "advisories": AdvisoryRepository,
    "advisory_people": PeopleRepository,
}


class AlertsService(HelpRequestEntrypoints, AdvisoryEntrypoints, Pingable):
    name = "alerts"

    unit_of_work = Database(AlertsSettings, Base.metadata, repositories=REPOSITORIES, relay_outbox=True)
    registry = TimedRpcProxy("registry")
    search = TimedRpcProxy("search")
    messaging = TimedRpcProxy("messaging")
    gazetteer = Shared(Gazetteer)
    sealer = Shared(sealer_from_settings)
    clock = Shared(lambda: system_clock)
    settings = Shared(AlertsSettings)
    help_policy = Shared(help_policy_from_settings)
    call_id_logging = CallIdLogging()
    metrics = Metrics(collectors=(help_requests_by_status,))
