"""Individuals over HTTP: visibility, memberships, export and deletion."""

import requests


def register_person(someone, **fields) -> dict:
    body = {
        "name": "Lalthanpuii",
        "country": "SG",
        "city": "Singapore",
        "languages": ["lus", "en"],
        "visibility": "associations",
        "email": "lalthanpuii@example.org",
        "phone": "+65 6123 4567",
    } | fields
    answer = someone.request("POST", "/api/v1/individuals", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def verified_association(person, cell_staff, **fields) -> tuple[object, dict]:
    admin = person()
    created = admin.register_association(
        **({"name": "Mizo Fellowship Singapore", "country": "SG", "city": "Singapore"} | fields)
    )
    cell_staff.request("POST", f"/api/v1/associations/{created['id']}/verification", json={"decision": "verify"})
    return admin, created


def test_what_each_audience_sees_of_a_person(api, person, cell_staff):
    someone = person()
    profile = register_person(someone, visibility="associations")
    same_country_admin, _ = verified_association(person, cell_staff)
    other_country_admin, _ = verified_association(person, cell_staff, country="MY", city="Kuala Lumpur")

    assert someone.request("GET", f"/api/v1/individuals/{profile['id']}").json()["phone"] == "+6561234567"
    assert (
        cell_staff.request("GET", f"/api/v1/individuals/{profile['id']}").json()["email"] == "lalthanpuii@example.org"
    )
    seen = same_country_admin.request("GET", f"/api/v1/individuals/{profile['id']}").json()
    assert set(seen) == {"id", "name", "country", "city", "languages"}
    assert other_country_admin.request("GET", f"/api/v1/individuals/{profile['id']}").status_code == 404
    assert requests.get(f"{api}/api/v1/individuals/{profile['id']}", timeout=5).status_code == 404


def test_a_private_person_is_seen_by_no_association(person, cell_staff):
    profile = register_person(person(), visibility="private")
    same_country_admin, _ = verified_association(person, cell_staff)

    assert same_country_admin.request("GET", f"/api/v1/individuals/{profile['id']}").status_code == 404
    assert cell_staff.request("GET", f"/api/v1/individuals/{profile['id']}").status_code == 200


def test_a_public_person_shows_name_city_and_languages_only(api, person):
    profile = register_person(person(), visibility="public")

    seen = requests.get(f"{api}/api/v1/individuals/{profile['id']}", timeout=5).json()

    assert seen == {"id": profile["id"], "name": "Lalthanpuii", "city": "Singapore", "languages": ["lus", "eng"]}


def test_a_membership_is_requested_and_accepted(person, cell_staff):
    someone = person()
    profile = register_person(someone, visibility="private")
    admin, association = verified_association(person, cell_staff)

    requested = someone.request("POST", f"/api/v1/associations/{association['id']}/memberships")
    assert requested.status_code == 201, requested.text
    assert admin.request("GET", f"/api/v1/individuals/{profile['id']}").status_code == 200
    decided = admin.request(
        "POST", f"/api/v1/memberships/{requested.json()['id']}/decision", json={"decision": "accept"}
    )

    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "accepted"
    again = admin.request(
        "POST", f"/api/v1/memberships/{requested.json()['id']}/decision", json={"decision": "decline"}
    )
    assert again.status_code == 409


def test_a_person_exports_and_then_deletes_their_data(api, person, cell_staff):
    someone = person()
    profile = register_person(someone)
    _, association = verified_association(person, cell_staff)
    someone.request("POST", f"/api/v1/associations/{association['id']}/memberships")

    exported = someone.request("GET", f"/api/v1/individuals/{profile['id']}/export")
    assert exported.status_code == 200
    assert exported.json()["account"]["email"] == someone.email
    assert exported.json()["profile"]["phone"] == "+6561234567"
    assert [m["association_name"] for m in exported.json()["memberships"]] == ["Mizo Fellowship Singapore"]

    wrong = someone.request("DELETE", f"/api/v1/individuals/{profile['id']}", json={"password": "not my password"})
    assert wrong.status_code == 422
    assert someone.request("GET", "/api/v1/me").status_code == 200
    assert (
        someone.request("DELETE", f"/api/v1/individuals/{profile['id']}", json={"password": someone.password})
    ).status_code == 200
    assert cell_staff.request("GET", f"/api/v1/individuals/{profile['id']}").status_code == 404
    assert someone.request("GET", "/api/v1/me").status_code == 401
    login = requests.post(
        f"{api}/api/v1/auth/login", json={"email": someone.email, "password": "correct horse battery staple"}, timeout=5
    )
    assert login.status_code == 401
