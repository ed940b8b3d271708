"""What search needs from an engine, whatever the engine is."""

from typing import Protocol

from contracts.associations import AssociationV1
from contracts.search import AssociationQuery, AssociationResults


class AssociationIndex(Protocol):
    def upsert(self, association: AssociationV1, *, version: int) -> bool:
        """Store the association unless a newer version is already there; True if stored."""

    def search(self, query: AssociationQuery) -> AssociationResults: ...
