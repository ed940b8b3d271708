"""`diasporahub import associations FILE.csv`: the same checked, idempotent import as the HTTP route."""

import json
import subprocess
import sys
import uuid


def import_file(system, cell_staff, path) -> subprocess.CompletedProcess:
    token = cell_staff.headers["Authorization"].removeprefix("Bearer ")
    return subprocess.run(
        [sys.executable, "-m", "diasporahub.cli", "import", "associations", str(path), "--verified"],
        env=system.env | {"DIASPORAHUB_TOKEN": token},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_reports_bad_rows_by_line_and_a_second_import_adds_nothing(system, cell_staff, tmp_path):
    marker = uuid.uuid4().hex[:6]
    path = tmp_path / "associations.csv"
    path.write_text(
        "name,country,city,languages,email\n"
        f"Mizo Fellowship Oslo {marker},NO,Oslo,lus;en,mfo@example.org\n"
        f"Broken Country {marker},XX,Nowhere,lus,bc@example.org\n"
        f"Mizo Welfare Seoul {marker},KR,Seoul,lus,mws@example.org\n",
        encoding="utf-8",
    )

    first = import_file(system, cell_staff, path)
    second = import_file(system, cell_staff, path)

    assert first.returncode == 1, first.stderr
    assert "line 3: country: " in first.stderr
    assert first.stdout.strip().endswith("2 imported, 0 already imported before, 1 bad rows (listed above).")
    assert second.stdout.strip().endswith("0 imported, 2 already imported before, 1 bad rows (listed above).")


def test_a_file_without_rows_is_refused(system, cell_staff, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("name,country,city,languages,email\n", encoding="utf-8")

    refused = import_file(system, cell_staff, path)

    assert refused.returncode == 2
    assert "has no rows" in refused.stderr


def test_the_command_exports_csv_and_json(system, cell_staff, tmp_path):
    token = cell_staff.headers["Authorization"].removeprefix("Bearer ")
    exported = {}
    for export_format in ("csv", "json"):
        output = tmp_path / f"associations.{export_format}"
        done = subprocess.run(
            [sys.executable, "-m", "diasporahub.cli", "export", "associations", "--format", export_format]
            + ["--output", str(output)],
            env=system.env | {"DIASPORAHUB_TOKEN": token},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        exported[export_format] = output.read_text(encoding="utf-8")

    assert exported["csv"].splitlines()[0].startswith("id,status,name,")
    assert len(exported["csv"].splitlines()) - 1 >= len(json.loads(exported["json"])) >= 0
