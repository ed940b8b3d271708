"""The CSV form of associations: every bad row reported with the file's line number, chunks of whole rows."""

import csv
import io
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts.associations import AssociationV1
from services.registry.imports.chunked import split_csv
from services.registry.imports.csv_format import COLUMNS, EXPORT_COLUMNS, parse_csv, to_csv

HEADER = "name,alternate_names,country,city,languages,email,description,lat,lon\n"


def row(name="Mizo Welfare Association Dubai", country="AE", email="mwa@example.org", description="", **more) -> str:
    values = {
        "alternate_names": "MWA Dubai;MWA",
        "city": "Dubai",
        "languages": "lus;en",
        "lat": "",
        "lon": "",
    } | more
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(
        [
            name,
            values["alternate_names"],
            country,
            values["city"],
            values["languages"],
            email,
            description,
            values["lat"],
            values["lon"],
        ]
    )
    return out.getvalue()


def lines_of(bad_rows) -> list[int]:
    return [bad.line for bad in bad_rows]


def test_valid_rows_become_drafts_with_lists_split_on_semicolons():
    parsed, bad = parse_csv(HEADER + row() + row(name="Mizo Fellowship Singapore", country="SG", city="Singapore"))

    assert bad == []
    assert [(parsed_row.line, parsed_row.draft.name) for parsed_row in parsed] == [
        (2, "Mizo Welfare Association Dubai"),
        (3, "Mizo Fellowship Singapore"),
    ]
    first = parsed[0].draft
    assert first.alternate_names == ["MWA Dubai", "MWA"]
    assert first.languages == ["lus", "eng"]
    assert first.location is None
    assert first.description == ""


def test_lat_and_lon_become_a_location():
    [parsed], _ = parse_csv(HEADER + row(lat="25.2", lon="55.27"))

    assert (parsed.draft.location.lat, parsed.draft.location.lon) == (25.2, 55.27)


def test_each_bad_row_is_reported_with_its_line_and_every_problem():
    text = HEADER + row() + row(country="XX") + row(email="not-an-email", languages="zzz") + row(lat="25.2")

    parsed, bad = parse_csv(text)

    assert lines_of(parsed) == [2]
    assert lines_of(bad) == [3, 4, 5]
    assert [problem["field"] for problem in bad[0].problems] == ["country"]
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in bad[0].problems[0]["problem"]
    assert {problem["field"] for problem in bad[1].problems} == {"languages.0", "email"}
    assert [problem["field"] for problem in bad[2].problems] == ["location.lon"]
    assert bad[0].as_report() == {"line": 3, "problems": bad[0].problems}


def test_a_missing_required_value_is_reported_as_required():
    _, [bad] = parse_csv(HEADER + row(name=""))

    assert bad.problems == [{"field": "name", "problem": "Field required"}]


def test_a_quoted_value_over_several_lines_shifts_the_later_line_numbers():
    text = HEADER + row(description="Sunday service\nat 10:00\nin Karama") + row(country="XX") + row()

    parsed, bad = parse_csv(text)

    assert lines_of(parsed) == [2, 6]
    assert parsed[0].draft.description == "Sunday service\nat 10:00\nin Karama"
    assert lines_of(bad) == [5]


def test_a_blank_line_is_skipped_and_the_next_row_keeps_its_own_line_number():
    text = HEADER + row() + "\n" + row(country="XX") + row()

    parsed, bad = parse_csv(text)

    assert lines_of(parsed) == [2, 5]
    assert lines_of(bad) == [4]


def test_a_row_with_more_values_than_columns_is_reported():
    _, [bad] = parse_csv(HEADER + row().rstrip("\n") + ",surplus\n")

    assert bad.line == 2
    assert bad.problems == [{"field": "row", "problem": "more values than columns"}]


def test_a_row_with_fewer_values_reports_what_is_missing():
    _, [bad] = parse_csv(HEADER + "Mizo Fellowship Singapore,,SG\n")

    assert {problem["field"] for problem in bad.problems} == {"city", "languages", "email"}


@pytest.mark.parametrize("absent", ["name", "country", "city", "languages", "email"])
def test_a_header_without_a_required_column_is_one_bad_line_1(absent):
    header = ",".join(column for column in ("name", "country", "city", "languages", "email") if column != absent)

    parsed, [bad] = parse_csv(header + "\n" + "a,b,c,d\n")

    assert parsed == []
    assert bad.as_report() == {
        "line": 1,
        "problems": [{"field": "header", "problem": f"missing column(s): {absent}"}],
    }


def test_a_header_with_an_unknown_column_is_one_bad_line_1():
    parsed, [bad] = parse_csv(
        "name,country,city,languages,email,colour,size\n" + "a,AE,Dubai,lus,a@example.org,red,L\n"
    )

    assert parsed == []
    assert bad.as_report() == {
        "line": 1,
        "problems": [{"field": "header", "problem": "unknown column(s): colour, size"}],
    }


def test_an_empty_text_lacks_every_required_column():
    _, [bad] = parse_csv("")

    assert bad.problems[0]["problem"] == "missing column(s): name, country, city, languages, email"


def test_every_column_of_the_format_is_accepted():
    values = {
        "name": "Mizo Welfare Association Dubai",
        "alternate_names": "MWA Dubai",
        "description": "Welfare of Mizos in Dubai",
        "categories": "welfare;church",
        "country": "AE",
        "city": "Dubai",
        "region": "Dubai",
        "address": "Al Karama",
        "lat": "25.2",
        "lon": "55.27",
        "languages": "lus",
        "email": "mwa@example.org",
        "phone": "+971 50 123 4567",
        "website": "https://mwa.example.org",
        "founded_year": "2009",
        "member_count": "120",
        "parent_id": str(uuid4()),
    }
    assert set(values) == set(COLUMNS)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerow(values)

    [parsed], bad = parse_csv(out.getvalue())

    assert bad == []
    assert parsed.draft.categories == ["welfare", "church"]
    assert (parsed.draft.founded_year, parsed.draft.member_count, parsed.draft.phone) == (2009, 120, "+971501234567")
    assert str(parsed.draft.parent_id) == values["parent_id"]


def test_the_import_key_is_stable_for_the_same_row_and_differs_for_another():
    [first], _ = parse_csv(HEADER + row())
    [again], _ = parse_csv(HEADER + row(), first_line=500)
    [reordered], _ = parse_csv(HEADER + row(alternate_names="MWA;MWA Dubai"))
    [other], _ = parse_csv(HEADER + row(email="other@example.org"))

    assert first.import_key == again.import_key
    assert len(first.import_key) == 64
    assert first.import_key != other.import_key
    assert first.import_key != reordered.import_key


def test_the_import_key_ignores_spelling_that_parses_to_the_same_draft():
    [canonical], _ = parse_csv(HEADER + row(country="AE", languages="lus;eng"))
    [loose], _ = parse_csv(HEADER + row(country=" ae ", languages=" lus ; en "))

    assert canonical.import_key == loose.import_key


def test_first_line_names_the_lines_of_the_whole_file():
    parsed, bad = parse_csv(HEADER + row() + row(country="XX"), first_line=1002)

    assert lines_of(parsed) == [1002]
    assert lines_of(bad) == [1003]


def test_an_export_reads_back_as_the_same_drafts():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    [parsed], _ = parse_csv(HEADER + row(description="two\nlines", lat="25.2", lon="55.27"))
    association = AssociationV1(
        **parsed.draft.model_dump(), id=uuid4(), status="verified", version=1, registered_at=now, updated_at=now
    )

    exported = to_csv([association])

    [exported_row] = csv.DictReader(io.StringIO(exported))
    assert list(exported_row) == list(EXPORT_COLUMNS)
    assert (exported_row["id"], exported_row["status"]) == (str(association.id), "verified")
    assert (exported_row["alternate_names"], exported_row["lat"], exported_row["lon"]) == (
        "MWA Dubai;MWA",
        "25.2",
        "55.27",
    )
    reread, problems = parse_csv(_only_import_columns(exported))
    assert problems == []
    assert reread[0].draft == parsed.draft


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_an_export_never_starts_a_cell_with_what_a_spreadsheet_runs_as_a_formula(start):
    now = datetime(2026, 3, 1, tzinfo=UTC)
    [parsed], _ = parse_csv(HEADER + row(lat="-25.2", lon="55.27"))
    association = AssociationV1(
        **parsed.draft.model_dump() | {"phone": "+971 50 123 4567"},
        id=uuid4(),
        status="verified",
        version=1,
        registered_at=now,
        updated_at=now,
    )
    # Past the contract's validation (which strips blanks), as a field that slipped through would be.
    formula = association.model_copy(update={"description": f'{start}HYPERLINK("https://evil.example")'})

    [exported_row] = csv.DictReader(io.StringIO(to_csv([formula])))

    assert exported_row["description"] == f'\'{start}HYPERLINK("https://evil.example")'
    assert exported_row["phone"] == "'+971501234567"
    assert exported_row["lat"] == "-25.2"  # a number is not text a spreadsheet runs
    reread, problems = parse_csv(_only_import_columns(to_csv([association])))
    assert problems == []
    assert reread[0].draft.phone == association.phone


def _only_import_columns(exported: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(csv.DictReader(io.StringIO(exported)))
    return out.getvalue()


# Chunks (services/registry/imports/chunked.py): a large file crosses the bus in pieces of whole rows


def test_chunks_hold_whole_rows_with_the_header_and_the_file_line_of_their_first_row():
    rows = [row(name=f"Mizo Fellowship {number}") for number in range(5)]
    text = HEADER + "".join(rows)

    chunks = list(split_csv(text, rows_per_chunk=2))

    assert [(chunk.first_line, chunk.rows) for chunk in chunks] == [(2, 2), (4, 2), (6, 1)]
    for chunk in chunks:
        assert chunk.text.splitlines()[0] == HEADER.strip()


def test_a_quoted_line_break_stays_inside_its_row_and_moves_the_next_chunks_first_line():
    text = HEADER + row(description="first\nsecond\nthird") + row(country="XX") + row() + row(country="YY")

    chunks = list(split_csv(text, rows_per_chunk=2))

    assert [(chunk.first_line, chunk.rows) for chunk in chunks] == [(2, 2), (6, 2)]
    parsed, bad = parse_csv(chunks[0].text, first_line=chunks[0].first_line)
    assert parsed[0].draft.description == "first\nsecond\nthird"
    assert lines_of(bad) == [5]


def test_chunked_parsing_reports_the_same_lines_as_parsing_the_whole_file():
    rows = [
        row(description="a\nb") if number % 3 == 0 else row(country="XX" if number % 2 else "AE") for number in range(9)
    ]
    text = HEADER + "".join(rows)
    whole_parsed, whole_bad = parse_csv(text)

    chunked_parsed, chunked_bad = [], []
    for chunk in split_csv(text, rows_per_chunk=4):
        parsed, bad = parse_csv(chunk.text, first_line=chunk.first_line)
        chunked_parsed += parsed
        chunked_bad += bad

    assert lines_of(chunked_parsed) == lines_of(whole_parsed)
    assert lines_of(chunked_bad) == lines_of(whole_bad)
    assert [parsed.import_key for parsed in chunked_parsed] == [parsed.import_key for parsed in whole_parsed]


def test_a_file_with_only_a_header_or_nothing_has_no_chunks():
    assert list(split_csv(HEADER)) == []
    assert list(split_csv("")) == []


def test_blank_lines_keep_the_line_numbers_right_across_chunks():
    text = HEADER + row() + "\n" + row(country="XX") + "\n\n" + row(country="YY") + row()

    for rows_per_chunk in (1, 2, 3, 100):
        bad_lines = []
        for chunk in split_csv(text, rows_per_chunk=rows_per_chunk):
            bad_lines += lines_of(parse_csv(chunk.text, first_line=chunk.first_line)[1])
        assert bad_lines == [4, 7], rows_per_chunk


def test_a_blank_line_is_not_counted_as_a_row():
    chunks = list(split_csv(HEADER + row() + "\n" + row(), rows_per_chunk=100))

    assert sum(chunk.rows for chunk in chunks) == 2
