"""Turning a payload into a contract model, with errors a person can read."""

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.errors import Invalid

Model = TypeVar("Model", bound=BaseModel)


class FieldProblem(BaseModel):
    """What is wrong with one field: its dotted path (`office_bearers.0.name`) and the problem, for a person."""

    model_config = ConfigDict(frozen=True)

    field: str
    problem: str


def describe_problems(exc: ValidationError, *, name: str = "body", nested: bool = False) -> list[dict[str, str]]:
    """One entry per problem: the field's dotted path and what is wrong with it.

    `name` is what the payload is called: a problem with the whole of it is `name`'s, and `nested` starts
    every path with it (`limit`, `items.0.name`) for a payload that is not a model of named fields.
    """
    problems = []
    for error in exc.errors(include_url=False):
        path = [str(part) for part in error["loc"]]
        field = ".".join([name, *path] if nested or not path else path)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a field of this request"
        problems.append({"field": field, "problem": message})
    return problems


class InvalidPayload(Invalid):
    """Invalid, with the problems per field for callers in the same process."""

    def __init__(self, message: str, problems: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


def invalid_payload(exc: ValidationError, *, name: str = "body", nested: bool = False) -> InvalidPayload:
    """The InvalidPayload to raise for `exc`, its message naming each field and its problem."""
    problems = describe_problems(exc, name=name, nested=nested)
    message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return InvalidPayload(message, problems)


def parse(model: type[Model], payload: object) -> Model:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise invalid_payload(exc) from None
