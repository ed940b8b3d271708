"""The search service's nameko entrypoints; the work is in handlers.py."""

from contracts.accounts import Principal
from contracts.errors import EXPECTED_ERRORS
from contracts.events import AssociationEvent, IndividualDeletedV1, IndividualEvent
from contracts.search import (
    AssociationHit,
    AssociationQuery,
    AssociationResults,
    IndividualQuery,
    IndividualResults,
    NearbyQuery,
    Suggestions,
    SuggestQuery,
)
from contracts.topology import SEARCH_INDEXER, SEARCH_PEOPLE_INDEXER
from servicekit.consumer import event_consumer
from servicekit.health import Pingable
from servicekit.logs import CallIdLogging
from servicekit.metrics import Metrics
from servicekit.rpc import rpc
from services.search import handlers
from services.search.engines import SearchEngine


class SearchService(Pingable):
    name = "search"

    unit_of_work = SearchEngine()
    call_id_logging = CallIdLogging()
    metrics = Metrics()

    @event_consumer(SEARCH_INDEXER)
    def index_association(self, event: AssociationEvent) -> None:
        handlers.index_association(unit_of_work=self.unit_of_work, event=event)

    @event_consumer(SEARCH_PEOPLE_INDEXER)
    def index_individual(self, event: IndividualEvent) -> None:
        if isinstance(event, IndividualDeletedV1):
            handlers.remove_individual(unit_of_work=self.unit_of_work, event=event)
        else:
            handlers.index_individual(unit_of_work=self.unit_of_work, event=event)

    @rpc(expected_exceptions=EXPECTED_ERRORS, trusted_arguments={"principal": ("gateway",)})
    def search_associations(self, query: AssociationQuery, principal: Principal | None = None) -> AssociationResults:
        """`principal` is who asks, or None for the public."""
        return handlers.search_associations(unit_of_work=self.unit_of_work, query=query, principal=principal)

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def suggest_associations(self, query: SuggestQuery) -> Suggestions:
        return handlers.suggest_associations(unit_of_work=self.unit_of_work, query=query)

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def nearby_associations(self, query: NearbyQuery) -> list[AssociationHit]:
        """Verified associations within `radius_km` of (lat, lon), nearest first, each with `distance_km`."""
        return handlers.nearby_associations(unit_of_work=self.unit_of_work, query=query)

    @rpc(expected_exceptions=EXPECTED_ERRORS, trusted_arguments={"principal": ("gateway",)})
    def search_individuals(self, query: IndividualQuery, principal: Principal | None = None) -> IndividualResults:
        return handlers.search_individuals(unit_of_work=self.unit_of_work, query=query, principal=principal)
