"""A TrustedPrincipal, as messaging takes the gateway's principal: the same principal, other fields still checked."""

import typing
from uuid import uuid4

import pytest
from pydantic import TypeAdapter

from contracts.accounts import AdministeredAssociation, Principal, TrustedPrincipal
from contracts.errors import Invalid
from servicekit.rpc import conversion_of
from services.messaging.service import MessagingService


def sent_by_the_gateway() -> dict:
    """As the gateway sends it: the registry's principal, validated as a Principal, dumped to JSON."""
    principal = Principal(account_id=uuid4(), email="Admin@Example.ORG", display_name="Admin",
                          administers=[AdministeredAssociation(id=uuid4(), country="IN", verified=True)],
                          individual_id=uuid4())  # fmt: skip
    return principal.model_dump(mode="json")


def test_the_gateways_principal_parses_to_the_same_principal():
    sent = sent_by_the_gateway()
    trusted = TrustedPrincipal.model_validate(sent)
    assert isinstance(trusted, Principal)
    assert trusted.model_dump() == Principal.model_validate(sent).model_dump()
    assert trusted.email == "Admin@example.org"  # as the gateway's Principal normalised it


@pytest.mark.parametrize(
    ("field", "value"),
    [("account_id", "not-a-uuid"), ("administers", [{"id": "x", "country": "IN", "verified": True}]),
     ("email", None), ("display_name", 7)],
)  # fmt: skip
def test_its_fields_are_still_checked(field, value):
    with pytest.raises(Invalid):
        conversion_of(MessagingService.post_message.__wrapped__).parse(
            "principal", sent_by_the_gateway() | {field: value}
        )


def test_every_messaging_entrypoint_takes_the_principal_as_trusted():
    takes_principal = [
        name
        for name, method in vars(MessagingService).items()
        if callable(method) and "principal" in typing.get_type_hints(method)
    ]
    assert len(takes_principal) > 10
    for name in takes_principal:
        assert typing.get_type_hints(getattr(MessagingService, name))["principal"] is TrustedPrincipal, name


def test_a_principal_from_anyone_else_still_has_its_email_checked():
    with pytest.raises(ValueError, match="email"):
        TypeAdapter(Principal).validate_python(sent_by_the_gateway() | {"email": "not an address"})
