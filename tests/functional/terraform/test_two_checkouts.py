"""Two checkouts side by side share one machine: a local stack records which checkout started it, the
other checkout neither reuses it nor applies its Terraform state to it nor stops it, and says why and
what to do; a stack whose checkout was deleted can still be stopped (`down --orphan`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_stack.process import free_port, health, is_alive, stop_process
from pipeline.paths import repo_root

pytestmark = pytest.mark.functional


def _clone(target: Path) -> Path:
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", f"file://{repo_root()}", str(target)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return target


def _env(checkout: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_STACK_HOME", "AWS_ENDPOINT_URL")}
    env.update({"BP_REPO_ROOT": str(checkout), "LOCAL_STACK_PORT": str(port)})
    return env


def _run(checkout: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=_env(checkout, port),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def checkouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, int]]:
    base = tmp_path_factory.mktemp("checkouts")
    first, second = _clone(base / "first"), _clone(base / "second")
    port = free_port()
    started = _run(first, port, "-m", "local_stack", "up", "--port", str(port))
    assert started.returncode == 0, started.stdout + started.stderr
    pid = int((health(f"http://127.0.0.1:{port}") or {}).get("pid") or 0)
    try:
        yield first, second, port
    finally:
        if pid and is_alive(pid):
            stop_process(pid, grace_seconds=10)


def test_the_stack_records_the_checkout_and_state_it_serves(checkouts: tuple[Path, Path, int]) -> None:
    first, _, port = checkouts
    owner = (health(f"http://127.0.0.1:{port}") or {})["owner"]
    assert owner["checkout"] == str(first.resolve())
    assert owner["tf_state"] == str(first.resolve() / ".local" / "terraform" / "local" / "terraform.tfstate")


def test_up_in_another_checkout_stops_with_whose_stack_it_is_and_the_fix(
    checkouts: tuple[Path, Path, int],
) -> None:
    first, second, port = checkouts
    done = _run(second, port, "-m", "local_stack", "up", "--port", str(port))
    assert done.returncode != 0
    assert str(first.resolve()) in done.stderr
    assert f"make -C {first.resolve()} down" in done.stderr
    assert "LOCAL_STACK_PORT=" in done.stderr
    assert not (second / ".local" / f"local_stack-{port}.pid").exists()


def test_terraform_of_another_checkout_refuses_the_stack(checkouts: tuple[Path, Path, int]) -> None:
    first, second, port = checkouts
    done = _run(second, port, "-m", "pipeline", "apply", "--env", "local")
    assert done.returncode != 0
    assert str(first.resolve()) in done.stderr
    assert "terraform apply (local)" not in done.stderr, "nothing may be applied"


def test_down_in_another_checkout_leaves_the_stack_running(checkouts: tuple[Path, Path, int]) -> None:
    first, second, port = checkouts
    before = health(f"http://127.0.0.1:{port}")
    assert before is not None
    assert _run(second, port, "-m", "local_stack", "down").returncode == 0
    # Even a pid file naming that server (copied, or left from an earlier stack) must not stop it.
    home = second / ".local"
    home.mkdir(parents=True, exist_ok=True)
    (home / f"local_stack-{port}.pid").write_text(str(before["pid"]))
    done = _run(second, port, "-m", "local_stack", "down", "--port", str(port))
    assert done.returncode == 0
    assert "left running" in done.stdout
    after = health(f"http://127.0.0.1:{port}")
    assert after is not None and after["pid"] == before["pid"]


def test_a_stack_whose_checkout_was_deleted_is_stopped_only_with_orphan(
    checkouts: tuple[Path, Path, int],
) -> None:
    first, second, port = checkouts
    refused = _run(second, port, "-m", "local_stack", "down", "--port", str(port), "--orphan")
    assert refused.returncode != 0, "a stack whose checkout still exists is not an orphan"
    pid = (health(f"http://127.0.0.1:{port}") or {})["pid"]
    shutil.rmtree(first)
    told = _run(second, port, "-m", "local_stack", "up", "--port", str(port))
    assert told.returncode != 0 and "no longer exists" in told.stderr and "--orphan" in told.stderr
    stopped = _run(second, port, "-m", "local_stack", "down", "--port", str(port), "--orphan")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert health(f"http://127.0.0.1:{port}") is None
    assert not is_alive(pid)


def test_a_new_stack_sets_aside_the_state_of_the_previous_one(tmp_path: Path) -> None:
    # The previous stack lived in memory: its resources are gone, so is its state's meaning.
    checkout = _clone(tmp_path / "checkout")
    state = checkout / ".local" / "terraform" / "local" / "terraform.tfstate"
    state.parent.mkdir(parents=True)
    state.write_text('{"version": 4, "resources": []}')
    port = free_port()
    try:
        started = _run(checkout, port, "-m", "local_stack", "up", "--port", str(port))
        assert started.returncode == 0, started.stdout + started.stderr
        assert not state.exists()
        assert (
            state.with_name("terraform.tfstate.previous-stack").read_text()
            == '{"version": 4, "resources": []}'
        )
        # A stack this checkout already runs is reused: nothing is set aside again.
        state.write_text("{}")
        assert _run(checkout, port, "-m", "local_stack", "up", "--port", str(port)).returncode == 0
        assert state.read_text() == "{}"
    finally:
        assert _run(checkout, port, "-m", "local_stack", "down").returncode == 0
    assert health(f"http://127.0.0.1:{port}") is None
