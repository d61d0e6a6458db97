"""Personalize's API errors, named and worded as the real service names them."""

from __future__ import annotations

from local_stack.errors import LocalStackError

__all__ = [
    "InvalidInputException",
    "InvalidNextTokenException",
    "LimitExceededException",
    "PersonalizeError",
    "ResourceAlreadyExistsException",
    "ResourceInUseException",
    "ResourceNotFoundException",
]


class PersonalizeError(LocalStackError):
    """An error the API returns to the caller: `code` is the AWS error code (its `where`), `message` its
    text (its `why`)."""

    code = "PersonalizeError"
    #: HTTP status for REST-JSON services (runtime, events); JSON 1.1 always answers 400.
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)
        self.message = message

    def to_json(self) -> dict[str, str]:
        return {"__type": self.code, "message": self.message}


class InvalidInputException(PersonalizeError):
    code = "InvalidInputException"


class InvalidNextTokenException(PersonalizeError):
    code = "InvalidNextTokenException"


class ResourceNotFoundException(PersonalizeError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceAlreadyExistsException(PersonalizeError):
    code = "ResourceAlreadyExistsException"


class ResourceInUseException(PersonalizeError):
    code = "ResourceInUseException"
    status = 409


class LimitExceededException(PersonalizeError):
    code = "LimitExceededException"
