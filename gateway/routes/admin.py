"""The Cell's routes: the review queue, verifications due, bulk import and export."""

from functools import partial

from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Request, Response

from gateway.auth import session_token_of
from gateway.http import api, read_text
from services.registry.imports.chunked import CsvChunk, import_in_chunks, split_csv

MAX_IMPORT_BYTES = 32 * 1024 * 1024


class AdminRoutes:
    @api("GET", "/api/v1/admin/associations")
    def review_associations(self, request: Request):
        return self.registry.review_associations(session_token_of(request), request.args.to_dict())

    @api("GET", "/api/v1/admin/associations/due")
    def associations_due(self, request: Request):
        return {"items": self.registry.associations_due_for_verification(session_token_of(request))}

    @api("POST", "/api/v1/admin/imports")
    def import_associations(self, request: Request):
        """A CSV body; `?verified=true` imports the rows as verified. Every row is checked before any is imported."""
        token = session_token_of(request)
        verified = request.args.get("verified", "false").lower() in {"1", "true", "yes"}
        chunks = list(split_csv(read_text(request, MAX_IMPORT_BYTES)))
        if not chunks:
            raise BadRequest("The CSV has no rows; the first line must name the columns.")
        return import_in_chunks(chunks, partial(self._import_chunk, token, verified=verified))

    def _import_chunk(self, token: str | None, chunk: CsvChunk, *, verified: bool, dry_run: bool) -> dict:
        return self.registry.import_associations_csv(token, chunk.text, chunk.first_line, verified, dry_run)

    @api("GET", "/api/v1/admin/exports/associations")
    def export_associations(self, request: Request):
        export_format = request.args.get("format", "json")
        exported = self.registry.export_associations(session_token_of(request), export_format)
        if export_format == "csv":
            return Response(
                exported,
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="associations.csv"'},
            )
        return {"items": exported}
