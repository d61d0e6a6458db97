"""Domain errors of the API: one base, and each error says where (a parameter, a setting, a dependency)
and why."""

from __future__ import annotations

__all__ = ["ApiBaseError", "ApiError", "BackendError", "CatalogError", "DependencyError", "SettingsError"]


class ApiBaseError(Exception):
    """Every error the API raises on purpose: `where` it happened and `why`."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


class SettingsError(ApiBaseError):
    """An environment variable the API needs is missing or malformed."""

    def __init__(self, variable: str, why: str) -> None:
        super().__init__(variable, why)
        self.variable = variable


class ApiError(ApiBaseError):
    """A request the API answers with a 4xx/5xx JSON error (never a backend fault: those fall back)."""

    def __init__(self, status: int, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(parameter or code, message)
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def to_json(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.parameter is not None:
            error["parameter"] = self.parameter
        return {"error": error}


class DependencyError(ApiBaseError):
    """A dependency (Personalize, S3, SSM) did not answer usefully: timeout, throttle, error, open breaker."""

    def __init__(self, operation: str, reason: str, detail: str = "") -> None:
        super().__init__(operation, f"{reason}{': ' + detail if detail else ''}")
        self.operation = operation
        self.reason = reason
        self.detail = detail


class BackendError(DependencyError):
    """Personalize did not answer usefully in time (timeout, throttle, error, malformed): fall back."""


class CatalogError(ApiBaseError):
    """The catalog artifact in S3 could not be read or parsed."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(key, why)
        self.key = key
