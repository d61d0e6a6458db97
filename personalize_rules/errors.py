"""The base of the errors Personalize's rules raise (schemas, filter expressions, recipes)."""

from __future__ import annotations

__all__ = ["RulesError"]


class RulesError(Exception):
    """Input breaks one of Personalize's documented rules: at `where` (a field, an offset), because `why`.

    `message` overrides the text (default "where: why"), e.g. to keep the service's wording.
    """

    def __init__(self, where: str, why: str, message: str | None = None) -> None:
        super().__init__(f"{where}: {why}" if message is None else message)
        self.where = where
        self.why = why
