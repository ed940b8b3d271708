"""The Cell's bulk import (a CSV file, a chunk of rows per call) and export of associations."""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from contracts.associations import AssociationV1
from contracts.validation import FieldProblem

ExportFormat = Literal["csv", "json"]


class BadImportRow(BaseModel):
    """A row that was not imported, by its line in the file, and what is wrong with each of its fields."""

    model_config = ConfigDict(frozen=True)

    line: int
    problems: list[FieldProblem]


class ImportedRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int
    id: UUID


class ImportReport(BaseModel):
    """What became of the rows of one chunk (or, added up, of a whole file): `already_imported` lists the lines
    that were imported before and skipped. A dry run checks only: nothing is imported."""

    model_config = ConfigDict(frozen=True)

    rows: int
    bad_rows: list[BadImportRow] = []
    imported: list[ImportedRow] = []
    already_imported: list[int] = []


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: ExportFormat = "json"


class AssociationExport(BaseModel):
    """Every association, as CSV text (`format: csv`, in `csv_text`) or as models (`format: json`, in `items`)."""

    model_config = ConfigDict(frozen=True)

    format: ExportFormat
    csv_text: str | None = None
    items: list[AssociationV1] = []


class ImportOptions(BaseModel):
    """`?verified=true`: the Cell vouches for the file, so its rows are imported as verified."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verified: bool = False
