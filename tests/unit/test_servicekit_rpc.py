"""servicekit's `rpc`: arguments parsed into their annotated contracts, results dumped to JSON through the return
annotation, and nameko's own machinery (signature check, redaction, worker_factory) unchanged."""

from uuid import UUID, uuid4

import pytest
from nameko.containers import ServiceContainer
from nameko.exceptions import IncorrectSignature, UnserializableValueError
from nameko.rpc import Rpc
from nameko.testing.services import worker_factory
from nameko.utils import get_redacted_args
from pydantic import BaseModel, ConfigDict

from contracts.accounts import LogIn, Principal
from contracts.associations import Location
from contracts.errors import EXPECTED_ERRORS, Invalid
from contracts.validation import InvalidPayload
from servicekit.rpc import conversion_of, rpc


class Placed(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    location: Location
    asked_by: str | None = None


class PlacingService:
    name = "placing"

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token", "credentials.password"))
    def place(
        self, token: str | None, location: Location, principal: Principal | None = None, limit: int = 10
    ) -> Placed:
        return Placed(id=uuid4(), location=location, asked_by=principal.email if principal else None)

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def place_many(self, locations: list[Location]) -> list[Placed]:
        return [Placed(id=uuid4(), location=location) for location in locations]

    @rpc
    def forget(self, place_id: UUID) -> None:
        assert isinstance(place_id, UUID)

    @rpc(sensitive_arguments=("credentials.password",))
    def sign_in(self, credentials: LogIn) -> None:
        pass

    @rpc
    def broken(self) -> Placed:
        return {"id": "not a model"}


PRINCIPAL = {"account_id": str(uuid4()), "email": "cell@mizoram.gov.in", "display_name": "Cell"}


@pytest.fixture
def service():
    return worker_factory(PlacingService)


@pytest.fixture
def entrypoints():
    """The service's entrypoints as nameko binds them (to a container that is never started)."""
    container = ServiceContainer(PlacingService, config={"AMQP_URI": "memory://"})
    found: dict[str, Rpc] = {ep.method_name: ep for ep in container.entrypoints}
    yield found
    del container  # the entrypoints hold their container by a weak reference: kept alive until here


def test_dicts_in_json_out(service):
    placed = service.place("token", {"lat": 23.73, "lon": 92.72}, PRINCIPAL)

    assert placed["location"] == {"lat": 23.73, "lon": 92.72}
    assert placed["asked_by"] == "cell@mizoram.gov.in"
    assert UUID(placed["id"])  # JSON: the UUID as text
    assert service.place(None, {"lat": 0, "lon": 0})["asked_by"] is None
    assert [item["location"]["lat"] for item in service.place_many([{"lat": 1, "lon": 2}, {"lat": 3, "lon": 4}])] == [
        1,
        3,
    ]
    assert service.forget(str(uuid4())) is None


def test_models_are_accepted_as_they_are(service):
    assert service.place("token", Location(lat=1, lon=2), Principal.model_validate(PRINCIPAL))["asked_by"]


def test_a_bad_field_of_a_model_is_invalid_and_named_as_the_gateway_names_it(service):
    with pytest.raises(InvalidPayload) as refused:
        service.place("token", {"lat": 123, "lon": 92.72, "alt": 4})

    assert isinstance(refused.value, Invalid)
    assert {problem["field"] for problem in refused.value.problems} == {"lat", "alt"}
    assert refused.value.message.startswith("lat: Input should be less than or equal to 90")
    assert "alt: is not a field of this request" in refused.value.message


def test_a_bad_scalar_or_list_is_named_by_its_parameter(service):
    with pytest.raises(InvalidPayload, match=r"^limit: Input should be a valid integer"):
        service.place("token", {"lat": 0, "lon": 0}, None, "ten")
    with pytest.raises(InvalidPayload, match=r"^place_id: Input should be a valid UUID"):
        service.forget("nowhere")
    with pytest.raises(InvalidPayload, match=r"^locations\.1\.lon: Field required"):
        service.place_many([{"lat": 1, "lon": 2}, {"lat": 3}])
    with pytest.raises(InvalidPayload, match=r"^principal: Input should be a valid dictionary"):
        service.place("token", {"lat": 0, "lon": 0}, "cell staff")


def test_a_result_other_than_the_annotation_says_is_a_bug_not_a_quiet_dict(service):
    with pytest.raises(UnserializableValueError) as refused:
        service.broken()

    assert "Expected `Placed`" in str(refused.value.__cause__)  # pydantic's reason, for the log


def test_nameko_still_checks_the_signature_against_the_method_as_written(entrypoints):
    place = entrypoints["place"]

    place.check_signature(("token", {"lat": 0, "lon": 0}), {"limit": 3})
    with pytest.raises(IncorrectSignature, match="location"):
        place.check_signature(("token",), {})
    with pytest.raises(IncorrectSignature):
        place.check_signature(("token", {}, None, 1, "one too many"), {})
    with pytest.raises(IncorrectSignature):
        place.check_signature(("token", {}), {"radius": 5})


def test_entrypoint_options_and_redaction_see_the_arguments_as_sent(entrypoints):
    place, sign_in = entrypoints["place"], entrypoints["sign_in"]

    assert place.expected_exceptions == EXPECTED_ERRORS
    assert get_redacted_args(place, "secret-token", {"lat": 0, "lon": 0})["token"] == "********"
    redacted = get_redacted_args(sign_in, {"email": "a@example.org", "password": "hunter2 hunter2"})
    assert redacted["credentials"] == {"email": "a@example.org", "password": "********"}


def test_the_type_adapters_are_built_once_per_entrypoint(service):
    service.place("token", {"lat": 0, "lon": 0})
    original = PlacingService.place.__wrapped__
    built = conversion_of(original)

    service.place("token", {"lat": 1, "lon": 1})

    assert conversion_of(original) is built
