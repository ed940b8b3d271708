"""What only the HTTP API answers: a deletion's acknowledgement and the body of every error."""

from pydantic import BaseModel, ConfigDict

from contracts.validation import FieldProblem


class Deleted(BaseModel):
    model_config = ConfigDict(frozen=True)

    deleted: str


class ErrorBody(BaseModel):
    """Every error answer: a code, a sentence for a person, and the problems per field of an invalid request."""

    model_config = ConfigDict(frozen=True)

    error: str
    message: str
    problems: list[FieldProblem] | None = None
