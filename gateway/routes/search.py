"""Search routes: parse the query string, say who is asking, and leave every rule to the search service."""

from werkzeug.wrappers import Request, Response

from contracts.errors import Unauthenticated
from contracts.search import (
    AssociationQuery,
    AssociationResults,
    IndividualQuery,
    IndividualResults,
    Suggestions,
    SuggestQuery,
)
from gateway.auth import principal_of, session_token_of
from gateway.http import Session, api
from gateway.public_reads import search_key


def principal_payload(service, request: Request) -> dict | None:
    principal = principal_of(service, request)
    return None if principal is None else principal.model_dump(mode="json")


class SearchRoutes:
    @api(
        "GET",
        "/api/v1/search/associations",
        summary="Find associations by text, country, language, category, place",
        who="anyone (verified associations); the Cell also by `status`",
        session=Session.OPTIONAL,
        query=AssociationQuery,
        returns=AssociationResults,
    )
    def search_associations(self, request: Request, query: AssociationQuery):
        payload = query.model_dump(mode="json", exclude_defaults=True)
        if session_token_of(request) is not None:
            return self.search.search_associations(payload, principal_payload(self, request))
        # Without a session the result depends on the query alone, the same for every anonymous caller: kept as
        # anonymous association reads are (public_reads.py). People are never kept.
        kept = self.public_reads.read(search_key(payload), lambda: self.search.search_associations(payload, None))
        return Response(kept, mimetype="application/json")

    @api(
        "GET",
        "/api/v1/search/suggest",
        summary="Type-ahead over verified associations' names",
        who="anyone",
        session=Session.NONE,
        query=SuggestQuery,
        returns=Suggestions,
    )
    def suggest_associations(self, request: Request, query: SuggestQuery):
        return self.search.suggest_associations(query.model_dump(mode="json"))

    @api(
        "GET",
        "/api/v1/search/individuals",
        summary="People, as their visibility allows the caller",
        who="signed in",
        session=Session.REQUIRED,
        query=IndividualQuery,
        returns=IndividualResults,
    )
    def search_individuals(self, request: Request, query: IndividualQuery):
        principal = principal_payload(self, request)
        if principal is None:
            raise Unauthenticated("sign in to search for people")
        return self.search.search_individuals(query.model_dump(mode="json", exclude_defaults=True), principal)
