"""Help request use cases: raise, read, list and block. `unit_of_work` is a factory of servicekit units of work;
`now` is the injected clock's time; the caller (`domain.Caller`) is the principal the gateway passed. The steps of
a case (claim, update, resolve…) are in steps.py, matching and escalation in matching.py."""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from contracts.alerts import (
    Contact,
    FollowKey,
    HelpRequestCreated,
    HelpRequestDraft,
    HelpRequestedV1,
    HelpRequestList,
    HelpRequestQuery,
    HelpRequestV1,
    RequesterBlock,
    RequesterBlockV1,
)
from contracts.associations import Location
from contracts.errors import Forbidden, Invalid, TooManyAttempts, Unauthenticated
from services.alerts.help_requests import domain
from services.alerts.help_requests.domain import Caller, Policy
from services.alerts.help_requests.model import HelpRequest
from services.alerts.help_requests.presentation import help_request_view, sealed_contact, sealed_location
from services.alerts.protection import Sealer

log = logging.getLogger(__name__)
LocateCity = Callable[[str, str], Location | None]
RATE_WINDOW = timedelta(hours=1)


def fingerprint(secret: str | None) -> str | None:
    """What is kept of a client address or a follow key: enough to compare, not to read back."""
    return None if secret is None else hashlib.sha256(secret.encode()).hexdigest()


def caller_of(principal, follow_key: str | None = None, record: HelpRequest | None = None) -> Caller:
    kept = None if record is None else record.follow_key_hash
    holds = bool(follow_key and kept and hmac.compare_digest(kept, fingerprint(follow_key)))
    return Caller(principal=principal, holds_follow_key=holds)


def actor_of(caller: Caller, roles: set[str], association_id: UUID | None = None) -> str:
    """How the timeline names who did a step: the Cell officer, the association, or the requester."""
    if "cell" in roles and caller.principal is not None:
        return f"cell:{caller.principal.account_id}"
    if association_id is not None:
        return domain.association_party(association_id)
    return "requester"


def _contact_of(caller: Caller, draft: HelpRequestDraft) -> Contact:
    if draft.contact is None:
        if caller.principal is None:
            raise Invalid("contact: without an account, give your name and a phone number or an e-mail address")
        return Contact(name=caller.principal.display_name, email=caller.principal.email)
    if draft.contact.phone is None and draft.contact.email is None:
        raise Invalid("contact: give a phone number or an e-mail address, so that the helpers can reach you")
    return draft.contact


def _place_of(draft: HelpRequestDraft, locate_city: LocateCity) -> tuple[Location | None, str | None, str | None]:
    place = draft.location
    if place.lat is not None:
        return Location(lat=place.lat, lon=place.lon), place.country, place.city
    found = locate_city(place.city, place.country)
    if found is None:
        raise Invalid(
            f"location: we do not know a city called {place.city!r} in {place.country}; give lat and lon instead"
        )
    return found, place.country, place.city


def _check_limits(work, caller: Caller, address_hash: str | None, policy: Policy, now: datetime) -> None:
    if caller.is_cell:
        return
    account_id = None if caller.principal is None else caller.principal.account_id
    if work.help_requests.is_blocked(account_id=account_id, address_hash=address_hash):
        raise Forbidden("You cannot raise help requests here; please call the Mizo Diaspora Cell.")
    since = now - RATE_WINDOW
    repository = work.help_requests
    if account_id is not None and (
        repository.raised_since(since=since, account_id=account_id) >= policy.requests_per_hour_per_account
    ):
        raise TooManyAttempts(
            f"You raised {policy.requests_per_hour_per_account} help requests within the hour; "
            "please call the Mizo Diaspora Cell, or add to a request you already raised."
        )
    if address_hash is not None and (
        repository.raised_since(since=since, address_hash=address_hash) >= policy.requests_per_hour_per_address
    ):
        raise TooManyAttempts(
            "Too many help requests came from your network within the hour; please call the Mizo Diaspora Cell."
        )


def raise_help_request(
    *,
    unit_of_work: Callable,
    sealer: Sealer,
    locate_city: LocateCity,
    policy: Policy,
    now: datetime,
    caller: Caller,
    client_address: str | None,
    draft: HelpRequestDraft,
) -> HelpRequestCreated:
    """Stored and due for matching at once; without an account, held for the Cell until it releases it."""
    contact = _contact_of(caller, draft)
    location, country, city = _place_of(draft, locate_city)
    address_hash = fingerprint(client_address)
    held = caller.principal is None
    follow_key = secrets.token_urlsafe(24) if held else None
    with unit_of_work() as work:
        _check_limits(work, caller, address_hash, policy, now)
        number = work.help_requests.next_reference_number(now.year)
        record = HelpRequest(
            id=uuid4(), reference=domain.reference(number, now.year), status="open", category=draft.category,
            urgency=draft.urgency, severity=draft.severity, country=country, city=city,
            approximate_lat=domain.approximate(location.lat), approximate_lon=domain.approximate(location.lon),
            summary=domain.summary_of(draft.description), languages=list(draft.languages),
            description_sealed=sealer.seal(draft.description), location_sealed=sealed_location(sealer, location),
            contact_sealed=sealed_contact(sealer, contact),
            requester_account_id=None if caller.principal is None else caller.principal.account_id,
            requester_address_hash=address_hash, follow_key_hash=fingerprint(follow_key),
            on_behalf_of_someone_else=draft.on_behalf_of_someone_else, held_for_cell=held, claimed_by=None,
            ring=domain.NOT_MATCHED, round=0, due_at=None if held else now, created_at=now, closed_at=None,
            purged_at=None, version=1,
        )  # fmt: skip
        work.help_requests.add(record)
        actor = actor_of(caller, {"cell"} if caller.is_cell else set())
        work.help_requests.add_step(record.id, at=now, kind="raised", actor=actor)
        work.help_requests.add_step(
            record.id, at=now, kind="held_for_cell" if held else "cell_informed", actor="alerts"
        )
        work.add_event(
            HelpRequestedV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=record.id, aggregate_version=1,
                reference=record.reference, status="open", category=record.category, urgency=record.urgency,
                country=country, city=city, held_for_cell=held,
            )
        )  # fmt: skip
    log.info("help request %s raised", record.reference)
    return HelpRequestCreated(
        id=record.id, reference=record.reference, status="open", notified_count=0, follow_key=follow_key
    )


def present(work, record: HelpRequest, *, caller: Caller, sealer: Sealer, now: datetime) -> HelpRequestV1:
    """The request as the caller may see it; a view of the restricted fields is recorded (who, when)."""
    roles = domain.roles_of(caller, work.help_requests.case(record))
    restricted = domain.sees_restricted(roles)
    if not restricted:
        return help_request_view(record, sealer=sealer, restricted=False)
    principal = caller.principal
    work.help_requests.record_view(
        record.id,
        account_id=None if principal is None else principal.account_id,
        viewer=actor_of(caller, roles, _claiming_association(record, caller)),
        at=now,
    )
    return help_request_view(
        record,
        sealer=sealer,
        restricted=True,
        notifications=work.help_requests.notifications(record.id),
        timeline=work.help_requests.timeline(record.id),
    )


def _claiming_association(record: HelpRequest, caller: Caller) -> UUID | None:
    for association_id in caller.verified_associations():
        if record.claimed_by == domain.association_party(association_id):
            return association_id
    return None


def get_help_request(
    *, unit_of_work: Callable, sealer: Sealer, now: datetime, principal, help_request_id: UUID, follow: FollowKey
) -> HelpRequestV1:
    with unit_of_work() as work:
        record = work.help_requests.get(help_request_id)
        caller = caller_of(principal, follow.key, record)
        domain.require_visible(caller, None if record is None else work.help_requests.case(record), help_request_id)
        return present(work, record, caller=caller, sealer=sealer, now=now)


def list_help_requests(
    *, unit_of_work: Callable, sealer: Sealer, principal, query: HelpRequestQuery
) -> HelpRequestList:
    """The Cell's queue (everything, by status), a person's own (`mine`), or an association's (`association_id`).
    Items show what an association sees before it claims; the restricted fields are read one request at a time."""
    if principal is None:
        raise Unauthenticated("Sign in to list help requests.")
    caller = Caller(principal=principal)
    if query.association_id is not None and not (
        caller.is_cell or query.association_id in caller.verified_associations()
    ):
        raise Forbidden("Only this association's admins (while it is verified) and the Cell see its help requests.")
    with unit_of_work() as work:
        repository = work.help_requests
        if query.mine:
            records = repository.listed(status=query.status, requester_account_id=principal.account_id)
        elif query.association_id is not None:
            records = repository.listed(status=query.status, association_ids={query.association_id})
        elif caller.is_cell:
            records = repository.listed(status=query.status)
        else:
            own = repository.listed(status=query.status, requester_account_id=principal.account_id)
            told = repository.listed(status=query.status, association_ids=caller.verified_associations())
            records = sorted({r.id: r for r in own + told}.values(), key=lambda r: r.created_at, reverse=True)
        return HelpRequestList(items=[help_request_view(r, sealer=sealer, restricted=False) for r in records])


def block_requester(
    *, unit_of_work: Callable, now: datetime, principal, help_request_id: UUID, block: RequesterBlock
) -> RequesterBlockV1:
    """The Cell stops whoever raised this request raising more: their account, or without one the address."""
    caller = Caller(principal=principal)
    if not caller.is_cell:
        raise Forbidden("Only the Mizo Diaspora Cell can block a requester.")
    with unit_of_work() as work:
        record = work.help_requests.get(help_request_id)
        domain.require_visible(caller, None if record is None else work.help_requests.case(record), help_request_id)
        # An account is blocked as itself; a request without one, by the address it came from (which others behind
        # the same network share: the Cell weighs that).
        account = record.requester_account_id is not None
        address = not account and record.requester_address_hash is not None
        work.help_requests.add_block(
            record, account=account, address=address, reason=block.reason, blocked_by=principal.account_id, now=now
        )
        work.help_requests.add_step(record.id, at=now, kind="requester_blocked", actor=actor_of(caller, {"cell"}))
    return RequesterBlockV1(
        help_request_id=record.id, blocked_account=account, blocked_address=address, reason=block.reason
    )
