"""`python -m local_stack serve|up|down|status`: run the local AWS endpoint.

`serve` runs in the foreground; `up` starts it in the background (pid and log files under
`LOCAL_STACK_HOME`, default `<repo>/.local`) and waits for the health check; `down` stops it.
`up` and `down` are idempotent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from local_stack import process
from local_stack.errors import LocalStackError
from local_stack.process import home_dir, is_alive, stop_process

__all__ = ["health", "main"]

DEFAULT_PORT = 4566


def _default_port() -> int:
    return int(os.environ.get("LOCAL_STACK_PORT") or DEFAULT_PORT)


def health(port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    """The health document of a server on loopback `port`, or None when nothing answers."""
    return process.health(f"http://127.0.0.1:{port}", timeout)


def _pid_file(port: int) -> Path:
    return home_dir() / f"local_stack-{port}.pid"


def _log_file(port: int) -> Path:
    return home_dir() / f"local_stack-{port}.log"


def up(port: int, state_dir: Path | None, wait_seconds: float = 60.0) -> int:
    if (doc := health(port)) is not None:
        print(f"local stack already running on port {port} (pid {doc.get('pid')})")
        return 0
    home = home_dir()
    home.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "local_stack", "serve", "--port", str(port)]
    if state_dir is not None:
        cmd += ["--state-dir", str(state_dir)]
    log_path = _log_file(port)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _pid_file(port).write_text(str(proc.pid))
    print(f"starting local stack on port {port} (pid {proc.pid}, log {log_path})", end="", flush=True)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if health(port) is not None:
            print(" ready")
            return 0
        if proc.poll() is not None:
            print(" failed")
            tail = log_path.read_text(errors="replace").splitlines()[-20:]
            raise LocalStackError(
                "local stack up", f"server exited with {proc.returncode}; log tail:\n" + "\n".join(tail)
            )
        print(".", end="", flush=True)
        time.sleep(0.25)
    raise LocalStackError(
        "local stack up", f"no health answer on port {port} within {wait_seconds:.0f} s; see {log_path}"
    )


def down(port: int, wait_seconds: float = 15.0) -> int:
    pid_path = _pid_file(port)
    if not pid_path.exists():
        print(f"local stack not running on port {port} (no pid file)")
        return 0
    pid = int(pid_path.read_text().strip() or 0)
    if pid <= 0 or not is_alive(pid):
        pid_path.unlink(missing_ok=True)
        print(f"local stack not running on port {port} (stale pid file removed)")
        return 0
    stop_process(pid, grace_seconds=wait_seconds)
    pid_path.unlink(missing_ok=True)
    print(f"local stack on port {port} stopped (pid {pid})")
    return 0


def status(port: int) -> int:
    doc = health(port)
    if doc is None:
        print(f"local stack not running on port {port}")
        return 3
    print(json.dumps({"port": port, **doc}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "up", "down", "status"):
        cmd = sub.add_parser(name)
        cmd.add_argument(
            "--port", type=int, default=_default_port(), help="default $LOCAL_STACK_PORT or 4566"
        )
        if name in ("serve", "up"):
            cmd.add_argument("--state-dir", type=Path, default=None, help="persist emulator state here")
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            import logging

            from local_stack.server import serve

            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
            # One line per request would dominate the log (and cost throughput); errors still show.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            serve(args.port, state_dir=args.state_dir)
            return 0
        if args.command == "up":
            return up(args.port, args.state_dir)
        if args.command == "down":
            return down(args.port)
        return status(args.port)
    except LocalStackError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
