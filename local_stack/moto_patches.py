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

moto's GetBucketReplication answers every rule with `DeleteMarkerReplication` Disabled and without its
`SourceSelectionCriteria` (replica modification sync, SSE-KMS objects), whatever was put, so Terraform plans
a two-way replication again forever. AWS returns the rules as put (the response syntax of
https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketReplication.html): we return what moto stored.
"""

from __future__ import annotations

from typing import Any

__all__ = ["apply_moto_patches", "revert_moto_patches"]

_ORIGINAL: Any = None
_ORIGINAL_GET_NOTIFICATION: Any = None
_ORIGINAL_GET_REPLICATION: Any = None


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
    _patch_replication_rules()


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


def _patch_replication_rules() -> None:
    """GetBucketReplication answers each rule's delete-marker and source-selection settings as put."""
    global _ORIGINAL_GET_REPLICATION
    from moto.core.responses import ActionResult
    from moto.s3.responses import S3Response

    original = _ORIGINAL_GET_REPLICATION = S3Response.get_bucket_replication

    def get_bucket_replication(self: Any) -> Any:
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            return original(self)  # moto's ReplicationConfigurationNotFoundError
        rules = []
        for rule in replication["Rule"]:
            shown = {
                "ID": rule["ID"],
                "Priority": rule["Priority"],
                "Status": rule["Status"],
                # xmltodict reads <Filter/> and <Prefix/> as None: both mean the empty prefix.
                "Filter": {
                    k: "" if v is None else v for k, v in (rule.get("Filter") or {"Prefix": None}).items()
                },
                "DeleteMarkerReplication": rule.get("DeleteMarkerReplication") or {"Status": "Disabled"},
                "Destination": rule["Destination"],
            }
            for key in ("SourceSelectionCriteria", "ExistingObjectReplication"):
                if rule.get(key):
                    shown[key] = rule[key]
            rules.append(shown)
        self.data["Action"] = "GetBucketReplication"
        return self.serialized(
            ActionResult({"ReplicationConfiguration": {"Role": replication["Role"], "Rules": rules}})
        )

    S3Response.get_bucket_replication = get_bucket_replication  # type: ignore[method-assign]


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
    global _ORIGINAL_GET_REPLICATION
    if _ORIGINAL_GET_REPLICATION is not None:
        from moto.s3.responses import S3Response

        S3Response.get_bucket_replication = _ORIGINAL_GET_REPLICATION  # type: ignore[method-assign]
        _ORIGINAL_GET_REPLICATION = None
