"""The registry's bulk import and export RPCs, for the Cell."""

from typing import Literal

from contracts.errors import EXPECTED_ERRORS, Invalid
from servicekit.rpc import rpc
from services.registry.imports import handlers
from services.registry.imports.csv_format import to_csv


class ImportEntrypoints:
    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def import_associations_csv(
        self, token: str | None, csv_text: str, first_line: int = 2, verified: bool = False, dry_run: bool = False
    ) -> dict:
        """One chunk of a CSV file (contracts.csv_chunks): its per-row report."""
        return handlers.import_csv(
            unit_of_work=self.unit_of_work,
            locate_city=self.gazetteer.locate,
            token=token,
            csv_text=csv_text,
            first_line=int(first_line),
            verified=bool(verified),
            dry_run=bool(dry_run),
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def export_associations(self, token: str | None, export_format: Literal["csv", "json"]) -> str | list[dict]:
        if export_format not in {"csv", "json"}:
            raise Invalid("format: choose csv or json")
        associations = handlers.export_all(unit_of_work=self.unit_of_work, token=token)
        if export_format == "csv":
            return to_csv(associations)
        return [association.model_dump(mode="json") for association in associations]
