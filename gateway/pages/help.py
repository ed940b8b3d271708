"""Asking for help: the fewest fields, a city or the phone's location, with or without an account.

The alerts service decides everything (who is told, what is held for the Cell); the page reads the form into a
`HelpRequestDraft` and, once raised, sends the requester to the case page (with the follow key the answer gives
to a requester without an account, as `GET /api/v1/alerts/{id}?key=` takes it).
"""

from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from contracts.alerts import HelpRequestCreated, HelpRequestDraft
from contracts.errors import DiasporaHubError
from contracts.validation import parse
from gateway.auth import principal_of
from gateway.forwarding import client_address_of
from gateway.pages.forms import form_refused, text_fields
from gateway.pages.rendering import page, redirect, render

CATEGORIES = (
    "medical",
    "accident",
    "detention_or_legal",
    "missing_person",
    "abuse_or_exploitation",
    "financial_hardship",
    "death_and_repatriation",
    "disaster",
    "other",
)
URGENCIES = ("immediate", "expected", "future")
CONTACT_FIELDS = ("name", "phone", "email")
PLACE_FIELDS = ("lat", "lon", "country", "city")


def draft_payload(form: MultiDict, *, signed_in: bool) -> dict:
    """The form as a `HelpRequestDraft`'s payload: empty fields left out, so that the contract names what is
    missing; contact details only from someone without an account (the account's own are used otherwise)."""
    values = text_fields(form, ("category", "urgency", "description"))
    place = text_fields(form, PLACE_FIELDS)
    if "lat" in place and "lon" in place:
        place = {"lat": place["lat"], "lon": place["lon"]}
    values["location"] = place
    contact = text_fields(form, CONTACT_FIELDS)
    if contact or not signed_in:
        values["contact"] = contact
    values["languages"] = form.getlist("languages")
    values["on_behalf_of_someone_else"] = form.get("on_behalf_of_someone_else") == "yes"
    return values


def form_values(payload: dict) -> dict:
    """What the form shows again after a refusal: its fields flat, as typed."""
    return payload | payload.get("location", {}) | payload.get("contact", {})


def requester_of(service, request: Request) -> dict | None:
    """The signed-in requester, or None: a session that has ended asks as someone without an account, rather than
    sending a person in trouble to the login page."""
    principal = principal_of(service, request)
    return None if principal is None else principal.model_dump(mode="json")


class HelpPages:
    @page("GET", "/help")
    def help_page(self, request: Request):
        principal = requester_of(self, request)
        return self.help_form(request, principal, values={"urgency": "immediate"}, errors={}, message=None)

    @page("POST", "/help")
    def help_form_sent(self, request: Request, form: MultiDict):
        principal = requester_of(self, request)
        payload = draft_payload(form, signed_in=principal is not None)
        try:
            draft = parse(HelpRequestDraft, payload)
            address = client_address_of(request, self.settings.trusted_proxies)
            created = HelpRequestCreated.model_validate(
                self.alerts.raise_help_request(principal, draft.model_dump(mode="json"), address)
            )
        except DiasporaHubError as exc:
            context = {"values": form_values(payload), "principal": principal} | self.help_choices()
            return form_refused(request, "help.html", exc, **context)
        follow = {"done": "sent"} | ({"key": created.follow_key} if created.follow_key else {})
        return redirect(request, f"/cases/{created.id}?{urlencode(follow)}")

    def help_form(self, request: Request, principal: dict | None, **context):
        return render(request, "help.html", principal=principal, **self.help_choices(), **context)

    @staticmethod
    def help_choices() -> dict:
        return {"categories": CATEGORIES, "urgencies": URGENCIES, "help_languages": ("lus", "eng", "hin")}
