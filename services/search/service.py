"""The search service's nameko entrypoints; the work is in handlers.py."""

from nameko.rpc import rpc

from contracts.errors import EXPECTED_ERRORS
from contracts.events import AssociationRegisteredV1, AssociationUpdatedV1
from contracts.search import AssociationQuery
from contracts.topology import SEARCH_INDEXER
from contracts.validation import parse
from servicekit.consumer import event_consumer
from servicekit.database import Database
from servicekit.health import Pingable
from servicekit.logs import CallIdLogging
from services.search import handlers
from services.search.db import Base
from services.search.embedded import EmbeddedAssociationIndex
from services.search.settings import SearchSettings


class SearchService(Pingable):
    name = "search"

    unit_of_work = Database(SearchSettings, Base.metadata, repositories={"index": EmbeddedAssociationIndex})
    call_id_logging = CallIdLogging()

    @event_consumer(SEARCH_INDEXER)
    def index_association(self, event: AssociationRegisteredV1 | AssociationUpdatedV1) -> None:
        handlers.index_association(unit_of_work=self.unit_of_work, event=event)

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def search_associations(self, query: dict) -> dict:
        results = handlers.search_associations(unit_of_work=self.unit_of_work, query=parse(AssociationQuery, query))
        return results.model_dump(mode="json")
