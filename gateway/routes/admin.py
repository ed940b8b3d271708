"""The Cell's routes: the review queue, verifications due, bulk import and export."""

from functools import partial

from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Request, Response

from contracts.associations import AssociationList, ReviewPage, ReviewQuery
from contracts.errors import Forbidden, Unauthenticated
from contracts.imports import AssociationExport, ExportQuery, ImportOptions, ImportReport
from gateway.auth import principal_of, session_token_of
from gateway.http import Session, api, read_text
from services.registry.imports.chunked import CsvChunk, import_in_chunks, split_csv

MAX_IMPORT_BYTES = 32 * 1024 * 1024


class AdminRoutes:
    @api(
        "GET",
        "/api/v1/admin/associations",
        summary="The review queue, with possible duplicates",
        who="the Cell",
        session=Session.REQUIRED,
        query=ReviewQuery,
        returns=ReviewPage,
    )
    def review_associations(self, request: Request, query: ReviewQuery):
        return self.registry.review_associations(session_token_of(request), query.model_dump(mode="json"))

    @api(
        "GET",
        "/api/v1/admin/associations/due",
        summary="Associations whose verification is due",
        who="the Cell",
        session=Session.REQUIRED,
        returns=AssociationList,
    )
    def associations_due(self, request: Request):
        return {"items": self.registry.associations_due_for_verification(session_token_of(request))}

    @api(
        "POST",
        "/api/v1/admin/imports",
        summary="Import associations from a CSV file, every row checked first",
        who="the Cell",
        session=Session.REQUIRED,
        query=ImportOptions,
        raw_body="text/csv",
        returns=ImportReport,
    )
    def import_associations(self, request: Request, query: ImportOptions):
        """A CSV body; `?verified=true` imports the rows as verified. Every row is checked before any is imported.

        Up to 32 MiB: who is asking is checked before the body is read, so that nobody else makes us read it.
        """
        token = session_token_of(request)
        principal = principal_of(self, request)
        if principal is None:
            raise Unauthenticated("Sign in first: the session is missing, has expired or was ended.")
        if not principal.is_cell_staff:
            raise Forbidden("Only the Mizo Diaspora Cell imports associations.")
        verified = query.verified
        chunks = list(split_csv(read_text(request, MAX_IMPORT_BYTES)))
        if not chunks:
            raise BadRequest("The CSV has no rows; the first line must name the columns.")
        return import_in_chunks(chunks, partial(self._import_chunk, token, verified=verified))

    def _import_chunk(self, token: str | None, chunk: CsvChunk, *, verified: bool, dry_run: bool) -> dict:
        return self.registry.import_associations_csv(token, chunk.text, chunk.first_line, verified, dry_run)

    @api(
        "GET",
        "/api/v1/admin/exports/associations",
        summary="Every association, as JSON or CSV",
        who="the Cell",
        session=Session.REQUIRED,
        query=ExportQuery,
        returns=AssociationList,
        other_media_types=("text/csv",),
    )
    def export_associations(self, request: Request, query: ExportQuery):
        exported = AssociationExport.model_validate(
            self.registry.export_associations(session_token_of(request), query.model_dump(mode="json"))
        )
        if exported.format == "csv":
            return Response(
                exported.csv_text,
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="associations.csv"'},
            )
        return AssociationList(items=exported.items)
