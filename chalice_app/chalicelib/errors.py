"""Domain errors of the API: each says where (a parameter, a setting, a backend) and why."""

from __future__ import annotations

__all__ = ["ApiError", "BackendError", "CatalogError", "SettingsError"]


class SettingsError(Exception):
    """An environment variable the API needs is missing or malformed."""

    def __init__(self, variable: str, why: str) -> None:
        super().__init__(f"{variable}: {why}")
        self.variable = variable
        self.why = why


class ApiError(Exception):
    """A request the API answers with a 4xx/5xx JSON error (never a backend fault: those fall back)."""

    def __init__(self, status: int, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter

    def to_json(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.parameter is not None:
            error["parameter"] = self.parameter
        return {"error": error}


class BackendError(Exception):
    """Personalize did not answer usefully in time (timeout, throttle, error); the API falls back."""

    def __init__(self, operation: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{operation}: {reason}{': ' + detail if detail else ''}")
        self.operation = operation
        self.reason = reason
        self.detail = detail


class CatalogError(Exception):
    """The catalog or the fallback list in S3 could not be read or parsed."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"{key}: {why}")
        self.key = key
        self.why = why
