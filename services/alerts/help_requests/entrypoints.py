"""The alerts service's help request RPCs, consumer and timers. Mixed into AlertsService, which provides
`unit_of_work`, `search`, `messaging`, `gazetteer`, `sealer`, `clock` and `help_policy`.

Every RPC is for the gateway alone, which passes the caller's principal (None: no account); the handlers decide
who may see and do what from it.
"""

import logging
from datetime import timedelta
from functools import partial
from uuid import UUID

from nameko.timer import timer

from contracts.accounts import Principal
from contracts.alerts import (
    AlertsEvent,
    AssociationChoice,
    Cancellation,
    CaseUpdate,
    ClaimRequest,
    Decline,
    FollowKey,
    HelpRequestCreated,
    HelpRequestDraft,
    HelpRequestedV1,
    HelpRequestList,
    HelpRequestQuery,
    HelpRequestV1,
    Referral,
    RequesterBlock,
    RequesterBlockV1,
    Resolution,
)
from contracts.associations import Location
from contracts.errors import EXPECTED_ERRORS, NotFound, Unavailable
from contracts.events import DeliveryFailedV1, DeliverySentV1
from contracts.messaging import NotifyRequest
from contracts.search import AssociationQuery, NearbyQuery
from contracts.topology import ALERTS_DELIVERY_REPORTS, ALERTS_MATCHING
from servicekit.consumer import event_consumer
from servicekit.rpc import rpc
from servicekit.rpc_writes import rpc_write
from services.alerts.help_requests import handlers, matching, reach, resealing, steps
from services.alerts.help_requests.domain import Caller, Candidate, Deadlines, Policy
from services.alerts.settings import AlertsSettings

log = logging.getLogger(__name__)
FROM_THE_GATEWAY = ("gateway",)
ESCALATE_EVERY_SECONDS = 1.0
PURGE_EVERY_SECONDS = 3600
MOST_ASSOCIATIONS_PER_RING = 100


def help_policy_from_settings() -> Policy:
    settings = AlertsSettings()
    return Policy(
        deadlines=Deadlines(
            immediate=timedelta(minutes=settings.immediate_deadline_minutes),
            expected=timedelta(minutes=settings.expected_deadline_minutes),
            future=timedelta(minutes=settings.future_deadline_minutes),
        ),
        matching_lease=timedelta(seconds=settings.matching_lease_seconds),
        enough_associations=settings.enough_associations,
        requests_per_hour_per_account=settings.requests_per_hour_per_account,
        requests_per_hour_per_address=settings.requests_per_hour_per_address,
        purge_after=timedelta(days=settings.purge_after_days),
        public_url=settings.public_url,
    )


def help_request_id_of(value: str) -> UUID:
    """An id from a URL that is not a UUID names nothing: not found (404)."""
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"there is no help request with id {value}") from None


def _candidate(hit: dict) -> Candidate:
    return Candidate(
        association_id=UUID(hit["id"]), name=hit["name"], languages=tuple(hit.get("languages", ())),
        distance_km=hit.get("distance_km"),
    )  # fmt: skip


class HelpRequestEntrypoints:
    def _finders(self) -> matching.Finders:
        def nearby(lat: float, lon: float, radius_km: float) -> list[Candidate]:
            query = NearbyQuery(lat=lat, lon=lon, radius_km=radius_km, limit=MOST_ASSOCIATIONS_PER_RING)
            return [_candidate(hit) for hit in self.search.nearby_associations(query.model_dump(mode="json"))]

        def in_country(country: str) -> list[Candidate]:
            query = AssociationQuery(country=[country], size=MOST_ASSOCIATIONS_PER_RING, sort="name")
            found = self.search.search_associations(query.model_dump(mode="json"))
            return [_candidate(hit) for hit in found["items"]]

        return matching.Finders(nearby=nearby, in_country=in_country)

    def _notify(self, association_ids: list[UUID], subject: str, body: str, reference: str, once_key: str) -> int:
        request = NotifyRequest(
            recipients=association_ids, cell=True, kind="help_request", subject=subject, body=body,
            reference=reference, urgency="urgent", once_key=once_key,
        )  # fmt: skip
        return self.messaging.notify(request.model_dump(mode="json"), "alerts")["recipients"]

    def _advance(self, help_request_id: UUID, round: int = 0, unit_of_work=None) -> int:
        return matching.advance(
            unit_of_work=unit_of_work or self.unit_of_work, finders=self._finders(), notify=self._notify,
            policy=self.help_policy, now=self.clock(), help_request_id=help_request_id, round=round,
        )  # fmt: skip

    def _advance_now(self, help_request_id: UUID) -> int:
        """Match at once for the caller's answer; if search or messaging is away, the escalation timer retries."""
        try:
            return self._advance(help_request_id)
        except Unavailable as exc:
            log.warning("help request %s waits for matching: %s", help_request_id, exc)
            return 0

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY, sensitive_arguments=("client_address",))
    def raise_help_request(
        self, principal: Principal | None, draft: HelpRequestDraft, client_address: str | None = None
    ) -> HelpRequestCreated:
        created = handlers.raise_help_request(
            unit_of_work=self.unit_of_work, sealer=self.sealer, locate_city=self._locate, policy=self.help_policy,
            now=self.clock(), caller=Caller(principal=principal), client_address=client_address, draft=draft,
        )  # fmt: skip
        if created.follow_key is not None:
            return created
        return created.model_copy(update={"notified_count": self._advance_now(created.id)})

    def _locate(self, city: str, country: str) -> Location | None:
        return self.gazetteer.locate(city, country)

    @event_consumer(ALERTS_MATCHING)
    def on_request_to_match(self, event: AlertsEvent) -> None:
        """Repeats change nothing: the round is taken once, a held request's Cell told once (so the inbox of
        handled events is not needed here)."""
        unit_of_work = partial(self.unit_of_work, handling=None)
        if isinstance(event, HelpRequestedV1) and event.held_for_cell:
            matching.tell_cell_of_held(unit_of_work=unit_of_work, notify=self._notify, policy=self.help_policy,
                                       now=self.clock(), help_request_id=event.aggregate_id)  # fmt: skip
            return
        self._advance(event.aggregate_id, unit_of_work=unit_of_work)

    @event_consumer(ALERTS_DELIVERY_REPORTS)
    def on_delivery_report(self, report: DeliverySentV1 | DeliveryFailedV1) -> None:
        reach.record_delivery(unit_of_work=self.unit_of_work, sealer=self.sealer, report=report)

    @timer(interval=ESCALATE_EVERY_SECONDS)
    def escalate_due_requests(self) -> None:
        matching.escalate_due(
            unit_of_work=self.unit_of_work, finders=self._finders(), notify=self._notify, policy=self.help_policy,
            now=self.clock(),
        )  # fmt: skip

    @timer(interval=PURGE_EVERY_SECONDS)
    def purge_closed_requests(self) -> None:
        purged = matching.purge_closed(unit_of_work=self.unit_of_work, policy=self.help_policy, now=self.clock())
        log.info("purged the personal data of %d closed help requests", purged)

    @timer(interval=PURGE_EVERY_SECONDS)
    def reseal_with_the_newest_key(self) -> None:
        resealed = resealing.reseal(unit_of_work=self.unit_of_work, sealer=self.sealer)
        log.info("resealed %d values with the newest data key; 0 values still sealed with an older key", resealed)

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY, sensitive_arguments=("follow",))
    def get_help_request(self, principal: Principal | None, help_request_id: str, follow: FollowKey) -> HelpRequestV1:
        return handlers.get_help_request(
            unit_of_work=self.unit_of_work, sealer=self.sealer, now=self.clock(), principal=principal,
            help_request_id=help_request_id_of(help_request_id), follow=follow,
        )  # fmt: skip

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def list_help_requests(self, principal: Principal | None, query: HelpRequestQuery) -> HelpRequestList:
        return handlers.list_help_requests(
            unit_of_work=self.unit_of_work, sealer=self.sealer, principal=principal, query=query
        )

    def _step(self, use_case, principal: Principal | None, help_request_id: str, **arguments) -> HelpRequestV1:
        return use_case(
            unit_of_work=self.unit_of_work, sealer=self.sealer, now=self.clock(), caller=Caller(principal=principal),
            help_request_id=help_request_id_of(help_request_id), **arguments,
        )  # fmt: skip

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def acknowledge_help_request(
        self, principal: Principal | None, help_request_id: str, choice: AssociationChoice
    ) -> HelpRequestV1:
        return self._step(steps.acknowledge, principal, help_request_id, choice=choice)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def decline_help_request(
        self, principal: Principal | None, help_request_id: str, decline: Decline
    ) -> HelpRequestV1:
        return self._step(steps.decline, principal, help_request_id, decline=decline)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def claim_help_request(
        self, principal: Principal | None, help_request_id: str, claim: ClaimRequest
    ) -> HelpRequestV1:
        return self._step(steps.claim, principal, help_request_id, claim=claim)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def update_help_request(
        self, principal: Principal | None, help_request_id: str, update: CaseUpdate
    ) -> HelpRequestV1:
        return self._step(steps.post_update, principal, help_request_id, update=update)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def resolve_help_request(
        self, principal: Principal | None, help_request_id: str, resolution: Resolution
    ) -> HelpRequestV1:
        return self._step(steps.resolve, principal, help_request_id, resolution=resolution)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def refer_help_request(
        self, principal: Principal | None, help_request_id: str, referral: Referral
    ) -> HelpRequestV1:
        return self._step(steps.refer, principal, help_request_id, referral=referral)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def cancel_help_request(
        self, principal: Principal | None, help_request_id: str, cancellation: Cancellation
    ) -> HelpRequestV1:
        return self._step(steps.cancel, principal, help_request_id, cancellation=cancellation)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def release_help_request(self, principal: Principal | None, help_request_id: str) -> HelpRequestV1:
        released = self._step(steps.release, principal, help_request_id)
        self._advance_now(released.id)
        return released

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def block_requester(
        self, principal: Principal | None, help_request_id: str, block: RequesterBlock
    ) -> RequesterBlockV1:
        return handlers.block_requester(
            unit_of_work=self.unit_of_work, now=self.clock(), principal=principal,
            help_request_id=help_request_id_of(help_request_id), block=block,
        )  # fmt: skip
