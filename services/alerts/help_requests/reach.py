"""Who was reached: messaging's reports on the deliveries of a help request's notifications (`delivery_sent.v1`,
`delivery_failed.v1`, carrying the request's reference) become steps of its timeline, which the requester, the
claimer and the Cell read: "Mizo Fellowship Dubai reached by e-mail", "… not reached by webhook after 9 attempts: …".

The consumer's unit of work remembers each event it handled, so a repeated report adds nothing.
"""

from collections.abc import Callable
from uuid import UUID

from contracts.events import DeliveryFailedV1, DeliverySentV1
from services.alerts.help_requests import domain
from services.alerts.protection import Sealer

CHANNEL_NAMES = {"email": "e-mail", "webhook": "webhook"}


def _recipient(party: str, names: dict[UUID, str]) -> tuple[str, str]:
    """(the timeline's actor, a name to read) of messaging's recipient party."""
    kind, _, identifier = party.partition(":")
    if kind == "cell":
        return "cell", "The Cell's duty mailbox"
    if kind == "association":
        association_id = UUID(identifier)
        return domain.association_party(association_id), names.get(association_id) or f"Association {identifier}"
    return party, party


def record_delivery(*, unit_of_work: Callable, sealer: Sealer, report: DeliverySentV1 | DeliveryFailedV1) -> bool:
    """Whether the report was about a help request (an advisory's, or one purged meanwhile, is left out)."""
    if report.reference is None:
        return False
    with unit_of_work() as work:
        help_request_id = work.help_requests.id_of_reference(report.reference)
        if help_request_id is None or work.help_requests.get(help_request_id).purged_at is not None:
            return False
        names = {entry.association_id: entry.name for entry in work.help_requests.notifications(help_request_id)}
        actor, name = _recipient(report.recipient, names)
        channel = CHANNEL_NAMES.get(report.channel, report.channel)
        if isinstance(report, DeliverySentV1):
            kind, note = f"reached_by_{report.channel}", f"{name} reached by {channel}"
        else:
            kind = f"not_reached_by_{report.channel}"
            attempts = f"{report.attempts} attempt" + ("" if report.attempts == 1 else "s")
            note = f"{name} not reached by {channel} after {attempts}: {report.error}"
        work.help_requests.add_step(
            help_request_id, at=report.occurred_at, kind=kind, actor=actor, note=sealer.seal(note)
        )
    return True
