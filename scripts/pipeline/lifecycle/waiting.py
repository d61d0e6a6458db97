"""Wait for an asynchronous Personalize resource, printing each status change and the elapsed time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import JobFailedError, WaitTimeoutError

__all__ = ["FAILED_STATES", "IN_PROGRESS_STATES", "failure_hint", "wait_for"]

IN_PROGRESS_STATES = frozenset(
    {"CREATE PENDING", "CREATE IN_PROGRESS", "UPDATE PENDING", "UPDATE IN_PROGRESS"}
)
FAILED_STATES = frozenset(
    {
        "CREATE FAILED",
        "UPDATE FAILED",
        "CREATE STOPPING",
        "CREATE STOPPED",
        "DELETE PENDING",
        "DELETE IN_PROGRESS",
    }
)

# failureReason fragments AWS uses -> what the user should do about them.
_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("access denied", "accessdenied", "insufficient privileges", "not authorized"),
        "the Personalize role cannot read/write the bucket or use the KMS key: check personalize_role_arn's "
        "policy and the bucket policy (`make apply`)",
    ),
    (
        ("kms",),
        "the KMS key policy must allow the Personalize role and personalize.amazonaws.com (`make apply`)",
    ),
    (
        ("timestamp",),
        "TIMESTAMP must be Unix seconds (not milliseconds); run `make validate DATA=<dir>`",
    ),
    (
        ("header", "column", "schema", "field"),
        "the CSV header must equal the schema's field names in order; run `make validate DATA=<dir>`",
    ),
    (
        ("at least", "minimum", "not enough", "insufficient data", "too few"),
        "Personalize needs more data: import more history (see `make validate`'s minimum checks)",
    ),
    (
        ("does not exist", "nosuchkey", "no such key", "not found"),
        "the S3 object or resource is missing: re-run the previous step (`make import` / `make apply`)",
    ),
)


def failure_hint(reason: str) -> str:
    """What to do about an AWS failureReason; a generic next step when we do not recognise it."""
    lowered = reason.lower()
    for fragments, hint in _HINTS:
        if any(fragment in lowered for fragment in fragments):
            return hint
    return "fix the cause above and re-run the same command (it resumes where it stopped)"


def wait_for(
    ctx: Context,
    what: str,
    describe: Callable[[], Mapping[str, Any]],
    *,
    done: frozenset[str] = frozenset({"ACTIVE"}),
    status_key: str = "status",
) -> dict[str, Any]:
    """Poll `describe()` until its status is in `done`; JobFailedError on failure, WaitTimeoutError late."""
    assert ctx.poll is not None and ctx.timeout is not None
    started = ctx.progress.clock()
    last_status: str | None = None
    last_report = started
    while True:
        resource = dict(describe())
        status = str(resource.get(status_key, "UNKNOWN"))
        now = ctx.progress.clock()
        if status in done:
            if last_status is not None:  # only when we actually waited: quiet on re-runs
                ctx.progress.say(f"{what}: {status} after {now - started:.1f}s")
            return resource
        if status in FAILED_STATES:
            reason = str(resource.get("failureReason") or f"ended in status {status} without a failureReason")
            raise JobFailedError(what, f"{status}: {reason}", failure_hint(reason))
        if status != last_status or now - last_report >= 60:
            ctx.progress.say(f"waiting for {what}: {status} ({now - started:.0f}s elapsed)")
            last_status, last_report = status, now
        if now - started > ctx.timeout:
            raise WaitTimeoutError(
                what,
                f"still {status} after {now - started:.0f}s",
                "it keeps running in AWS: re-run the same command later to pick it up, or raise "
                "BP_WAIT_TIMEOUT_SECONDS",
            )
        ctx.sleep(ctx.poll)
