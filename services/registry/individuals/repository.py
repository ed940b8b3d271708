"""Individual and membership queries. Profiles travel as plain dicts of the record's columns."""

from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contracts.individuals import AccountSummary, AssociationMembership, MembershipV1
from services.registry.db import AccountRecord, AssociationRecord, IndividualRecord, MembershipRecord

PROFILE_COLUMNS = tuple(column.key for column in IndividualRecord.__table__.columns)


def _profile(record: IndividualRecord) -> dict:
    return {column: getattr(record, column) for column in PROFILE_COLUMNS}


def _membership(record: MembershipRecord) -> MembershipV1:
    return MembershipV1.model_validate(record, from_attributes=True)


class IndividualRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, profile: dict) -> None:
        self.session.add(IndividualRecord(**profile))

    def get(self, individual_id: UUID) -> dict | None:
        record = self.session.get(IndividualRecord, individual_id)
        return None if record is None else _profile(record)

    def of_account(self, account_id: UUID) -> dict | None:
        record = self.session.scalar(select(IndividualRecord).where(IndividualRecord.account_id == account_id))
        return None if record is None else _profile(record)

    def save(self, profile: dict) -> None:
        record = self.session.get(IndividualRecord, profile["id"])
        for column in PROFILE_COLUMNS:
            setattr(record, column, profile[column])

    def delete_with_account(self, profile: dict) -> None:
        """The person and their account go; their memberships stay, anonymised (individual_id emptied)."""
        self.session.execute(
            MembershipRecord.__table__.update()
            .where(MembershipRecord.individual_id == profile["id"])
            .values(individual_id=None)
        )
        self.session.execute(delete(IndividualRecord).where(IndividualRecord.id == profile["id"]))
        self.session.execute(delete(AccountRecord).where(AccountRecord.id == profile["account_id"]))

    def delete_account(self, account_id: UUID) -> None:
        """An account without a profile; its sessions and admin rights go with it (ON DELETE CASCADE)."""
        self.session.execute(delete(AccountRecord).where(AccountRecord.id == account_id))

    def account_summary(self, account_id: UUID) -> AccountSummary:
        return AccountSummary.model_validate(self.session.get(AccountRecord, account_id), from_attributes=True)

    def add_membership(self, membership: MembershipV1) -> None:
        self.session.add(MembershipRecord(**membership.model_dump(), version=1))

    def membership(self, membership_id: UUID) -> tuple[MembershipV1, int] | None:
        record = self.session.get(MembershipRecord, membership_id)
        return None if record is None else (_membership(record), record.version)

    def save_membership(self, membership: MembershipV1, *, decided_by: UUID) -> int:
        record = self.session.get(MembershipRecord, membership.id)
        record.status = membership.status
        record.decided_at = membership.decided_at
        record.decided_by = decided_by
        record.version += 1
        return record.version

    def memberships_of(self, individual_id: UUID) -> list[MembershipV1]:
        records = self.session.scalars(
            select(MembershipRecord)
            .where(MembershipRecord.individual_id == individual_id)
            .order_by(MembershipRecord.requested_at)
        )
        return [_membership(record) for record in records]

    def memberships_of_association(self, association_id: UUID, status: str | None, limit: int) -> list:
        """The association's requests to join, oldest first, each with the asker's name and city (one query)."""
        query = (
            select(MembershipRecord, IndividualRecord.name, IndividualRecord.city)
            .outerjoin(IndividualRecord, IndividualRecord.id == MembershipRecord.individual_id)
            .where(MembershipRecord.association_id == association_id)
            .order_by(MembershipRecord.requested_at, MembershipRecord.id)
            .limit(limit)
        )
        if status is not None:
            query = query.where(MembershipRecord.status == status)
        return [
            AssociationMembership(**dict(_membership(record)), individual_name=name, individual_city=city)
            for record, name, city in self.session.execute(query)
        ]

    def accepted_association_ids(self, individual_id: UUID) -> list[UUID]:
        return list(
            self.session.scalars(
                select(MembershipRecord.association_id)
                .where(MembershipRecord.individual_id == individual_id, MembershipRecord.status == "accepted")
                .order_by(MembershipRecord.association_id)
            )
        )

    def after(self, after_id: UUID | None, limit: int) -> list[dict]:
        """Every individual in id order, a page at a time (for exports and reindexing)."""
        query = select(IndividualRecord).order_by(IndividualRecord.id).limit(limit)
        if after_id is not None:
            query = query.where(IndividualRecord.id > after_id)
        return [_profile(record) for record in self.session.scalars(query)]

    def memberships_after(self, after_id: UUID | None, limit: int) -> list[tuple[MembershipV1, int]]:
        """Every membership in id order with its version, anonymised ones included, a page at a time."""
        query = select(MembershipRecord).order_by(MembershipRecord.id).limit(limit)
        if after_id is not None:
            query = query.where(MembershipRecord.id > after_id)
        return [(_membership(record), record.version) for record in self.session.scalars(query)]

    def accepted_association_ids_of(self, individual_ids: list[UUID]) -> dict[UUID, list[UUID]]:
        """The accepted memberships of each of these individuals, in one query (none for nobody)."""
        found: dict[UUID, list[UUID]] = {individual_id: [] for individual_id in individual_ids}
        if not individual_ids:
            return found
        rows = self.session.execute(
            select(MembershipRecord.individual_id, MembershipRecord.association_id)
            .where(MembershipRecord.individual_id.in_(individual_ids), MembershipRecord.status == "accepted")
            .order_by(MembershipRecord.individual_id, MembershipRecord.association_id)
        )
        for individual_id, association_id in rows:
            found[individual_id].append(association_id)
        return found

    def association_names(self, association_ids: list[UUID]) -> dict[UUID, str]:
        rows = self.session.execute(
            select(AssociationRecord.id, AssociationRecord.name).where(AssociationRecord.id.in_(association_ids))
        )
        return dict(rows.all())
