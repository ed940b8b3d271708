"""Search routes: parse the query string, say who is asking, and leave every rule to the search service."""

from werkzeug.wrappers import Request

from contracts.errors import Unauthenticated
from contracts.search import AssociationQuery, IndividualQuery, SuggestQuery
from contracts.validation import parse
from gateway.auth import principal_of
from gateway.http import api


def query_of(request: Request) -> dict[str, str | list[str]]:
    """A repeated parameter (`country=IN&country=SG`) becomes a list; the contracts also split `IN,SG`."""
    return {name: values[0] if len(values) == 1 else values for name, values in request.args.lists()}


def principal_payload(service, request: Request) -> dict | None:
    principal = principal_of(service, request)
    return None if principal is None else principal.model_dump(mode="json")


class SearchRoutes:
    @api("GET", "/api/v1/search/associations")
    def search_associations(self, request: Request):
        query = parse(AssociationQuery, query_of(request))
        return self.search.search_associations(
            query.model_dump(mode="json", exclude_defaults=True), principal_payload(self, request)
        )

    @api("GET", "/api/v1/search/suggest")
    def suggest_associations(self, request: Request):
        query = parse(SuggestQuery, query_of(request))
        return self.search.suggest_associations(query.model_dump(mode="json"))

    @api("GET", "/api/v1/search/individuals")
    def search_individuals(self, request: Request):
        query = parse(IndividualQuery, query_of(request))
        principal = principal_payload(self, request)
        if principal is None:
            raise Unauthenticated("sign in to search for people")
        return self.search.search_individuals(query.model_dump(mode="json", exclude_defaults=True), principal)
