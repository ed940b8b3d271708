"""An association's profile, the forms to register and edit one, and its history. The registry decides who may
see or change what; a page only offers the links that the reader's account is likely to be allowed."""

from functools import lru_cache

import eventlet
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from contracts.accounts import Principal
from contracts.associations import AssociationChange, AssociationDraft, AssociationPatch, AssociationV1
from contracts.errors import DiasporaHubError, Unauthenticated
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.pages.accounts import signed_in_principal
from gateway.pages.association_form import changed_fields, draft_payload, form_context
from gateway.pages.forms import form_refused
from gateway.pages.memberships import joining_state
from gateway.pages.rendering import page, redirect, render
from gateway.public_reads import association_key


@lru_cache(maxsize=512)
def public_association(kept: str) -> AssociationV1:
    """A kept public answer read into its model once (validating it, e-mail address included, cost half of the
    page), keyed by the text: the same for as long as the gateway keeps that answer. Pages only read the model."""
    return AssociationV1.model_validate_json(kept)


class AssociationPages:
    @page("GET", "/associations/new")
    def new_association_page(self, request: Request):
        signed_in_principal(self, request)
        return render(request, "association_form.html", **form_context({}), editing=None, errors={}, message=None)

    @page("POST", "/associations/new")
    def new_association_form(self, request: Request, form: MultiDict):
        values = draft_payload(form)
        try:
            draft = parse(AssociationDraft, values)
            registered = self.registry.register_association(session_token_of(request), draft.model_dump(mode="json"))
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            return form_refused(request, "association_form.html", exc, **form_context(values), editing=None)
        return redirect(request, f"/associations/{registered['id']}?done=registered")

    @page("GET", "/associations/<string:association_id>")
    def association_page(self, request: Request, association_id: str):
        token, key = session_token_of(request), association_key(association_id)
        if token is None and key is not None:
            # The public view, the same for every anonymous reader: kept as the API keeps it (public_reads.py).
            kept = self.public_reads.read(key, lambda: self.registry.get_association(None, association_id))
            return self.association_view(request, public_association(kept))
        # Who is reading does not depend on the association: both are asked at once.
        reader = eventlet.spawn(signed_in_principal, self, request) if token is not None else None
        try:
            association = AssociationV1.model_validate(self.registry.get_association(token, association_id))
        except BaseException:
            if reader is not None:
                reader.kill()
            raise
        return self.association_view(request, association, reader.wait() if reader is not None else None)

    def association_view(self, request: Request, association: AssociationV1, principal: Principal | None = None):
        manages, joining = False, None
        if principal is not None:
            manages = principal.is_cell_staff or any(item.id == association.id for item in principal.administers)
            if not manages and association.status == "verified":
                joining = joining_state(self, request, principal, association.id)
        done = request.args.get("done")
        return render(request, "association.html", association=association, manages=manages, done=done, joining=joining)

    @page("GET", "/associations/<string:association_id>/edit")
    def edit_association_page(self, request: Request, association_id: str):
        association = self.current_association(request, association_id)
        values = association.model_dump(mode="json")
        return render(
            request, "association_form.html", **form_context(values), editing=association, errors={}, message=None
        )

    @page("POST", "/associations/<string:association_id>/edit")
    def edit_association_form(self, request: Request, association_id: str, form: MultiDict):
        association = self.current_association(request, association_id)
        values = draft_payload(form)
        try:
            patch = parse(AssociationPatch, changed_fields(parse(AssociationDraft, values), association))
            if patch.model_fields_set:
                changes = patch.model_dump(mode="json", include=patch.model_fields_set)
                self.registry.update_association(session_token_of(request), association_id, changes)
                self.public_reads.forget(association_key(association_id))
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            context = form_context(values)
            return form_refused(request, "association_form.html", exc, **context, editing=association)
        return redirect(request, f"/associations/{association_id}?done=saved")

    @page("GET", "/associations/<string:association_id>/history")
    def association_history_page(self, request: Request, association_id: str):
        association = self.current_association(request, association_id)
        changes = [
            AssociationChange.model_validate(change)
            for change in self.registry.association_history(session_token_of(request), association_id)
        ]
        return render(request, "history.html", association=association, changes=changes[::-1])

    def current_association(self, request: Request, association_id: str) -> AssociationV1:
        token = session_token_of(request)
        if token is None:
            raise Unauthenticated("Log in to change an association.")
        return AssociationV1.model_validate(self.registry.get_association(token, association_id))
