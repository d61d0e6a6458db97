"""The one error the recipes raise; the emulator maps it to InvalidInputException."""

from __future__ import annotations

__all__ = ["RecipeError"]


class RecipeError(ValueError):
    """Bad training input (hyperparameters, HPO config, data), worded like Personalize's errors."""

    code = "InvalidInputException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
