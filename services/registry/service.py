"""The registry service: its entrypoints come from each feature package; the work is in their handlers."""

from servicekit.database import Database
from servicekit.health import Pingable
from servicekit.logs import CallIdLogging
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
