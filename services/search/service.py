"""The search service's nameko entrypoints; the work is in handlers.py."""

from contracts.accounts import Principal
from contracts.errors import EXPECTED_ERRORS
from contracts.events import AssociationEvent, IndividualDeletedV1, IndividualEvent
from contracts.search import AssociationQuery, IndividualQuery, NearbyQuery, SuggestQuery
from contracts.topology import SEARCH_INDEXER, SEARCH_PEOPLE_INDEXER
from contracts.validation import parse
from servicekit.consumer import event_consumer
from servicekit.health import Pingable
from servicekit.logs import CallIdLogging
from servicekit.rpc import rpc
from services.search import handlers
from services.search.engines import SearchEngine


def _principal(payload: dict | None) -> Principal | None:
    return None if payload is None else Principal.model_validate(payload)


class SearchService(Pingable):
    name = "search"

    unit_of_work = SearchEngine()
    call_id_logging = CallIdLogging()

    @event_consumer(SEARCH_INDEXER)
    def index_association(self, event: AssociationEvent) -> None:
        handlers.index_association(unit_of_work=self.unit_of_work, event=event)

    @event_consumer(SEARCH_PEOPLE_INDEXER)
    def index_individual(self, event: IndividualEvent) -> None:
        if isinstance(event, IndividualDeletedV1):
            handlers.remove_individual(unit_of_work=self.unit_of_work, event=event)
        else:
            handlers.index_individual(unit_of_work=self.unit_of_work, event=event)

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def search_associations(self, query: dict, principal: dict | None = None) -> dict:
        """`principal` is who asks (contracts.accounts.Principal), or None for the public."""
        results = handlers.search_associations(
            unit_of_work=self.unit_of_work, query=parse(AssociationQuery, query), principal=_principal(principal)
        )
        return results.model_dump(mode="json", exclude_none=True)

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def suggest_associations(self, query: dict) -> dict:
        results = handlers.suggest_associations(unit_of_work=self.unit_of_work, query=parse(SuggestQuery, query))
        return results.model_dump(mode="json")

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def nearby_associations(self, lat, lon, radius_km, categories=None, languages=None, limit=50) -> list[dict]:
        """Verified associations within `radius_km` of (lat, lon), nearest first, each with `distance_km`."""
        query = parse(
            NearbyQuery,
            {
                "lat": lat,
                "lon": lon,
                "radius_km": radius_km,
                "categories": categories,
                "languages": languages,
                "limit": limit,
            },
        )
        hits = handlers.nearby_associations(unit_of_work=self.unit_of_work, query=query)
        return [hit.model_dump(mode="json", exclude_none=True) for hit in hits]

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def search_individuals(self, query: dict, principal: dict | None = None) -> dict:
        results = handlers.search_individuals(
            unit_of_work=self.unit_of_work, query=parse(IndividualQuery, query), principal=_principal(principal)
        )
        return results.model_dump(mode="json")
