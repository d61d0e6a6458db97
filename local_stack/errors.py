"""The base of the local stack's errors (the emulator's API errors, its jobs, starting and stopping it)."""

from __future__ import annotations

__all__ = ["LocalStackError"]


class LocalStackError(Exception):
    """The local stack failed at `where` (a step, a resource, a location) because `why`.

    `message` overrides the text (default "where: why"), e.g. where the service words errors its own way.
    """

    def __init__(self, where: str, why: str, message: str | None = None) -> None:
        super().__init__(f"{where}: {why}" if message is None else message)
        self.where = where
        self.why = why
