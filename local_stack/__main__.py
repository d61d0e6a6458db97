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

from local_stack import ownership, process
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
        owner = doc.get("owner") if isinstance(doc.get("owner"), dict) else None
        if owner is not None and Path(str(owner.get("checkout"))) == ownership.this_checkout():
            print(
                f"local stack already running on port {port} (pid {doc.get('pid')}), started by this checkout"
            )
            return 0
        # Someone else's stack (or one that cannot say whose it is): reusing it would apply this
        # checkout's Terraform state to another checkout's resources.
        raise LocalStackError("up", ownership.describe_foreign_stack(f"http://127.0.0.1:{port}", doc))
    home = home_dir()
    home.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "local_stack", "serve", "--port", str(port)]
    if state_dir is not None:
        cmd += ["--state-dir", str(state_dir)]
    log_path = _log_file(port)
    env = {**os.environ, **ownership.owner_environment()}
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    _pid_file(port).write_text(str(proc.pid))
    print(f"starting local stack on port {port} (pid {proc.pid}, log {log_path})", end="", flush=True)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if health(port) is not None:
            print(" ready")
            if state_dir is None:
                _set_aside_stale_terraform_state(port)
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


def _set_aside_stale_terraform_state(port: int) -> None:
    """A new in-memory stack holds nothing, so this checkout's local Terraform state describes resources
    that are gone: set it aside, and the next apply plans creations instead of reading ~60 missing
    resources one by one (about 15 s). Not while another stack of this checkout runs: the state may be its."""
    others = [p for p in _ports_with_pid_files() if p != port and _pid_alive_from_file(p)]
    if others:
        return
    state = Path(ownership.owner_environment()[ownership.OWNER_STATE_ENV])
    if state.is_file():
        aside = state.with_name(state.name + ".previous-stack")
        state.replace(aside)
        print(f"the new stack is empty: Terraform state of the previous one moved to {aside}")


def _pid_alive_from_file(port: int) -> bool:
    try:
        pid = int(_pid_file(port).read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    return pid > 0 and is_alive(pid)


def down(port: int | None, wait_seconds: float = 15.0, *, orphan: bool = False) -> int:
    """Stop the stack(s) this checkout started: on `port`, or every one with a pid file here.

    A pid file is trusted only while the server on its port answers with this pid and this checkout as
    owner (a pid can be reused; a port can be taken over). `orphan` stops the stack on `port` whose
    owning checkout no longer exists, and nothing else."""
    if orphan:
        if port is None:
            raise LocalStackError("down", "--orphan needs --port")
        return _down_orphan(port, wait_seconds)
    ports = [port] if port is not None else sorted(_ports_with_pid_files())
    if not ports:
        print("local stack not running (none started by this checkout)")
        return 0
    for each in ports:
        _down_one(each, wait_seconds)
    return 0


def _ports_with_pid_files() -> list[int]:
    found = []
    for path in home_dir().glob("local_stack-*.pid"):
        suffix = path.stem.rsplit("-", 1)[-1]
        if suffix.isdigit():
            found.append(int(suffix))
    return found


def _down_one(port: int, wait_seconds: float) -> None:
    pid_path = _pid_file(port)
    if not pid_path.exists():
        print(f"local stack not running on port {port} (no pid file)")
        return
    pid = int(pid_path.read_text().strip() or 0)
    if pid <= 0 or not is_alive(pid):
        pid_path.unlink(missing_ok=True)
        print(f"local stack not running on port {port} (stale pid file removed)")
        return
    doc = health(port)
    if doc is None and not _is_local_stack_process(pid):
        pid_path.unlink(missing_ok=True)
        print(f"local stack not running on port {port} (pid {pid} is another program now; pid file removed)")
        return
    if doc is not None:
        owner: dict[str, Any] = doc["owner"] if isinstance(doc.get("owner"), dict) else {}
        mine = not owner or Path(str(owner.get("checkout"))) == ownership.this_checkout()
        if doc.get("pid") != pid or not mine:
            pid_path.unlink(missing_ok=True)
            print(
                f"local stack on port {port} is not the one this checkout started (pid {doc.get('pid')}, "
                f"checkout {owner.get('checkout')}): left running, stale pid file removed"
            )
            return
    stop_process(pid, grace_seconds=wait_seconds)
    pid_path.unlink(missing_ok=True)
    print(f"local stack on port {port} stopped (pid {pid})")


def _is_local_stack_process(pid: int) -> bool:
    """Whether `pid` runs `-m local_stack` (where /proc says; elsewhere trust the pid file)."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.exists():
        return True
    try:
        return b"local_stack" in cmdline.read_bytes()
    except OSError:
        return False


def _down_orphan(port: int, wait_seconds: float) -> int:
    doc = health(port)
    if doc is None:
        print(f"nothing answers on port {port}")
        return 0
    owner = doc.get("owner") if isinstance(doc.get("owner"), dict) else None
    if owner is None or Path(str(owner.get("checkout"))).exists():
        raise LocalStackError(
            "down --orphan",
            f"the stack on port {port} belongs to {owner and owner.get('checkout')}: not an orphan",
        )
    pid = int(doc.get("pid") or 0)
    stop_process(pid, grace_seconds=wait_seconds)
    print(
        f"orphaned local stack on port {port} stopped (pid {pid}, checkout {owner.get('checkout')} is gone)"
    )
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
        if name == "down":
            cmd.add_argument(
                "--orphan",
                action="store_true",
                help="stop the stack on --port whose checkout no longer exists",
            )
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
            # Without an explicit --port: every stack this checkout started.
            explicit = any(a == "--port" or a.startswith("--port=") for a in (argv or sys.argv[1:]))
            return down(args.port if explicit else None, orphan=args.orphan)
        return status(args.port)
    except LocalStackError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
