"""The ML lifecycle commands: import, train, evaluate, promote, batch, events, lint-filters, serve, down."""

from __future__ import annotations

from pipeline.lifecycle.context import Context, Progress
from pipeline.lifecycle.errors import (
    ConfigCheckError,
    JobFailedError,
    LifecycleError,
    NotFoundError,
    ThrottledError,
    ValidationFailedError,
    WaitTimeoutError,
    WorseVersionError,
)

__all__ = [
    "ConfigCheckError",
    "Context",
    "JobFailedError",
    "LifecycleError",
    "NotFoundError",
    "Progress",
    "ThrottledError",
    "ValidationFailedError",
    "WaitTimeoutError",
    "WorseVersionError",
]
