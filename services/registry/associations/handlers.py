"""Association use cases. `unit_of_work` is a factory of servicekit units of work (or a fake); `now` is the
injected clock's time."""

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from contracts.associations import (
    AssociationChange,
    AssociationDraft,
    AssociationForReview,
    AssociationPatch,
    AssociationV1,
    ReviewPage,
)
from contracts.errors import NotFound
from services.registry.accounts.handlers import authenticate, authenticate_if_signed_in
from services.registry.associations import domain
from services.registry.associations.duplicates import find_candidates
from services.registry.authorization import require_cell_staff, require_editor, require_visible

log = logging.getLogger(__name__)


def register_association(
    *,
    unit_of_work: Callable,
    locate_city: domain.LocateCity,
    now: datetime,
    token: str | None,
    draft: AssociationDraft,
) -> AssociationV1:
    """The caller becomes the association's first admin; look-alikes in its country are flagged for the Cell."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        if draft.parent_id is not None and not work.associations.exists(draft.parent_id):
            raise NotFound(f"parent_id: there is no association with id {draft.parent_id}")
        association, registered = domain.register(draft, now=now, locate_city=locate_city, actor=actor.account_id)
        candidates = find_candidates(work.associations.name_index(draft.country), (draft.name, *draft.alternate_names))
        work.associations.add(association)
        work.associations.add_admin(association.id, actor.account_id, now)
        work.associations.flag_duplicates({association.id: candidates})
        # Services that keep a copy of the directory (messaging) learn who administers it from the event.
        work.add_event(registered.model_copy(update={"admin_account_ids": [actor.account_id]}))
    log.info("registered association %s", association.id)
    return association


def get_association(*, unit_of_work: Callable, now: datetime, token: str | None, association_id: UUID) -> AssociationV1:
    with unit_of_work() as work:
        actor = authenticate_if_signed_in(work=work, token=token, now=now)
        return require_visible(actor, work.associations.get(association_id), association_id, now=now)


def update_association(
    *,
    unit_of_work: Callable,
    locate_city: domain.LocateCity,
    now: datetime,
    token: str | None,
    association_id: UUID,
    patch: AssociationPatch,
) -> AssociationV1:
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        association = require_visible(actor, work.associations.get(association_id), association_id, now=now)
        require_editor(actor, association)
        if patch.parent_id is not None and not work.associations.exists(patch.parent_id):
            raise NotFound(f"parent_id: there is no association with id {patch.parent_id}")
        updated, changes, event = domain.edit(
            association, patch, now=now, locate_city=locate_city, actor=actor.account_id, by_cell=actor.is_cell_staff
        )
        if event is not None:
            work.associations.save(updated)
            work.associations.record_history(association_id, changes, account_id=actor.account_id, now=now)
            work.add_event(event)
    return updated


def decide(
    *,
    unit_of_work: Callable,
    now: datetime,
    token: str | None,
    association_id: UUID,
    decision: str,
    reason: str | None,
) -> AssociationV1:
    """Verify, reject or suspend (the Cell), or dissolve (the Cell or the association's admins)."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        association = require_visible(actor, work.associations.get(association_id), association_id, now=now)
        if decision == "dissolve":
            require_editor(actor, association)
        else:
            require_cell_staff(actor, f"{decision} an association")
        updated, changes, event = domain.decide(association, decision, reason=reason, now=now, actor=actor.account_id)
        work.associations.save(updated)
        work.associations.record_history(association_id, changes, account_id=actor.account_id, now=now)
        work.add_event(event)
    return updated


def merge(
    *, unit_of_work: Callable, now: datetime, token: str | None, association_id: UUID, into: UUID
) -> AssociationV1:
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        require_cell_staff(actor, "merge associations")
        merged = require_visible(actor, work.associations.get(association_id), association_id, now=now)
        kept = require_visible(actor, work.associations.get(into), into, now=now)
        updated, changes, event = domain.merge(merged, kept, now=now, actor=actor.account_id)
        work.associations.save(updated)
        work.associations.record_history(association_id, changes, account_id=actor.account_id, now=now)
        work.associations.clear_duplicates(association_id)
        work.add_event(event)
    return updated


def history(
    *, unit_of_work: Callable, now: datetime, token: str | None, association_id: UUID
) -> list[AssociationChange]:
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        association = require_visible(actor, work.associations.get(association_id), association_id, now=now)
        require_editor(actor, association)
        return work.associations.history(association_id)


def review_queue(
    *, unit_of_work: Callable, now: datetime, token: str | None, status: str | None, page: int, size: int
) -> ReviewPage:
    """For the Cell: associations by status, each with its possible duplicates."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        require_cell_staff(actor, "list associations for review")
        total, associations = work.associations.page(status=status, page=page, size=size)
        duplicates = work.associations.possible_duplicates([association.id for association in associations])
        items = [
            AssociationForReview(**dict(association), possible_duplicates=duplicates[association.id])
            for association in associations
        ]
        return ReviewPage(total=total, items=items)


def due_for_verification(*, unit_of_work: Callable, now: datetime, token: str | None) -> list[AssociationV1]:
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        require_cell_staff(actor, "see which verifications are due")
        return work.associations.due_for_verification(now)


def lapse_overdue_verifications(*, unit_of_work: Callable, now: datetime) -> int:
    """Verified associations past their due date go back to pending review, announced so that search drops them.
    (Until this runs, authorization already treats them as unverified: see authorization.verification_holds.)"""
    with unit_of_work() as work:
        overdue = work.associations.due_for_verification(now)
        for association in overdue:
            updated, changes, event = domain.lapse(association, now=now)
            work.associations.save(updated)
            work.associations.record_history(association.id, changes, account_id=None, now=now)
            work.add_event(event)
    if overdue:
        log.info("%d verifications lapsed: back to pending review", len(overdue))
    return len(overdue)


def associations_after(*, unit_of_work: Callable, after_id: UUID | None, limit: int) -> list[AssociationV1]:
    """Every association in id order, for other services rebuilding what they derive from the registry."""
    with unit_of_work() as work:
        return work.associations.after(after_id, limit)
