"""Fixes to moto's behaviour that the local endpoint needs to act like AWS for our Terraform.

moto (5.2.x) evaluates S3 bucket policies, but treats a condition whose context key it has no value for
(S3 passes none) as satisfied — so the standard "Deny when aws:SecureTransport is false" statement denies
every object read over the local endpoint. A statement whose condition keys have no value in the request
context cannot be shown to apply; we make it not apply (NEUTRAL), as it would not for a TLS caller.
"""

from __future__ import annotations

from typing import Any

__all__ = ["apply_moto_patches", "revert_moto_patches"]

_ORIGINAL: Any = None


def apply_moto_patches() -> None:
    """Patch moto in this process (idempotent)."""
    global _ORIGINAL
    if _ORIGINAL is not None:
        return
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = _ORIGINAL = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        conditions = self._statement.get("Condition") or {}
        keys = {key for operator in conditions.values() if isinstance(operator, dict) for key in operator}
        if keys - set(incoming_condition_values or {}):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]


def revert_moto_patches() -> None:
    """Undo `apply_moto_patches` (tests that share a process with other moto users)."""
    global _ORIGINAL
    if _ORIGINAL is None:
        return
    from moto.iam.access_control import IAMPolicyStatement

    IAMPolicyStatement.is_action_permitted = _ORIGINAL  # type: ignore[method-assign]
    _ORIGINAL = None
