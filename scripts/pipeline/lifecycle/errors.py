"""The lifecycle's domain errors: each says what failed, why, and what to do next."""

from __future__ import annotations

from pipeline.errors import PipelineError

__all__ = [
    "ConfigCheckError",
    "JobFailedError",
    "LifecycleError",
    "NotFoundError",
    "ThrottledError",
    "ValidationFailedError",
    "WaitTimeoutError",
    "WorseVersionError",
]


class LifecycleError(PipelineError):
    """Printed by the CLI without a traceback: `where` failed because `why`; `hint` says what to do."""

    def __init__(self, where: str, why: str, hint: str = "") -> None:
        self.where = where
        self.why = why
        self.hint = hint
        super().__init__(where, why, self.format())

    def format(self) -> str:
        text = f"{where_prefix(self.where)}{self.why}"
        return f"{text}\n  what to do: {self.hint}" if self.hint else text


def where_prefix(where: str) -> str:
    return f"{where}: " if where else ""


class ValidationFailedError(LifecycleError):
    """The data broke the contract; nothing was uploaded."""


class ConfigCheckError(LifecycleError):
    """The project config or the deployed resources disagree with what a command needs."""


class NotFoundError(LifecycleError):
    """A resource the command needs does not exist (yet)."""


class JobFailedError(LifecycleError):
    """An AWS job ended in a failed state; `why` carries AWS's failureReason."""


class WaitTimeoutError(LifecycleError):
    """A resource did not reach the wanted state in time."""


class WorseVersionError(LifecycleError):
    """Promotion refused: the candidate scores below the live version."""


class ThrottledError(LifecycleError):
    """Still throttled after every retry."""
