"""Association queries: records, admins, history, possible duplicates."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from contracts.associations import AssociationChange, AssociationV1, PossibleDuplicate
from contracts.errors import Conflict
from services.registry.associations.domain import FieldChange
from services.registry.associations.duplicates import Candidate, NamedAssociation
from services.registry.associations.name_index import (
    StoredNameIndex,
    association_names,
    holders_by_country,
    index_names,
    insert_names,
    insert_names_of_many,
    is_open,
    key_sizes_by_country,
)
from services.registry.db import AssociationAdminRecord, AssociationRecord, HistoryRecord, PossibleDuplicateRecord

ASSOCIATIONS = AssociationRecord.__table__
ADMINS = AssociationAdminRecord.__table__
# Built once: built per call, its construction and cache key cost the one-RPC read about 80 µs of its 300.
DOCUMENT_BY_ID = select(ASSOCIATIONS.c.document).where(ASSOCIATIONS.c.id == bindparam("association_id"))


class StoredAssociation(AssociationV1):
    """An association's document as read back from our own database, where only validated associations are
    written: the fields whose checks run in Python (the e-mail address, phone number, codes, unique lists, the
    founding year) are taken as stored. Only `stored_association` uses it, to build the AssociationV1."""

    email: str
    phone: str | None = None
    country: str
    languages: list[str]
    alternate_names: list[str] = []
    categories: list[str] = []
    founded_year: int | None = None


def stored_association(document: dict) -> AssociationV1:
    """The AssociationV1 that `AssociationV1.model_validate(document)` gives for a stored document, at a fraction of
    its CPU: validating the document again cost the one-RPC read about 50 µs of its 300 (benchmarks/registry_read.py),
    most of it in the e-mail address's check."""
    stored = StoredAssociation.model_validate(document)
    return AssociationV1.model_construct(stored.model_fields_set, **stored.__dict__)


def _columns(association: AssociationV1) -> dict:
    return {
        "name": association.name,
        "country": association.country,
        "status": association.status,
        "parent_id": association.parent_id,
        "merged_into": association.merged_into,
        "verification_due_at": association.verification_due_at,
        "version": association.version,
        "registered_at": association.registered_at,
        "updated_at": association.updated_at,
        "document": association.model_dump(mode="json"),
    }


class AssociationRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, association: AssociationV1, *, import_key: str | None = None) -> None:
        """The association, and its names in the duplicate finder's index."""
        self.session.flush()  # what the session holds goes first
        # The row as parameters, not .values(): the statement stays the same one, compiled once.
        self.session.execute(
            ASSOCIATIONS.insert(), {"id": association.id, "import_key": import_key, **_columns(association)}
        )
        if is_open(association):  # new: it has no names in the index yet
            insert_names(self.session, association.id, association.country, association_names(association))

    def add_imported(self, imported: list[tuple[AssociationV1, str]]) -> None:
        """New associations with their import keys, and their names in the duplicate finder's index: one insert of
        each kind for them all (an import chunk), after a flush that puts what the session holds first."""
        if not imported:
            return
        self.session.flush()
        self.session.execute(
            ASSOCIATIONS.insert(),
            [{"id": association.id, "import_key": key, **_columns(association)} for association, key in imported],
        )
        insert_names_of_many(
            self.session,
            (
                (association.id, association.country, association_names(association))
                for association, _key in imported
                if is_open(association)
            ),
        )

    def save(self, association: AssociationV1) -> None:
        """Store the next version; if another change committed first, refuse rather than overwrite it."""
        self.session.flush()
        changed = self.session.execute(
            update(AssociationRecord)
            .where(AssociationRecord.id == association.id, AssociationRecord.version == association.version - 1)
            .values(**_columns(association))
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:
            raise Conflict(f"association {association.id} was changed by someone else meanwhile; reload and try again")
        index_names(self.session, association)
        self.session.expire_all()

    def get(self, association_id: UUID) -> AssociationV1 | None:
        """Only the document, through SQLAlchemy Core: the ORM's loading of a whole record cost the one-RPC read
        more than anything else in the registry (benchmarks/read_path.py)."""
        document = self.session.connection().scalar(DOCUMENT_BY_ID, {"association_id": association_id})
        return None if document is None else stored_association(document)

    def existing_ids(self, association_ids: set[UUID]) -> set[UUID]:
        return set(self.session.scalars(select(AssociationRecord.id).where(AssociationRecord.id.in_(association_ids))))

    def exists(self, association_id: UUID) -> bool:
        return self.session.get(AssociationRecord, association_id) is not None

    def page(self, *, status: str | None, page: int, size: int) -> tuple[int, list[AssociationV1]]:
        query = select(AssociationRecord).where(AssociationRecord.merged_into.is_(None))
        if status is not None:
            query = query.where(AssociationRecord.status == status)
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        records = self.session.scalars(
            query.order_by(AssociationRecord.registered_at, AssociationRecord.id).limit(size).offset((page - 1) * size)
        )
        return total, [AssociationV1.model_validate(record.document) for record in records]

    def due_for_verification(self, now: datetime) -> list[AssociationV1]:
        records = self.session.scalars(
            select(AssociationRecord)
            .where(
                AssociationRecord.status == "verified",
                AssociationRecord.merged_into.is_(None),
                AssociationRecord.verification_due_at <= now,
            )
            .order_by(AssociationRecord.verification_due_at)
        )
        return [AssociationV1.model_validate(record.document) for record in records]

    def after(self, after_id: UUID | None, limit: int) -> list[AssociationV1]:
        """Every association in id order, a page at a time (for exports and reindexing)."""
        query = select(AssociationRecord.document).order_by(AssociationRecord.id).limit(limit)
        if after_id is not None:
            query = query.where(AssociationRecord.id > after_id)
        return [AssociationV1.model_validate(document) for document in self.session.scalars(query)]

    def name_index(self, country: str) -> StoredNameIndex:
        """The duplicate finder's index of the country's open associations, kept current by `add` and `save`."""
        return StoredNameIndex(self.session, country)

    def key_sizes_by_country(self, keys: dict[str, set[str]]) -> dict[str, dict[str, int]]:
        """The duplicate finder's index read for many countries' keys at once (an import chunk's)."""
        return key_sizes_by_country(self.session, keys)

    def holders_by_country(
        self, keys: dict[str, set[str]]
    ) -> tuple[dict[str, dict[str, list[UUID]]], dict[UUID, list[tuple[str, ...]]]]:
        return holders_by_country(self.session, keys)

    def named_in_country(self, country: str) -> list[NamedAssociation]:
        """Every open association of a country with its names, for duplicate checks."""
        documents = self.session.scalars(
            select(AssociationRecord.document).where(
                AssociationRecord.country == country,
                AssociationRecord.merged_into.is_(None),
                AssociationRecord.status != "dissolved",
            )
        )
        return [
            # Documents written by migration 0002 from 0001 rows have no alternate_names.
            NamedAssociation(UUID(document["id"]), (document["name"], *document.get("alternate_names", ())))
            for document in documents
        ]

    def imported_keys(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            found.update(
                self.session.scalars(
                    select(AssociationRecord.import_key).where(
                        AssociationRecord.import_key.in_(keys[start : start + 500])
                    )
                )
            )
        return found

    def add_admin(self, association_id: UUID, account_id: UUID, now: datetime) -> None:
        self.session.flush()  # the association row first: no ORM relationship tells SQLAlchemy the order
        self.session.execute(
            ADMINS.insert(), {"association_id": association_id, "account_id": account_id, "granted_at": now}
        )

    def admin_ids(self, association_id: UUID) -> set[UUID]:
        return set(
            self.session.scalars(
                select(AssociationAdminRecord.account_id).where(AssociationAdminRecord.association_id == association_id)
            )
        )

    def record_history(
        self, association_id: UUID, changes: list[FieldChange], *, account_id: UUID | None, now: datetime
    ) -> None:
        self.session.add_all(
            HistoryRecord(
                association_id=association_id,
                account_id=account_id,
                changed_at=now,
                field=change.field,
                old_value=change.old_value,
                new_value=change.new_value,
            )
            for change in changes
        )

    def history(self, association_id: UUID) -> list[AssociationChange]:
        records = self.session.scalars(
            select(HistoryRecord).where(HistoryRecord.association_id == association_id).order_by(HistoryRecord.id)
        )
        return [AssociationChange.model_validate(record, from_attributes=True) for record in records]

    def flag_duplicates(self, flagged: dict[UUID, list[Candidate]]) -> None:
        """Flags for many associations at once: one flush puts their rows first (no ORM relationship tells
        SQLAlchemy the order), then one insert of all the flags."""
        self.session.flush()
        rows = [
            {"association_id": association_id, "candidate_id": candidate.id, "score": candidate.score}
            for association_id, candidates in flagged.items()
            for candidate in candidates
        ]
        if rows:
            self.session.execute(PossibleDuplicateRecord.__table__.insert(), rows)

    def clear_duplicates(self, association_id: UUID) -> None:
        """Its own flags, and its place among the others' candidates."""
        self.session.execute(
            delete(PossibleDuplicateRecord).where(
                or_(
                    PossibleDuplicateRecord.association_id == association_id,
                    PossibleDuplicateRecord.candidate_id == association_id,
                )
            )
        )

    def possible_duplicates(self, association_ids: list[UUID]) -> dict[UUID, list[PossibleDuplicate]]:
        rows = self.session.execute(
            select(
                PossibleDuplicateRecord.association_id,
                AssociationRecord.id,
                AssociationRecord.name,
                PossibleDuplicateRecord.score,
            )
            .join(AssociationRecord, AssociationRecord.id == PossibleDuplicateRecord.candidate_id)
            .where(PossibleDuplicateRecord.association_id.in_(association_ids))
            .order_by(PossibleDuplicateRecord.score.desc())
        ).all()
        found: dict[UUID, list[PossibleDuplicate]] = {association_id: [] for association_id in association_ids}
        for association_id, candidate_id, name, score in rows:
            found[association_id].append(PossibleDuplicate(id=candidate_id, name=name, score=score))
        return found
