"""The registry's bulk import and export RPCs, for the Cell."""

from contracts.errors import EXPECTED_ERRORS
from contracts.imports import AssociationExport, ExportQuery, ImportReport
from servicekit.rpc import rpc
from servicekit.rpc_writes import rpc_write
from services.registry.imports import handlers
from services.registry.imports.csv_format import to_csv


class ImportEntrypoints:
    """Mixed into RegistryService, which provides `unit_of_work`, `gazetteer` and (AccountEntrypoints') `clock`."""

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def import_associations_csv(
        self, token: str | None, csv_text: str, first_line: int = 2, verified: bool = False, dry_run: bool = False
    ) -> ImportReport:
        """One chunk of a CSV file (its header and whole rows; `first_line` is its first row's line in the file):
        its report per row."""
        return handlers.import_csv(
            unit_of_work=self.unit_of_work,
            locate_city=self.gazetteer.locate,
            now=self.clock(),
            token=token,
            csv_text=csv_text,
            first_line=first_line,
            verified=verified,
            dry_run=dry_run,
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def export_associations(self, token: str | None, query: ExportQuery) -> AssociationExport:
        associations = handlers.export_all(unit_of_work=self.unit_of_work, now=self.clock(), token=token)
        if query.format == "csv":
            return AssociationExport(format="csv", csv_text=to_csv(associations))
        return AssociationExport(format="json", items=associations)
