"""Every write of the registry, tried by the admin of a second association: 403 or 404, nothing changed."""

import uuid

import pytest


@pytest.fixture
def two_associations(person, cell_staff):
    """Admin A with a verified and a pending association and a member's request; admin B with their own."""
    admin_a, admin_b, member = person(), person(), person()
    verified = admin_a.register_association(
        name=f"Mizo Fellowship Kuala Lumpur {uuid.uuid4().hex[:6]}", country="MY", city="Kuala Lumpur"
    )
    cell_staff.request("POST", f"/api/v1/associations/{verified['id']}/verification", json={"decision": "verify"})
    pending = admin_a.register_association(
        name=f"Mizo Youth Penang {uuid.uuid4().hex[:6]}", country="MY", city="George Town"
    )
    own = admin_b.register_association(
        name=f"Mizo Students Johor {uuid.uuid4().hex[:6]}", country="MY", city="Johor Bahru"
    )
    profile = member.request(
        "POST",
        "/api/v1/individuals",
        json={"name": "Lalremruata", "country": "MY", "city": "Kuala Lumpur", "languages": ["lus"],
              "visibility": "associations", "email": "lalremruata@example.org",
              "membership_requests": [verified["id"]]},
    )  # fmt: skip
    assert profile.status_code == 201, profile.text
    [membership] = profile.json()["memberships"]
    return {
        "admin_a": admin_a,
        "admin_b": admin_b,
        "member": member,
        "verified": verified["id"],
        "pending": pending["id"],
        "own": own["id"],
        "individual": profile.json()["id"],
        "membership": membership["id"],
    }


WRITES = [
    ("PATCH", "/api/v1/associations/{verified}", {"name": "Taken over"}, 403),
    ("PATCH", "/api/v1/associations/{pending}", {"name": "Taken over"}, 404),
    ("POST", "/api/v1/associations/{verified}/verification", {"decision": "suspend", "reason": "x"}, 403),
    ("POST", "/api/v1/associations/{pending}/verification", {"decision": "verify"}, 404),
    ("POST", "/api/v1/associations/{verified}/verification", {"decision": "dissolve"}, 403),
    ("POST", "/api/v1/associations/{verified}/merge", {"into": "{own}"}, 403),
    ("POST", "/api/v1/associations/{own}/merge", {"into": "{verified}"}, 403),
    ("GET", "/api/v1/associations/{verified}/history", None, 403),
    ("GET", "/api/v1/associations/{pending}/history", None, 404),
    ("POST", "/api/v1/memberships/{membership}/decision", {"decision": "accept"}, 404),
    ("PATCH", "/api/v1/individuals/{individual}", {"visibility": "public"}, 404),
    ("DELETE", "/api/v1/individuals/{individual}", {"password": "correct horse battery staple"}, 404),
    ("GET", "/api/v1/individuals/{individual}/export", None, 404),
    ("GET", "/api/v1/admin/associations", None, 403),
    ("GET", "/api/v1/admin/associations/due", None, 403),
    ("GET", "/api/v1/admin/exports/associations", None, 403),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), WRITES)
def test_the_admin_of_another_association_can_change_nothing(two_associations, method, path, body, status):
    ids = {key: value for key, value in two_associations.items() if isinstance(value, str)}
    admin_a, admin_b, member = two_associations["admin_a"], two_associations["admin_b"], two_associations["member"]
    before = (
        admin_a.request("GET", f"/api/v1/associations/{ids['verified']}").json(),
        admin_a.request("GET", f"/api/v1/associations/{ids['pending']}").json(),
        member.request("GET", f"/api/v1/individuals/{ids['individual']}").json(),
    )
    filled = None if body is None else {key: value.format(**ids) for key, value in body.items()}

    answer = admin_b.request(method, path.format(**ids), json=filled)

    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == {403: "forbidden", 404: "not_found"}[status]
    after = (
        admin_a.request("GET", f"/api/v1/associations/{ids['verified']}").json(),
        admin_a.request("GET", f"/api/v1/associations/{ids['pending']}").json(),
        member.request("GET", f"/api/v1/individuals/{ids['individual']}").json(),
    )
    assert after == before


def test_an_import_by_an_association_admin_is_refused(two_associations):
    csv = "name,country,city,languages,email\nMizo Hub,MY,Ipoh,lus,hub@example.org\n"

    answer = two_associations["admin_b"].request("POST", "/api/v1/admin/imports", data=csv.encode())

    assert answer.status_code == 403
