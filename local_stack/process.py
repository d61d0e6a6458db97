"""A local stack server as a child process on a free loopback port, for tests and benchmarks: started,
waited for until it answers its health check, and stopped at the end of a `with` block. (`python -m
local_stack up/down` keep a pid file instead, for a server that outlives the command.)"""

from __future__ import annotations

import contextlib
import json
import os
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

from local_stack.dispatcher import HEALTH_PATH

__all__ = ["LocalStackStartError", "RunningServer", "free_port", "health", "serve"]


class LocalStackStartError(RuntimeError):
    """The server exited or did not answer its health check in time; carries the end of its log."""

    def __init__(self, url: str, log_path: Path, why: str) -> None:
        tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
        super().__init__(f"local stack at {url} {why}; the end of {log_path}:\n{tail}")
        self.url = url
        self.log_path = log_path


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
