"""The alerts service: its entrypoints come from each feature package; the work is in their handlers.

Help requests (help_requests/) are raised through the gateway, which passes the caller's principal; who may see
and do what is decided in the handlers from it.
"""

from datetime import UTC, datetime

from servicekit.database import Database
from servicekit.health import Pingable
from servicekit.logs import CallIdLogging
from servicekit.metrics import Metrics
from servicekit.places import Gazetteer
from servicekit.rpc import TimedRpcProxy
from servicekit.shared import Shared
from services.alerts.db import Base
from services.alerts.protection import sealer_from_settings
from services.alerts.settings import AlertsSettings


def system_clock() -> datetime:
    return datetime.now(UTC)


REPOSITORIES: dict = {}


class AlertsService(Pingable):
    name = "alerts"

    unit_of_work = Database(AlertsSettings, Base.metadata, repositories=REPOSITORIES, relay_outbox=True)
    search = TimedRpcProxy("search")
    messaging = TimedRpcProxy("messaging")
    gazetteer = Shared(Gazetteer)
    sealer = Shared(sealer_from_settings)
    clock = Shared(lambda: system_clock)
    settings = Shared(AlertsSettings)
    call_id_logging = CallIdLogging()
    metrics = Metrics()
