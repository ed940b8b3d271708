"""The directory projection's queries: associations and memberships as the registry's events describe them."""

from functools import lru_cache
from uuid import UUID

from sqlalchemy import Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.associations import AssociationV1
from contracts.individuals import MembershipV1
from services.messaging.db import DirectoryAssociation, DirectoryMembership
from services.messaging.domain import DirectoryEntry

# Plain rows, not ORM objects: a broadcast reads a thousand of them and building ORM objects cost most of its time.
_COLUMNS = (
    DirectoryAssociation.id,
    DirectoryAssociation.name,
    DirectoryAssociation.status,
    DirectoryAssociation.country,
    DirectoryAssociation.languages,
    DirectoryAssociation.categories,
    DirectoryAssociation.parent_id,
    DirectoryAssociation.email,
)


def _entry(record) -> DirectoryEntry:
    return DirectoryEntry(
        id=record.id,
        name=record.name,
        status=record.status,
        country=record.country,
        languages=tuple(record.languages),
        categories=tuple(record.categories),
        parent_id=record.parent_id,
        email=record.email,
    )


def directory_columns(association: AssociationV1) -> dict:
    """What the directory keeps of an association besides its version (also what `verify` compares)."""
    return {
        "name": association.name,
        "status": "merged" if association.merged_into is not None else association.status,
        "country": association.country,
        "city": association.city,
        "languages": list(association.languages),
        "categories": list(association.categories),
        "parent_id": association.parent_id,
        "email": str(association.email),
    }


def membership_columns(membership: MembershipV1) -> dict:
    """What the directory keeps of a membership besides its version (also what `verify` compares)."""
    return {
        "status": membership.status,
        "individual_id": membership.individual_id,
        "association_id": membership.association_id,
    }


class DirectoryRepository:
    def __init__(self, session: Session):
        self.session = session

    def put_association(self, association: AssociationV1, admin_account_ids: list[UUID] | None) -> bool:
        """Keep the newest version only; False if a newer (or the same) one is stored already."""
        row = {"id": association.id, "version": association.version, **directory_columns(association)}
        if admin_account_ids is not None:
            row["admin_account_ids"] = [str(account_id) for account_id in admin_account_ids]
        upsert = _newer_version_upsert(self.session.get_bind().dialect.name, admin_account_ids is not None)
        return self.session.execute(upsert, {"admin_account_ids": []} | row).rowcount == 1

    def remove_admin(self, account_id: UUID, association_ids: list[UUID]) -> None:
        """The account administers none of these any more (removing it twice changes nothing)."""
        gone = str(account_id)
        for record in self.session.scalars(
            select(DirectoryAssociation).where(DirectoryAssociation.id.in_(association_ids)).with_for_update()
        ):
            if gone in record.admin_account_ids:
                record.admin_account_ids = [kept for kept in record.admin_account_ids if kept != gone]

    def put_membership(self, membership: MembershipV1, version: int) -> bool:
        """Keep the newest version only; at the same version, only the registry's anonymisation applies (it empties
        `individual_id` without a new version when the person deletes their profile)."""
        stored = self.session.get(DirectoryMembership, membership.id, with_for_update=True)
        columns = {**membership_columns(membership), "version": version}
        if stored is None:
            self.session.add(DirectoryMembership(id=membership.id, **columns))
            return True
        anonymised = stored.individual_id is not None and membership.individual_id is None
        if stored.version > version or (stored.version == version and not anonymised):
            return False
        self.session.execute(
            update(DirectoryMembership).where(DirectoryMembership.id == membership.id).values(**columns)
        )
        return True

    def anonymise_memberships(self, individual_id: UUID) -> None:
        """The person deleted their profile: their memberships stay, without them, as in the registry."""
        self.session.execute(
            update(DirectoryMembership)
            .where(DirectoryMembership.individual_id == individual_id)
            .values(individual_id=None)
        )

    def associations(self, ids: list[UUID]) -> dict[UUID, DirectoryEntry]:
        found: dict[UUID, DirectoryEntry] = {}
        for start in range(0, len(ids), 500):
            rows = self.session.execute(select(*_COLUMNS).where(DirectoryAssociation.id.in_(ids[start : start + 500])))
            found.update((row.id, _entry(row)) for row in rows)
        return found

    def verified(self) -> list[DirectoryEntry]:
        return [
            _entry(record)
            for record in self.session.execute(select(*_COLUMNS).where(DirectoryAssociation.status == "verified"))
        ]

    def branches_of(self, association_id: UUID) -> list[DirectoryEntry]:
        return [
            _entry(record)
            for record in self.session.execute(
                select(*_COLUMNS).where(
                    DirectoryAssociation.parent_id == association_id, DirectoryAssociation.status == "verified"
                )
            )
        ]

    def members_of(self, association_id: UUID) -> list[UUID]:
        return [
            individual_id
            for individual_id in self.session.scalars(
                select(DirectoryMembership.individual_id).where(
                    DirectoryMembership.association_id == association_id,
                    DirectoryMembership.status == "accepted",
                    DirectoryMembership.individual_id.is_not(None),
                )
            )
        ]


_ASSOCIATIONS = DirectoryAssociation.__table__


@lru_cache(maxsize=8)
def _newer_version_upsert(dialect: str, sets_admins: bool) -> Insert:
    """One statement per event instead of the ORM's read, then insert or update: an insert of a new association,
    or an update of a stored one only where its version is older (its row locked meanwhile on PostgreSQL). Built
    once: every association event runs it. Without admins the stored ones are kept (a new one gets none)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_ASSOCIATIONS)
    kept = {"id"} if sets_admins else {"id", "admin_account_ids"}
    return statement.on_conflict_do_update(
        index_elements=[_ASSOCIATIONS.c.id],
        set_={column.name: statement.excluded[column.name] for column in _ASSOCIATIONS.c if column.name not in kept},
        where=_ASSOCIATIONS.c.version < statement.excluded.version,
    )
