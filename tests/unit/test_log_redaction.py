"""Validation errors are logged by field name, never with the values sent, in every service (issue 8, point 12)."""

import io
import logging

from contracts.associations import AssociationDraft
from contracts.errors import Invalid, NotFound
from contracts.validation import parse
from servicekit.log_redaction import InvalidValuesFilter

SECRET_PHONE = "+97150999888"


def logged(*, raise_error) -> str:
    """What nameko's container writes for an expected error, through a handler with the filter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(InvalidValuesFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise_error()
        except Exception as exc:
            logger.warning(
                "(expected) error handling worker %s: %s", "<WorkerContext [registry.x]>", exc, exc_info=True
            )
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def test_an_invalid_payload_is_logged_with_its_field_names_and_never_its_values():
    def register():
        parse(
            AssociationDraft,
            {"name": "Lalremruati's group", "country": "XX", "city": "Dubai", "languages": ["lus"], "phone": "abc"}
            | {"email": "not-an-address-lalremruati"},
        )

    text = logged(raise_error=register)

    assert "country" in text and "email" in text
    assert "XX" not in text
    assert "lalremruati" not in text.lower()
    assert "values not logged" in text


def test_an_invalid_raised_by_a_handler_is_logged_by_field():
    def refuse():
        raise Invalid(f"phone: {SECRET_PHONE} is not a phone number; password: is not your password")

    text = logged(raise_error=refuse)

    assert SECRET_PHONE not in text
    assert "invalid: phone, password" in text


def test_other_errors_are_logged_as_they_were():
    def missing():
        raise NotFound("there is no association with id 42")

    assert "there is no association with id 42" in logged(raise_error=missing)


def test_every_service_s_log_handler_redacts_invalid_values():
    from servicekit.logs import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        configure_logging("gateway")
        assert any(isinstance(f, InvalidValuesFilter) for handler in root.handlers for f in handler.filters)
    finally:
        root.handlers[:] = saved
