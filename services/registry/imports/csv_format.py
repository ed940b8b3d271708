"""The CSV form of associations, for the Cell's bulk import and export. Lists are separated by ';'."""

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from contracts.associations import AssociationDraft, AssociationV1
from contracts.validation import describe_problems

COLUMNS = (
    "name", "alternate_names", "description", "categories", "country", "city", "region", "address", "lat", "lon",
    "languages", "email", "phone", "website", "founded_year", "member_count", "parent_id",
)  # fmt: skip
LIST_COLUMNS = frozenset({"alternate_names", "categories", "languages"})
EXPORT_COLUMNS = ("id", "status", *COLUMNS, "registered_at", "updated_at")
# A cell starting with one of these is a formula to a spreadsheet (OWASP's CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe, which shows it as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restored(value: str) -> str:
    """What `neutralised` wrote reads back as it was, so that an export can be imported again."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


@dataclass(frozen=True)
class ParsedRow:
    line: int
    draft: AssociationDraft

    @property
    def import_key(self) -> str:
        """The same association in the same words gives the same key: a second import adds nothing."""
        canonical = json.dumps(self.draft.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class BadRow:
    line: int
    problems: list[dict[str, str]]

    def as_report(self) -> dict:
        return {"line": self.line, "problems": self.problems}


def _fields_of(row: dict[str, str]) -> dict:
    fields: dict = {}
    for column, raw in row.items():
        value = restored(raw or "").strip()
        if column in LIST_COLUMNS:
            fields[column] = [item.strip() for item in value.split(";") if item.strip()]
        elif value:
            fields[column] = value
    lat, lon = fields.pop("lat", None), fields.pop("lon", None)
    if lat is not None or lon is not None:
        fields["location"] = {"lat": lat, "lon": lon}
    return fields


def parse_csv(text: str, *, first_line: int = 2) -> tuple[list[ParsedRow], list[BadRow]]:
    """Every row checked. Line numbers are the file's: `first_line` is where this text's first data row
    stands in the whole file (2 when the text is the whole file, its header being line 1)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [
        column
        for column in ("name", "country", "city", "languages", "email")
        if column not in (reader.fieldnames or [])
    ]
    if missing:
        return [], [BadRow(1, [{"field": "header", "problem": f"missing column(s): {', '.join(missing)}"}])]
    unknown = [column for column in reader.fieldnames if column not in COLUMNS]
    if unknown:
        return [], [BadRow(1, [{"field": "header", "problem": f"unknown column(s): {', '.join(unknown)}"}])]
    parsed, bad = [], []
    offset = first_line - 2
    records = reader.reader  # the rows as read, blank lines included, so that each row's first line is known
    last_line = records.line_num
    for values in records:
        line, last_line = last_line + 1 + offset, records.line_num
        if not values:
            continue  # a blank line
        if len(values) > len(reader.fieldnames):
            bad.append(BadRow(line, [{"field": "row", "problem": "more values than columns"}]))
            continue
        row = {column: values[index] if index < len(values) else None for index, column in enumerate(reader.fieldnames)}
        try:
            parsed.append(ParsedRow(line, AssociationDraft.model_validate(_fields_of(row))))
        except ValidationError as exc:
            bad.append(BadRow(line, describe_problems(exc)))
    return parsed, bad


def to_csv(associations: Iterable[AssociationV1]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for association in associations:
        fields = association.model_dump(mode="json")
        for column in LIST_COLUMNS:
            fields[column] = ";".join(fields[column])
        location = fields.pop("location") or {}
        row = fields | {"lat": location.get("lat"), "lon": location.get("lon")}
        writer.writerow({column: neutralised(value) for column, value in row.items()})
    return out.getvalue()
