"""Creating indices, and rebuilding one beside the live one: a new index behind the `…-building` alias (writes go
to both meanwhile), then one alias update makes it the live one.

A rebuild holds a document in the `…rebuilds` index while it runs, so that a second one refuses
to begin: two at once would leave two indices behind the building alias, after which every
write would fail. A rebuild that has written nothing for REBUILD_LEASE is taken to have died.
"""

from contextlib import suppress
from datetime import UTC, datetime

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError

from services.search.domain import REBUILD_LEASE, Clock, RebuildRunning
from services.search.elastic.mappings import INDEX_SETTINGS, REBUILD_MAPPINGS, IndexNames

REBUILD_SETTINGS = {"number_of_shards": 1, "auto_expand_replicas": "0-1"}


def create_index(
    client: Elasticsearch,
    name: str,
    mappings: dict,
    *,
    alias: str | None = None,
    settings: dict = INDEX_SETTINGS,
    exist_ok: bool = False,
) -> None:
    try:
        client.indices.create(index=name, settings=settings, mappings=mappings, aliases={alias: {}} if alias else None)
    except ApiError as exc:
        if not (exist_ok and exc.error == "resource_already_exists_exception"):
            raise


class Rebuild:
    """Rebuilding the index behind `alias` (`kind` names it in messages), on a client with a long timeout."""

    def __init__(
        self, client: Elasticsearch, names: IndexNames, *, kind: str, alias: str, building_alias: str, clock: Clock
    ):
        self.client = client
        self.names = names
        self.kind = kind
        self.alias = alias
        self.building_alias = building_alias
        self.clock = clock

    def begin(self, mappings: dict) -> None:
        """Raises RebuildRunning if another rebuild holds the index; an abandoned one's index is deleted. The new
        index is named after the alias it will serve."""
        self._claim()
        for index in self.indices_behind(self.building_alias):
            self.client.indices.delete(index=index)
        # Only a name, unique even when the clock stands still in a test.
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        create_index(self.client, f"{self.alias}-{stamp}", mappings, alias=self.building_alias)

    def hold(self) -> None:
        """The rebuild is alive: held for another REBUILD_LEASE."""
        self.client.index(index=self.names.rebuilds, id=self.alias, document=self._held_now())

    def finish(self) -> None:
        """One alias update makes the rebuilt index the live one; the old one is deleted and the rebuild let go."""
        [rebuilt] = self.indices_behind(self.building_alias)
        old = self.indices_behind(self.alias)
        self.client.indices.refresh(index=rebuilt)
        self.client.indices.update_aliases(
            actions=[{"remove": {"index": index, "alias": self.alias}} for index in old]
            + [
                {"add": {"index": rebuilt, "alias": self.alias}},
                {"remove": {"index": rebuilt, "alias": self.building_alias}},
            ]
        )
        for index in old:
            self.client.indices.delete(index=index)
        with suppress(NotFoundError):
            self.client.delete(index=self.names.rebuilds, id=self.alias)

    def indices_behind(self, alias: str) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def _claim(self) -> None:
        """Create the rebuild's document, or take over one whose rebuild has died, only if no one else changed it
        meanwhile (its sequence number)."""
        create_index(self.client, self.names.rebuilds, REBUILD_MAPPINGS, settings=REBUILD_SETTINGS, exist_ok=True)
        try:
            self.client.create(index=self.names.rebuilds, id=self.alias, document=self._held_now())
            return
        except ConflictError:
            held = self.client.get(index=self.names.rebuilds, id=self.alias)
        active_at = datetime.fromisoformat(held["_source"]["active_at"])
        if self.clock() - active_at < REBUILD_LEASE:
            raise RebuildRunning.of(self.kind, active_at)
        try:
            self.client.index(
                index=self.names.rebuilds,
                id=self.alias,
                document=self._held_now(),
                if_seq_no=held["_seq_no"],
                if_primary_term=held["_primary_term"],
            )
        except ConflictError:
            raise RebuildRunning.of(self.kind, self.clock()) from None

    def _held_now(self) -> dict:
        return {"active_at": self.clock().isoformat()}
