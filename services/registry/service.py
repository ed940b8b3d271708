"""The registry service: its entrypoints come from each feature package; the work is in their handlers."""

import logging
from datetime import timedelta

from nameko.timer import timer

from servicekit import outbox
from servicekit.database import Database
from servicekit.health import Pingable
from servicekit.logs import CallIdLogging
from servicekit.metrics import Metrics
from servicekit.places import Gazetteer
from servicekit.shared import Shared
from services.registry.accounts.entrypoints import AccountEntrypoints
from services.registry.accounts.repository import AccountRepository
from services.registry.associations.entrypoints import AssociationEntrypoints
from services.registry.associations.repository import AssociationRepository
from services.registry.db import Base
from services.registry.imports.entrypoints import ImportEntrypoints
from services.registry.individuals.entrypoints import IndividualEntrypoints
from services.registry.individuals.repository import IndividualRepository
from services.registry.settings import RegistrySettings

log = logging.getLogger(__name__)
PRUNE_SENT_EVERY_SECONDS = 3600


class RegistryService(AccountEntrypoints, AssociationEntrypoints, IndividualEntrypoints, ImportEntrypoints, Pingable):
    name = "registry"

    unit_of_work = Database(
        RegistrySettings,
        Base.metadata,
        repositories={
            "accounts": AccountRepository,
            "associations": AssociationRepository,
            "individuals": IndividualRepository,
        },
        relay_outbox=True,
    )
    gazetteer = Shared(Gazetteer)
    call_id_logging = CallIdLogging()
    metrics = Metrics()

    @timer(interval=PRUNE_SENT_EVERY_SECONDS)
    def prune_sent_events(self) -> None:
        """Sent outbox rows hold what the events said about people: kept REGISTRY_SENT_EVENTS_KEPT_HOURS."""
        kept = timedelta(hours=RegistrySettings().sent_events_kept_hours)
        with self.unit_of_work() as work:
            pruned = outbox.prune_sent(work.session, Base.metadata, sent_before=self.clock() - kept)
        log.info("pruned %d sent outbox rows", pruned)
