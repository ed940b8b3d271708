"""The advisory RPCs and the consumer that delivers a published advisory; the work is in handlers.py.

Mixed into AlertsService, which provides `unit_of_work`, `registry`, `search`, `messaging`, `gazetteer`, `clock`
and `settings`. Who is asking (a Principal) is believed only from the gateway.
"""

import logging
from datetime import datetime
from functools import partial
from uuid import UUID

from contracts.accounts import Principal
from contracts.advisories import (
    AdvisoryDocument,
    AdvisoryDraft,
    AdvisoryList,
    AdvisoryPublishedV1,
    AdvisoryQuery,
    AdvisorySubscription,
    AdvisorySubscriptionV1,
    AdvisoryV1,
    Area,
    PeopleRebuild,
    SafetyAnswer,
    SafetyAnswerV1,
    SafetyCounts,
    SafetyReminder,
)
from contracts.alerts import HelpRequestCreated
from contracts.errors import EXPECTED_ERRORS, NotFound
from contracts.events import IndividualEvent
from contracts.messaging import NotifyRequest
from contracts.search import MAX_RESULT_WINDOW, AssociationQuery, AssociationResults
from contracts.topology import ALERTS_ADVISORY_DELIVERY, ALERTS_PEOPLE
from servicekit.consumer import event_consumer
from servicekit.rpc import rpc
from servicekit.rpc_writes import rpc_write
from services.alerts.advisories import domain, handlers, people
from services.alerts.advisories.domain import PUBLISHER, Recipient, association_party, individual_party

log = logging.getLogger(__name__)

FROM_THE_GATEWAY = ("gateway",)
SEARCH_PAGE_SIZE = 100
NOTIFY_BATCH = 5000  # messaging's `notify` takes at most this many recipients of each kind at once
DELIVERY_ATTEMPTS = 9  # the pauses between them grow by 2 s: 88 s in all


def advisory_id_of(value: str) -> UUID:
    """An id from a URL that is not a UUID names nothing: not found (404)."""
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"there is no advisory with id {value}") from None


class AdvisoryEntrypoints:
    def _advisory_link(self, advisory_id: UUID) -> str:
        return f"{self.settings.public_url.rstrip('/')}/api/v1/advisories/{advisory_id}"

    def _associations_in(self, area: Area) -> list[Recipient]:
        """Every verified association in the area, as public search finds them (a circle: by distance)."""
        where = {"country": area.countries} if area.countries else {}
        if area.circle is not None:
            where = {"near": f"{area.circle.lat},{area.circle.lon}", "radius_km": area.circle.radius_km}
        found: list[Recipient] = []
        for page in range(1, MAX_RESULT_WINDOW // SEARCH_PAGE_SIZE + 1):
            query = AssociationQuery(**where, sort="name", page=page, size=SEARCH_PAGE_SIZE)
            results = AssociationResults.model_validate(self.search.search_associations(query.model_dump(mode="json")))
            found += [Recipient(association_party(hit.id), hit.country, hit.city) for hit in results.items]
            if len(found) >= results.total or not results.items:
                break
        return found

    def _notify_of_advisory(
        self,
        recipients: list[Recipient],
        *,
        subject: str,
        body: str,
        reference: str,
        urgent: bool,
        once_key: str | None = None,
    ) -> None:
        for start in range(0, len(recipients), NOTIFY_BATCH):
            batch = recipients[start : start + NOTIFY_BATCH]
            request = NotifyRequest(
                recipients=domain.ids_of(batch, "association"), individuals=domain.ids_of(batch, "individual"),
                kind="advisory", subject=subject, body=body, reference=reference,
                urgency="urgent" if urgent else "normal", once_key=once_key and f"{once_key} from {start}",
            )  # fmt: skip
            self.messaging.notify(request.model_dump(mode="json"), PUBLISHER)

    # Search or messaging away for a while: retried for about a minute and a half before the event is dead-lettered
    # (`diasporahub dead-letters replay alerts.deliver-advisories` sends it again).
    @event_consumer(ALERTS_ADVISORY_DELIVERY, attempts=DELIVERY_ATTEMPTS, retry_delay_seconds=2.0)
    def deliver_advisory(self, event: AdvisoryPublishedV1) -> None:
        handlers.deliver_advisory(
            unit_of_work=self.unit_of_work, reading=partial(self.unit_of_work, handling=None), now=self.clock(),
            event=event, find_associations=self._associations_in, notify=self._notify_of_advisory,
            link_of=self._advisory_link,
        )  # fmt: skip

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def publish_advisory(self, principal: Principal, draft: AdvisoryDraft) -> AdvisoryV1:
        return handlers.publish_advisory(
            unit_of_work=self.unit_of_work, now=self.clock(), principal=principal, draft=draft
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def list_advisories(self, query: AdvisoryQuery) -> AdvisoryList:
        return handlers.list_advisories(unit_of_work=self.unit_of_work, now=self.clock(), query=query)

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def get_advisory(self, advisory_id: str) -> AdvisoryV1:
        return handlers.get_advisory(
            unit_of_work=self.unit_of_work, now=self.clock(), advisory_id=advisory_id_of(advisory_id)
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def advisory_cap(self, advisory_id: str) -> AdvisoryDocument:
        return handlers.cap_alert(
            unit_of_work=self.unit_of_work, advisory_id=advisory_id_of(advisory_id),
            public_url=self.settings.public_url, link_of=self._advisory_link,
        )  # fmt: skip

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def advisories_atom(self) -> AdvisoryDocument:
        public_url = self.settings.public_url.rstrip("/")
        return handlers.atom_feed(
            unit_of_work=self.unit_of_work, now=self.clock(), public_url=public_url,
            feed_url=f"{public_url}/api/v1/advisories.atom", link_of=self._advisory_link,
        )  # fmt: skip

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def answer_safety(self, principal: Principal, advisory_id: str, answer: SafetyAnswer) -> SafetyAnswerV1:
        return handlers.answer_safety(
            unit_of_work=self.unit_of_work, now=self.clock(), principal=principal,
            advisory_id=advisory_id_of(advisory_id), answer=answer, open_help_request=self._help_request_for_answer,
        )  # fmt: skip

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def safety_counts(self, principal: Principal, advisory_id: str) -> SafetyCounts:
        return handlers.safety_counts(
            unit_of_work=self.unit_of_work, principal=principal, advisory_id=advisory_id_of(advisory_id)
        )

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def remind_about_safety(self, principal: Principal, advisory_id: str) -> SafetyReminder:
        return handlers.remind_silent(
            unit_of_work=self.unit_of_work, now=self.clock(), principal=principal,
            advisory_id=advisory_id_of(advisory_id), notify=self._notify_of_advisory, link_of=self._advisory_link,
        )  # fmt: skip

    def _help_request_for_answer(
        self, principal: Principal, *, advisory: AdvisoryV1, recipient: Recipient, now: datetime
    ) -> UUID | None:
        """A help request raised as the answerer, through the help request entrypoint (matched at once)."""
        draft = domain.help_request_draft(
            advisory, recipient, city_is_known=self.gazetteer.locate(recipient.city, recipient.country) is not None,
            for_someone_else=recipient.party != individual_party(principal.individual_id),
        )  # fmt: skip
        if draft is None:
            log.warning("advisory %s: a need-help answer from a city the gazetteer does not know", advisory.id)
            return None
        return HelpRequestCreated.model_validate(self.raise_help_request(principal, draft)).id

    @event_consumer(ALERTS_PEOPLE)
    def on_individual_event(self, event: IndividualEvent) -> None:
        people.project_individual(unit_of_work=self.unit_of_work, event=event, locate_city=self.gazetteer.locate)

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def rebuild_advisory_people(self) -> PeopleRebuild:
        """Read every individual again from the registry (after a restore, or to learn of those from before)."""
        count = people.rebuild(
            unit_of_work=self.unit_of_work, individuals_after=self.registry.individuals_after,
            locate_city=self.gazetteer.locate,
        )  # fmt: skip
        return PeopleRebuild(people=count)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def choose_advisories(self, principal: Principal, choice: AdvisorySubscription) -> AdvisorySubscriptionV1:
        return people.choose(unit_of_work=self.unit_of_work, principal=principal, choice=choice)

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def advisory_choice(self, principal: Principal) -> AdvisorySubscriptionV1:
        return people.choice_of(unit_of_work=self.unit_of_work, principal=principal)
