"""Fixes to moto's behaviour that the local endpoint needs to act like AWS for our Terraform.

moto (5.2.x) evaluates S3 bucket policies, but treats a condition whose context key it has no value for
(S3 passes none) as satisfied — so the standard "Deny when aws:SecureTransport is false" statement denies
every object read over the local endpoint. A statement whose condition keys have no value in the request
context cannot be shown to apply; we make it not apply (NEUTRAL), as it would not for a TLS caller.

moto stores a bucket notification configuration's EventBridgeConfiguration but leaves it out of
GetBucketNotificationConfiguration, so Terraform reads `eventbridge = false` back after setting it and
plans the change again forever. AWS returns the element when EventBridge is on ("Using EventBridge",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html; the response syntax of
https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketNotificationConfiguration.html): we add it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["apply_moto_patches", "revert_moto_patches"]

_ORIGINAL: Any = None
_ORIGINAL_GET_NOTIFICATION: Any = None


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
    _patch_notification_eventbridge()


def _patch_notification_eventbridge() -> None:
    """GetBucketNotificationConfiguration answers with EventBridgeConfiguration when it is on."""
    global _ORIGINAL_GET_NOTIFICATION
    from moto.core.responses import ActionResult
    from moto.s3.responses import S3Response

    original = _ORIGINAL_GET_NOTIFICATION = S3Response.get_bucket_notification

    def get_bucket_notification(self: Any) -> Any:
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or config.event_bridge is None:
            return original(self)
        # moto's answer rebuilt from the same data, plus the (empty) EventBridge element.
        result = {
            "TopicConfigurations": [_target(t, "TopicArn") for t in config.topic],
            "QueueConfigurations": [_target(q, "QueueArn") for q in config.queue],
            "LambdaFunctionConfigurations": [_target(f, "LambdaFunctionArn") for f in config.cloud_function],
            "EventBridgeConfiguration": {},
        }
        self.data["Action"] = "GetBucketNotificationConfiguration"
        return self.serialized(ActionResult(result))

    S3Response.get_bucket_notification = get_bucket_notification  # type: ignore[method-assign]


def _target(item: Any, arn_key: str) -> dict[str, Any]:
    """One topic, queue or function configuration as moto's GetBucketNotificationConfiguration shows it."""
    config: dict[str, Any] = {"Id": item.id, arn_key: item.arn, "Events": item.events}
    if item.filters:
        config["Filter"] = {"Key": {"FilterRules": item.filters["S3Key"]["FilterRule"]}}
    return config


def revert_moto_patches() -> None:
    """Undo `apply_moto_patches` (tests that share a process with other moto users)."""
    global _ORIGINAL
    if _ORIGINAL is None:
        return
    from moto.iam.access_control import IAMPolicyStatement

    IAMPolicyStatement.is_action_permitted = _ORIGINAL  # type: ignore[method-assign]
    _ORIGINAL = None
    global _ORIGINAL_GET_NOTIFICATION
    if _ORIGINAL_GET_NOTIFICATION is not None:
        from moto.s3.responses import S3Response

        S3Response.get_bucket_notification = _ORIGINAL_GET_NOTIFICATION  # type: ignore[method-assign]
        _ORIGINAL_GET_NOTIFICATION = None
