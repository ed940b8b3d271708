"""The registry's nameko entrypoints; the work is in handlers.py."""

from uuid import UUID

from nameko.rpc import rpc

from contracts.associations import AssociationDraft
from contracts.errors import EXPECTED_ERRORS, NotFound
from contracts.validation import parse
from servicekit.database import Database
from servicekit.health import Pingable
from servicekit.logs import CallIdLogging
from services.registry import handlers
from services.registry.db import AssociationRepository, Base
from services.registry.settings import RegistrySettings


class RegistryService(Pingable):
    name = "registry"

    unit_of_work = Database(
        RegistrySettings, Base.metadata, repositories={"associations": AssociationRepository}, relay_outbox=True
    )
    call_id_logging = CallIdLogging()

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def register_association(self, draft: dict) -> dict:
        association = handlers.register_association(
            unit_of_work=self.unit_of_work, draft=parse(AssociationDraft, draft)
        )
        return association.model_dump(mode="json")

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def get_association(self, association_id: str) -> dict:
        try:
            identifier = UUID(association_id)
        except ValueError:
            raise NotFound(f"there is no association with id {association_id}") from None
        return handlers.get_association(unit_of_work=self.unit_of_work, association_id=identifier).model_dump(
            mode="json"
        )
