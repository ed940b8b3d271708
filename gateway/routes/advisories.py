"""Advisory routes: the Cell publishes; anyone reads them as JSON, CAP 1.2 or Atom; people and associations in the
area answer the safety check; the Cell counts and reminds. The alerts service decides who may do what."""

from werkzeug.wrappers import Request, Response

from contracts.advisories import (
    AdvisoryDocument,
    AdvisoryDraft,
    AdvisoryList,
    AdvisoryQuery,
    AdvisorySubscription,
    AdvisorySubscriptionV1,
    AdvisoryV1,
    SafetyAnswer,
    SafetyAnswerV1,
    SafetyCounts,
    SafetyReminder,
)
from gateway.http import Session, api
from gateway.routes.messaging import caller_of

ADVISORY = "/api/v1/advisories/<string:advisory_id>"
PUBLIC_FEED_CACHE = "public, max-age=60"


def document_response(answer: dict) -> Response:
    """A CAP alert or the Atom feed, as aggregators fetch it: cacheable for a minute."""
    document = AdvisoryDocument.model_validate(answer)
    return Response(document.body, content_type=f"{document.media_type}; charset=utf-8",
                    headers={"Cache-Control": PUBLIC_FEED_CACHE})  # fmt: skip


class AdvisoryRoutes:
    @api("POST", "/api/v1/advisories", summary="Publish an advisory (CAP severity, urgency, certainty) for a circle"
         " or a list of countries; verified associations there are notified", who="the Cell",
         session=Session.REQUIRED, body=AdvisoryDraft, returns=AdvisoryV1, status=201)  # fmt: skip
    def publish_advisory(self, request: Request, body: AdvisoryDraft):
        return 201, self.alerts.publish_advisory(caller_of(self, request), body.model_dump(mode="json"))

    @api("GET", "/api/v1/advisories", summary="Advisories, those in force first, newest first", who="anyone",
         session=Session.NONE, query=AdvisoryQuery, returns=AdvisoryList)  # fmt: skip
    def list_advisories(self, request: Request, query: AdvisoryQuery):
        return self.alerts.list_advisories(query.model_dump(mode="json"))

    @api("GET", "/api/v1/advisories.atom", summary="The advisories in force as an Atom feed; each entry links and"
         " carries its CAP 1.2 alert", who="anyone", session=Session.NONE,
         returns=str, media_type="application/atom+xml")  # fmt: skip
    def advisories_atom(self, request: Request):
        return document_response(self.alerts.advisories_atom())

    @api("GET", "/api/v1/advisories/subscription", summary="Whether I receive advisories for where I live",
         who="a person with a profile", session=Session.REQUIRED, returns=AdvisorySubscriptionV1,
         errors=(404,))  # fmt: skip
    def advisory_choice(self, request: Request):
        return self.alerts.advisory_choice(caller_of(self, request))

    @api("PUT", "/api/v1/advisories/subscription", summary="Choose to receive (or not) advisories for where I live"
         " (my profile's city)", who="a person with a profile", session=Session.REQUIRED,
         body=AdvisorySubscription, returns=AdvisorySubscriptionV1)  # fmt: skip
    def choose_advisories(self, request: Request, body: AdvisorySubscription):
        return self.alerts.choose_advisories(caller_of(self, request), body.model_dump(mode="json"))

    @api("GET", ADVISORY, summary="One advisory", who="anyone", session=Session.NONE,
         returns=AdvisoryV1)  # fmt: skip
    def get_advisory(self, request: Request, advisory_id: str):
        return self.alerts.get_advisory(advisory_id)

    @api("GET", f"{ADVISORY}.cap", summary="One advisory as an OASIS CAP 1.2 alert", who="anyone",
         session=Session.NONE, returns=str, media_type="application/cap+xml")  # fmt: skip
    def advisory_cap(self, request: Request, advisory_id: str):
        return document_response(self.alerts.advisory_cap(advisory_id))

    @api("POST", f"{ADVISORY}/safety", summary="Answer its safety check: safe or need help (which opens a help"
         " request at once); an association's admin may answer for the association or one of its members",
         who="people in its area, the admins of associations it reached", session=Session.REQUIRED,
         body=SafetyAnswer, returns=SafetyAnswerV1)  # fmt: skip
    def answer_safety(self, request: Request, advisory_id: str, body: SafetyAnswer):
        return self.alerts.answer_safety(caller_of(self, request), advisory_id, body.model_dump(mode="json"))

    @api("GET", f"{ADVISORY}/safety", summary="Its safety check per country and city: safe, need help, not"
         " answered", who="the Cell", session=Session.REQUIRED, returns=SafetyCounts)  # fmt: skip
    def safety_counts(self, request: Request, advisory_id: str):
        return self.alerts.safety_counts(caller_of(self, request), advisory_id)

    @api("POST", f"{ADVISORY}/safety/reminders", summary="Remind the associations it reached that have not"
         " answered", who="the Cell", session=Session.REQUIRED, returns=SafetyReminder)  # fmt: skip
    def remind_about_safety(self, request: Request, advisory_id: str):
        return self.alerts.remind_about_safety(caller_of(self, request), advisory_id)
