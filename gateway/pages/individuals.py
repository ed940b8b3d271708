"""A person's own profile: made or changed on one form, with who may see it explained in plain words."""

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from contracts.errors import DiasporaHubError, Unauthenticated
from contracts.individuals import IndividualDraft, IndividualFullView, IndividualPatch
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.pages.accounts import signed_in_principal
from gateway.pages.association_form import COMMON_LANGUAGES
from gateway.pages.forms import form_refused, listed, text_fields
from gateway.pages.memberships import own_requests
from gateway.pages.rendering import page, redirect, render

PROFILE_FIELDS = ("name", "country", "city", "visibility", "email", "phone")


def profile_payload(form: MultiDict) -> dict:
    languages = form.getlist("languages") + listed(form.get("other_languages", ""))
    return text_fields(form, PROFILE_FIELDS) | {"languages": list(dict.fromkeys(languages))}


def profile_context(values: dict) -> dict:
    others = [code for code in values.get("languages", []) if code not in COMMON_LANGUAGES]
    return {"values": values, "common_languages": COMMON_LANGUAGES, "other_languages": others}


class IndividualPages:
    @page("GET", "/profile")
    def profile_page(self, request: Request):
        profile = self.own_profile(request)
        values = profile.model_dump(mode="json") if profile else {"visibility": "private"}
        done = request.args.get("done")
        return render(
            request, "profile.html", **profile_context(values), profile=profile, errors={}, message=None, done=done,
            own_requests=own_requests(self, request, profile),
        )  # fmt: skip

    @page("POST", "/profile")
    def profile_form(self, request: Request, form: MultiDict):
        profile = self.own_profile(request)
        values = profile_payload(form)
        token = session_token_of(request)
        try:
            if profile is None:
                self.registry.register_individual(token, parse(IndividualDraft, values).model_dump(mode="json"))
            else:
                cleared = {field: None for field in ("email", "phone") if field not in values}
                patch = parse(IndividualPatch, values | cleared)
                self.registry.update_individual(token, str(profile.id), patch.model_dump(mode="json"))
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            context = profile_context(values)
            return form_refused(
                request, "profile.html", exc, **context, profile=profile, done=None,
                own_requests=own_requests(self, request, profile),
            )  # fmt: skip
        return redirect(request, "/profile?done=saved")

    def own_profile(self, request: Request) -> IndividualFullView | None:
        principal = signed_in_principal(self, request)
        if principal.individual_id is None:
            return None
        answer = self.registry.get_individual(session_token_of(request), str(principal.individual_id))
        return IndividualFullView.model_validate(answer)
