"""The Cell's bulk import over HTTP: every bad row reported, a second import adds nothing."""

import uuid


def test_an_import_reports_bad_rows_and_is_idempotent(cell_staff):
    marker = uuid.uuid4().hex[:6]
    csv = (
        "name,alternate_names,country,city,languages,email,founded_year\n"
        f"Mizo Fellowship Bangkok {marker},MFB {marker},TH,Bangkok,lus;en,mfb@example.org,2001\n"
        f"Mizo Welfare Tokyo {marker},,JP,Tokyo,lus,mwt@example.org,\n"
        f"Broken Country {marker},,XX,Nowhere,lus,bc@example.org,\n"
        f"Broken Language {marker},,TH,Chiang Mai,zzz,bl@example.org,\n"
        f"Future {marker},,TH,Bangkok,lus,future@example.org,3000\n"
    ).encode()

    first = cell_staff.request("POST", "/api/v1/admin/imports?verified=true", data=csv)
    second = cell_staff.request("POST", "/api/v1/admin/imports?verified=true", data=csv)

    assert first.status_code == 200, first.text
    report = first.json()
    assert report["rows"] == 5
    assert [bad["line"] for bad in report["bad_rows"]] == [4, 5, 6]
    assert report["bad_rows"][0]["problems"][0]["field"] == "country"
    assert [row["line"] for row in report["imported"]] == [2, 3]
    assert second.json()["imported"] == []
    assert second.json()["already_imported"] == [2, 3]
    imported = cell_staff.request("GET", f"/api/v1/associations/{report['imported'][0]['id']}").json()
    assert imported["status"] == "verified"
    assert imported["alternate_names"] == [f"MFB {marker}"]


def test_the_cell_exports_csv_and_json(cell_staff):
    csv = cell_staff.request("GET", "/api/v1/admin/exports/associations", params={"format": "csv"})
    json_export = cell_staff.request("GET", "/api/v1/admin/exports/associations", params={"format": "json"})

    assert csv.status_code == 200
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("id,status,name,")
    assert len(csv.text.splitlines()) - 1 >= len(json_export.json()["items"]) > 0
