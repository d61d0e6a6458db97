"""Whose local stack is this? A server started by `python -m local_stack up` records the checkout that
started it (and where that checkout keeps its Terraform state) and reports both in its health document,
so another checkout never applies its state to it, reuses it, or stops it by mistake."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from local_stack.process import checkout_dir, free_port, terraform_state_dir

__all__ = [
    "OWNER_CHECKOUT_ENV",
    "OWNER_STATE_ENV",
    "foreign_owner_message",
    "owner_environment",
    "owner_from_environment",
    "this_checkout",
]

# `up` hands these to the server it starts; the dispatcher puts them in its health document.
OWNER_CHECKOUT_ENV = "LOCAL_STACK_OWNER_CHECKOUT"
OWNER_STATE_ENV = "LOCAL_STACK_OWNER_TF_STATE"


def this_checkout() -> Path:
    """The checkout this process runs from (BP_REPO_ROOT, else the repository of this code), resolved."""
    return checkout_dir().resolve()


def owner_environment() -> dict[str, str]:
    """The variables `up` sets on the server it starts: this checkout and its local Terraform state."""
    return {
        OWNER_CHECKOUT_ENV: str(this_checkout()),
        OWNER_STATE_ENV: str(terraform_state_dir("local") / "terraform.tfstate"),
    }


def owner_from_environment() -> dict[str, str] | None:
    """The owner the server was started with, or None for a server started without one (tests)."""
    checkout = os.environ.get(OWNER_CHECKOUT_ENV)
    if not checkout:
        return None
    return {"checkout": checkout, "tf_state": os.environ.get(OWNER_STATE_ENV, "")}


def foreign_owner_message(health: dict[str, Any], endpoint: str) -> str | None:
    """None when the stack answering `health` is this checkout's (or nobody's: a test server);
    otherwise what the user must know: whose stack it is and the command that fixes it."""
    owner = health.get("owner")
    if not isinstance(owner, dict) or not owner.get("checkout"):
        return None
    theirs = Path(str(owner["checkout"]))
    if theirs == this_checkout():
        return None
    return describe_foreign_stack(endpoint, health)


def describe_foreign_stack(endpoint: str, health: dict[str, Any]) -> str:
    """The message for a stack on `endpoint` that this checkout did not start."""
    port = endpoint.rsplit(":", 1)[-1].rstrip("/")
    owner = health.get("owner") if isinstance(health.get("owner"), dict) else None
    mine = (
        f"use ports of your own (free now): `make demo LOCAL_STACK_PORT={free_port()} API_PORT={free_port()}`"
        " (and that LOCAL_STACK_PORT for every make command of this checkout)"
    )
    if owner is None:
        return (
            f"the local stack on port {port} (pid {health.get('pid')}) does not say which checkout started "
            f"it, so this checkout ({this_checkout()}) will not use it: {mine}; or stop it where it started"
        )
    theirs = Path(str(owner["checkout"]))
    state = owner.get("tf_state") or "unknown"
    if not theirs.exists():
        fix = f"stop it with `python -m local_stack down --port {port} --orphan` (its checkout is gone)"
        return (
            f"port {port} is served by the local stack of checkout {theirs}, which no longer exists "
            f"(pid {health.get('pid')}, Terraform state {state}): {fix}, or {mine}"
        )
    return (
        f"port {port} is served by the local stack of another checkout, {theirs} (pid {health.get('pid')}, "
        f"Terraform state {state}); its resources are not in this checkout's state. Either {mine}, or stop "
        f"that stack: `make -C {theirs} down`"
    )
