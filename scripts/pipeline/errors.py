"""The base of the pipeline's domain errors: the CLI prints any of them without a traceback."""

from __future__ import annotations

__all__ = ["PipelineError"]


class PipelineError(Exception):
    """Something the user can act on went wrong: `where` (a file, a step, a resource) and `why`.

    `message` overrides the printed text (default "where: why") for errors that word it their own way.
    """

    def __init__(self, where: str, why: str, message: str | None = None) -> None:
        super().__init__(f"{where}: {why}" if message is None else message)
        self.where = where
        self.why = why
