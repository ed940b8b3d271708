"""Who may see what, and what search needs from an engine, whatever the engine is. Plain Python."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID

from contracts.accounts import Principal
from contracts.errors import Forbidden
from contracts.search import (
    AssociationQuery,
    AssociationResults,
    IndividualQuery,
    IndividualResults,
    Suggestions,
    SuggestQuery,
)
from services.search.documents import AssociationDocument, IndividualDocument

# Relevance, on both engines: hits whose every typed word is in the first tier's fields come first, then those of
# the second tier, and so on; within a tier, nearest first when a point is given, then by name, then by id.
ASSOCIATION_TIERS = (
    ("name", "alternate_names"),
    ("name", "alternate_names", "city", "office_bearer_names"),
    ("name", "alternate_names", "city", "office_bearer_names", "description"),
)
INDIVIDUAL_TIERS = (("name",), ("name", "city"))
# Type-ahead looks at names only, and suggests by name.
SUGGESTED_FIELDS = ("name", "alternate_names")
# A rebuild that has written nothing for this long is taken to have died: the next one may take its place.
REBUILD_LEASE = timedelta(minutes=10)


Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class RebuildRunning(Exception):
    """Another rebuild of the same index is under way; two at once would leave the index in a muddle."""

    @classmethod
    def of(cls, index: str, active_at: datetime) -> "RebuildRunning":
        active_at = active_at.astimezone(UTC)
        return cls(
            f"a rebuild of the {index} index is already under way (it last wrote at {active_at:%Y-%m-%d %H:%M:%S} UTC);"
            f" wait for it to finish, or, if its process has died, run this again after"
            f" {active_at + REBUILD_LEASE:%H:%M:%S} UTC"
        )


@dataclass(frozen=True)
class AssociationAudience:
    """The public sees verified associations only; Cell staff see every status and may filter by it."""

    cell_staff: bool = False

    @classmethod
    def of(cls, principal: Principal | None) -> "AssociationAudience":
        return cls(cell_staff=principal is not None and principal.is_cell_staff)

    def public_only(self, query: AssociationQuery) -> bool:
        if query.status and not self.cell_staff:
            raise Forbidden("only the Mizo Diaspora Cell can search associations by status")
        return not self.cell_staff


@dataclass(frozen=True)
class IndividualAudience:
    """What an individual's visibility lets each caller see.

    `public`: everyone signed in; `associations`: admins of a verified association in the
    individual's country; `private`: the Cell only. Everyone sees themselves.
    """

    everyone: bool = False
    association_countries: frozenset[str] = frozenset()
    own_id: UUID | None = None

    @classmethod
    def of(cls, principal: Principal) -> "IndividualAudience":
        return cls(
            everyone=principal.is_cell_staff,
            association_countries=frozenset(held.country for held in principal.administers if held.verified),
            own_id=principal.individual_id,
        )

    def may_see(self, individual: IndividualDocument) -> bool:
        """The rule each engine expresses as a filter; the contract suite checks that they agree with it."""
        return (
            self.everyone
            or individual.id == self.own_id
            or individual.visibility == "public"
            or (individual.visibility == "associations" and individual.country in self.association_countries)
        )


class SearchIndex(Protocol):
    """The port both engines implement; every write is kept only if its version is newer than the stored one."""

    def put_association(self, document: AssociationDocument, *, version: int) -> bool:
        """Store the association unless a newer version is already there; True if stored."""

    def put_individual(self, document: IndividualDocument, *, version: int) -> bool:
        """Store the individual unless a newer version (or their removal) is already there; True if stored."""

    def remove_individual(self, individual_id: UUID, *, version: int) -> bool:
        """Forget the individual; an older event arriving later cannot bring them back. True if removed."""

    def search_associations(self, query: AssociationQuery, *, public_only: bool) -> AssociationResults: ...

    def suggest_associations(self, query: SuggestQuery) -> Suggestions: ...

    def search_individuals(self, query: IndividualQuery, audience: IndividualAudience) -> IndividualResults: ...


class RebuildableIndex(Protocol):
    """What `diasporahub search reindex|verify` needs, beside the port above: each kind is rebuilt beside the
    live index while that one keeps answering and receiving writes (they go to both), then switched at once."""

    # Associations

    def begin_rebuild(self) -> None:
        """Start an empty association index beside the live one; writes go to both from now on.

        Raises RebuildRunning while another rebuild is under way. An earlier rebuild that never finished,
        and wrote nothing for REBUILD_LEASE (its process died), is discarded.
        """

    def put_rebuilt_associations(self, documents: list[tuple[AssociationDocument, int]]) -> None:
        """Into the index being rebuilt, each unless a newer version is there already; the rebuild stays held."""

    def finish_rebuild(self) -> None:
        """The rebuilt index becomes the live one at once; the old one is removed."""

    def association_count(self) -> int:
        """How many associations the live index holds, whatever their status."""

    def stored_associations(self) -> Iterator[tuple[AssociationDocument, int]]:
        """Every association in the live index with its version."""

    def remove_association(self, association_id: UUID) -> None: ...

    # Individuals (removed with `remove_individual` above, which leaves their version behind)

    def begin_individual_rebuild(self) -> None:
        """Start an individual index beside the live one holding only its removals (so that an older event
        cannot bring a removed person back); writes go to both from now on. As begin_rebuild, raises
        RebuildRunning while another rebuild of individuals is under way, and discards an abandoned one."""

    def put_rebuilt_individuals(self, documents: list[tuple[IndividualDocument, int]]) -> None:
        """Into the index being rebuilt, each unless a newer version (or their removal) is there already."""

    def finish_individual_rebuild(self) -> None:
        """The rebuilt individual index becomes the live one at once; the old one is removed."""

    def individual_count(self) -> int:
        """How many individuals the live index holds, not counting removed ones."""

    def stored_individuals(self) -> Iterator[tuple[IndividualDocument, int]]:
        """Every individual in the live index with their version, not the removed ones."""
