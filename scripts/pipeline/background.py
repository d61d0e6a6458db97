"""Background processes with pid files (the local stack, the local API): alive checks and clean stops."""

from __future__ import annotations

import contextlib
import os
import signal
import time

__all__ = ["is_alive", "stop_process"]


def is_alive(pid: int) -> bool:
    """True while a process with this pid exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(pid: int) -> None:
    # A child of ours (a test fixture's server) stays a zombie, and "alive", until it is reaped.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_process(pid: int, *, group: bool = False, grace_seconds: float = 10.0) -> None:
    """SIGTERM, wait up to `grace_seconds`, then SIGKILL. `group` signals the process group that a
    session leader started (servers that fork, such as `chalice local`)."""
    send = os.killpg if group else os.kill
    for sig, grace in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
        try:
            send(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and is_alive(pid):
            _reap(pid)
            time.sleep(0.1)
        _reap(pid)
        if not is_alive(pid):
            return
