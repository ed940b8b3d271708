"""Registry use cases. `unit_of_work` is a factory of servicekit units of work (or a fake)."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from contracts.associations import AssociationDraft, AssociationV1
from contracts.errors import NotFound
from services.registry import domain

log = logging.getLogger(__name__)


def register_association(*, unit_of_work: Callable, draft: AssociationDraft) -> AssociationV1:
    association, registered = domain.register_association(draft, now=datetime.now(UTC))
    with unit_of_work() as work:
        work.associations.add(association)
        work.add_event(registered)
    log.info("registered association %s", association.id)
    return association


def get_association(*, unit_of_work: Callable, association_id: UUID) -> AssociationV1:
    with unit_of_work() as work:
        association = work.associations.get(association_id)
    if association is None:
        raise NotFound(f"there is no association with id {association_id}")
    return association
