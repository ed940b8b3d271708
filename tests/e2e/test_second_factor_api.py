"""Cell staff's second factor over HTTP: a Cell account signs in with its password and the authenticator's code
(pyotp plays the app); a code counts once, a recovery code once; before enrolling, a Cell session may do nothing else.
"""

import subprocess
import sys
import time
import uuid
from collections import defaultdict

import requests

from gateway.openapi import openapi_document
from gateway.service import GatewayService
from tests.e2e.conftest import Person, new_cell_staff
from tests.e2e.test_authorization_matrix import MATRIX

PASSWORD = "a long Cell staff password"
ENROLMENT_AND_LOGOUT = {"start_second_factor_enrolment", "confirm_second_factor", "log_out"}


def log_in(api: str, email: str, code: str | None = None) -> requests.Response:
    """From an address of the test's account's own (the tests stand as a trusted proxy): the failures it provokes
    never lock 127.0.0.1 for the other tests. Not in 198.51.100.0/24, where test_auth_api locks addresses."""
    credentials = {"email": email, "password": PASSWORD} | ({"code": code} if code else {})
    address = {"X-Forwarded-For": f"203.0.113.{sum(email.encode()) % 200 + 20}"}
    return requests.post(f"{api}/api/v1/auth/login", json=credentials, headers=address, timeout=10)


def next_code(cell) -> str:
    """The app's code of the next half-minute: one step ahead is accepted, and no earlier sign-in has used it."""
    return cell.authenticator.at(time.time() + 30)


def test_an_enrolled_cell_account_signs_in_with_its_code_and_never_with_the_same_one_twice(system, api):
    cell = new_cell_staff(system)

    without = log_in(api, cell.email)
    assert without.status_code == 401
    assert without.json()["error"] == "second_factor_required"
    assert log_in(api, cell.email, cell.enrolment_code).status_code == 401  # used already (or too old by now)
    code = next_code(cell)
    signed_in = log_in(api, cell.email, code)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["must_enrol_second_factor"] is False
    me = requests.get(f"{api}/api/v1/me", headers={"Authorization": f"Bearer {signed_in.json()['token']}"}, timeout=10)
    assert me.json()["is_cell_staff"] is True

    replayed = log_in(api, cell.email, code)
    assert replayed.status_code == 401
    assert "used already" in replayed.json()["message"]


def test_a_recovery_code_signs_in_once_and_renewing_them_voids_the_old_ones(system, api):
    cell = new_cell_staff(system)
    first, second = cell.recovery_codes[:2]

    assert log_in(api, cell.email, first).status_code == 200
    assert log_in(api, cell.email, first).status_code == 401
    renewed = cell.request("POST", "/api/v1/auth/second-factor/recovery-codes", json={"code": next_code(cell)})
    assert renewed.status_code == 200, renewed.text
    assert log_in(api, cell.email, second).status_code == 401
    assert log_in(api, cell.email, renewed.json()["recovery_codes"][0]).status_code == 200


def test_a_cell_account_that_has_not_enrolled_is_refused_on_every_route_but_enrolment(system, api):
    email = f"cell-{uuid.uuid4().hex[:8]}@mizoram.gov.in"
    created = subprocess.run(
        [sys.executable, "-m", "diasporahub.cli", "admin", "create", "--email", email],
        input=f"{PASSWORD}\n",
        text=True,
        capture_output=True,
        env=system.env,
    )
    assert created.returncode == 0, created.stderr
    unenrolled = Person(api, email, PASSWORD)
    ids = defaultdict(lambda: str(uuid.uuid4()))  # any id: who is asking is checked before what is asked for
    sessions = {
        operation["operationId"]: operation["security"]
        for operations in openapi_document(GatewayService)["paths"].values()
        for operation in operations.values()
    }

    answers = {}
    for operation_id, row in MATRIX.items():
        if sessions[operation_id] == [] or operation_id in ENROLMENT_AND_LOGOUT:
            continue  # what anyone may do without a session, and enrolment itself
        path = row.path.format_map(ids)
        if row.raw is not None:
            answer = unenrolled.request(row.method, path, data=row.raw, headers={"Content-Type": "text/csv"})
        else:
            body = row.body(ids, unenrolled) if callable(row.body) else row.body
            answer = unenrolled.request(row.method, path, params=row.query, json=body)
        answers[operation_id] = (answer.status_code, answer.json().get("error"))

    refused = (403, "second_factor_enrolment_required")
    assert len(answers) >= 30  # every route that reads a session
    assert {operation: answer for operation, answer in answers.items() if answer != refused} == {}
    started = unenrolled.request("POST", "/api/v1/auth/second-factor/enrolment")
    assert started.status_code == 200
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/DiasporaHub:")
