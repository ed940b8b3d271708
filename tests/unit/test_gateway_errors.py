"""The gateway's one table from errors to HTTP, and how it reads a JSON body."""

import json
import logging

import pytest
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from contracts.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from contracts.validation import InvalidPayload
from gateway.errors import error_response
from gateway.http import MAX_BODY_BYTES, read_json


def body_of(response) -> dict:
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (NotFound("there is no association with id 42"), 404, "not_found"),
        (Conflict("the association was changed meanwhile"), 409, "conflict"),
        (Invalid("country: 'XX' is not a country code"), 422, "invalid"),
        (Forbidden("only the Diaspora Cell may verify"), 403, "forbidden"),
        (Unavailable("search is starting; try again"), 503, "unavailable"),
    ],
)
def test_each_error_type_has_its_status_and_a_sentence(error, status, code):
    response = error_response(error)

    assert response.status_code == status
    assert body_of(response) == {"error": code, "message": error.message}


def test_an_invalid_payload_lists_its_problems_per_field():
    problems = [{"field": "country", "problem": "'XX' is not a country code"}]
    response = error_response(InvalidPayload("country: 'XX' is not a country code", problems))

    assert response.status_code == 422
    assert body_of(response) == {
        "error": "invalid",
        "message": "country: 'XX' is not a country code",
        "problems": problems,
    }


def test_a_body_too_large_is_413_in_json():
    response = error_response(RequestEntityTooLarge())

    assert response.status_code == 413
    body = body_of(response)
    assert body["error"] == "request_entity_too_large"
    assert body["message"]


def test_an_unexpected_error_is_500_without_its_details_which_go_to_the_log(caplog):
    with caplog.at_level(logging.ERROR, logger="gateway.errors"):
        response = error_response(RuntimeError("SELECT secret FROM x"))

    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "secret" not in text
    assert "SELECT" not in text
    assert body_of(response)["error"] == "internal"
    logged = [str(record.exc_info[1]) for record in caplog.records if record.exc_info]
    assert "SELECT secret FROM x" in logged


def posted(data: bytes):
    return EnvironBuilder(method="POST", data=data, content_type="application/json").get_request()


def test_a_json_object_body_is_returned():
    assert read_json(posted(b'{"name": "Mizo Welfare", "languages": ["lus"]}')) == {
        "name": "Mizo Welfare",
        "languages": ["lus"],
    }


@pytest.mark.parametrize("data", [b"{not json", b'{"name": ', b"\xff\xfe{}"])
def test_a_body_that_is_not_json_is_a_bad_request(data):
    with pytest.raises(BadRequest, match="not valid JSON"):
        read_json(posted(data))


def test_an_empty_body_is_a_bad_request():
    with pytest.raises(BadRequest, match="no body"):
        read_json(posted(b""))


def test_a_body_over_one_mebibyte_is_too_large():
    too_large = b'{"description": "' + b"a" * MAX_BODY_BYTES + b'"}'

    with pytest.raises(RequestEntityTooLarge):
        read_json(posted(too_large))


def test_a_body_of_exactly_one_mebibyte_is_read():
    padding = MAX_BODY_BYTES - len(b'{"description": ""}')
    at_limit = b'{"description": "' + b"a" * padding + b'"}'
    assert len(at_limit) == MAX_BODY_BYTES

    assert len(read_json(posted(at_limit))["description"]) == padding
