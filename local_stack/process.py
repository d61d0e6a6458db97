"""The local stack's processes. `serve`: a server as a child process on a free loopback port, for tests
and benchmarks, started, waited for until it answers its health check, and stopped at the end of a
`with` block. `python -m local_stack up/down` (and the pipeline's background API) keep a pid file under
`home_dir()` instead, for a server that outlives the command; `is_alive` and `stop_process` serve them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_stack.errors import LocalStackError

__all__ = [
    "HEALTH_PATH",
    "LocalStackStartError",
    "RunningServer",
    "checkout_dir",
    "free_port",
    "health",
    "home_dir",
    "is_alive",
    "serve",
    "stop_process",
    "terraform_state_dir",
]

# The health document every local server answers (the dispatcher serves it; `health` polls it).
HEALTH_PATH = "/_local_stack/health"


class LocalStackStartError(LocalStackError):
    """The server exited or did not answer its health check in time; carries the end of its log."""

    def __init__(self, url: str, log_path: Path, why: str) -> None:
        tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
        super().__init__(url, why, f"local stack at {url} {why}; the end of {log_path}:\n{tail}")
        self.url = url
        self.log_path = log_path


def checkout_dir() -> Path:
    """The checkout this code runs from: `BP_REPO_ROOT` if set, else the folder above this package."""
    checkout = os.environ.get("BP_REPO_ROOT")
    return Path(checkout) if checkout else Path(__file__).resolve().parents[1]


def home_dir() -> Path:
    """Where pid and log files of background servers live: `LOCAL_STACK_HOME`, else `.local` in the
    checkout."""
    override = os.environ.get("LOCAL_STACK_HOME")
    return Path(override) if override else checkout_dir() / ".local"


def terraform_state_dir(name: str) -> Path:
    """Local Terraform state and .terraform data of environment `name`: `BP_TF_STATE_DIR`, else
    `.local/terraform/<name>` in the checkout (the stack records it to tell its owner apart)."""
    override = os.environ.get("BP_TF_STATE_DIR")
    return Path(override) if override else checkout_dir() / ".local" / "terraform" / name


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


@dataclass(frozen=True)
class RunningServer:
    url: str
    port: int
    log_path: Path


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(url: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """The health document of the server at `url` (http://host:port), or None when nothing answers."""
    if not url.startswith(("http://", "https://")):
        return None
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}{HEALTH_PATH}", timeout=timeout) as resp:  # noqa: S310
            return dict(json.loads(resp.read()))
    except (OSError, urllib.error.URLError, ValueError):
        return None


@contextlib.contextmanager
def serve(home: Path, env: Mapping[str, str] | None = None, timeout: float = 60.0) -> Iterator[RunningServer]:
    """Run `python -m local_stack serve` (state and log under `home`) until the block ends.

    `env` is the server's whole environment (default: this process's); an AWS_ENDPOINT_URL in it is
    dropped, so the server never points at itself or elsewhere."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = home / "server.log"
    child_env = dict(os.environ if env is None else env)
    child_env["LOCAL_STACK_HOME"] = str(home)
    child_env.pop("AWS_ENDPOINT_URL", None)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "local_stack", "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env,
        )
    try:
        deadline = time.monotonic() + timeout
        while health(url) is None:
            if proc.poll() is not None:
                raise LocalStackStartError(url, log_path, f"exited with status {proc.returncode}")
            if time.monotonic() > deadline:
                raise LocalStackStartError(
                    url, log_path, f"did not answer {HEALTH_PATH} within {timeout:.0f} s"
                )
            time.sleep(0.1)
        yield RunningServer(url, port, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
