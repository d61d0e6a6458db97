"""`serve`, `deploy` and `down`: the Chalice API locally or on AWS, and stopping what the demo started."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local_stack.process import home_dir, is_alive, stop_process
from pipeline.lifecycle.api_settings import render_chalice_stage, render_environment
from pipeline.lifecycle.context import Context, Progress
from pipeline.lifecycle.errors import LifecycleError, WaitTimeoutError
from pipeline.paths import repo_root

__all__ = [
    "api_environment",
    "chalice_command",
    "deploy_config",
    "package_rules",
    "run_deploy",
    "run_down",
    "run_serve",
    "start_api_background",
    "stop_api",
]


def api_environment(ctx: Context) -> dict[str, str]:
    """The API's environment from the Terraform outputs and the config ."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL") if ctx.env == "local" else None
    env: dict[str, str] = render_environment(ctx.outputs, ctx.config, endpoint_url=endpoint)
    return env


def chalice_command(*args: str) -> list[str]:
    """`chalice ...` from this interpreter's environment."""
    script = Path(sys.executable).parent / "chalice"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "chalice", *args]


def run_serve(ctx: Context, port: int) -> int:
    """`chalice local` in the foreground (Ctrl-C stops it); returns its exit code."""
    env = {**os.environ, **api_environment(ctx)}
    ctx.progress.say(f"API on http://127.0.0.1:{port} (stage {ctx.env}); Ctrl-C to stop")
    cmd = chalice_command("local", "--host", "127.0.0.1", "--port", str(port), "--stage", ctx.env)
    try:
        return subprocess.call(cmd, cwd=repo_root() / "chalice_app", env=env)
    except KeyboardInterrupt:
        return 0


def _api_pid_file() -> Path:
    return home_dir() / "api.pid"


def stop_api(progress: Progress | None = None) -> bool:
    """Stop the background API started by `start_api_background`; True when one was running."""
    progress = progress or Progress()
    pid_file = _api_pid_file()
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().strip())
    except ValueError:
        pid_file.unlink(missing_ok=True)
        return False
    running = is_alive(pid)
    if running:
        # The server runs in its own session: signal its whole process group (chalice may fork).
        stop_process(pid, group=True)
        progress.say(f"API server (pid {pid}) stopped")
    pid_file.unlink(missing_ok=True)
    return running


def _get(url: str, timeout: float = 1.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def start_api_background(ctx: Context, port: int, *, timeout: float = 60.0) -> int:
    """(Re)start `chalice local` in the background, wait for /health to answer; returns the pid."""
    stop_api(ctx.progress)
    folder = home_dir()
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **api_environment(ctx)}
    # No autoreload in the background: one process, nothing respawning after `down`.
    cmd = chalice_command(
        "local", "--host", "127.0.0.1", "--port", str(port), "--stage", ctx.env, "--no-autoreload"
    )
    with (folder / "api.log").open("ab") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=repo_root() / "chalice_app",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _api_pid_file().write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _api_pid_file().unlink(missing_ok=True)
            lines = (folder / "api.log").read_text(errors="replace").strip().splitlines()
            last = f" ({lines[-1].strip()[:200]})" if lines else ""
            raise LifecycleError(
                "API server",
                f"exited with code {proc.returncode}{last}",
                f"is port {port} taken (set API_PORT)? see {folder / 'api.log'}",
            )
        if _get(f"http://127.0.0.1:{port}/health") is not None:
            ctx.progress.say(f"API server (pid {proc.pid}) answering on http://127.0.0.1:{port}")
            return proc.pid
        time.sleep(0.2)
    stop_api(ctx.progress)
    raise WaitTimeoutError(
        "API server", f"no answer on port {port} after {timeout:.0f}s", f"see {folder / 'api.log'}"
    )


def deploy_config(ctx: Context, base: dict[str, Any]) -> dict[str, Any]:
    """The app's .chalice/config.json with the `ctx.env` stage filled from Terraform (role, env vars)."""
    config = json.loads(json.dumps(base))
    stage = dict(config.get("stages", {}).get(ctx.env, {}))
    stage.update(render_chalice_stage(ctx.outputs, ctx.config))
    config.setdefault("stages", {})[ctx.env] = stage
    return config


def package_rules(build: Path) -> Path:
    """Copy personalize_rules (the filter grammar the API parses its filters with) into the build's
    `vendor/`: Chalice puts vendor/ packages at the top of the Lambda bundle ("App Packaging",
    https://aws.github.io/chalice/topics/packaging.html). Returns the copied package's folder."""
    import personalize_rules

    source = Path(personalize_rules.__file__).resolve().parent
    target = build / "vendor" / source.name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def run_deploy(ctx: Context) -> int:
    """`chalice deploy --stage <env>` from a build copy whose config carries the Terraform-made role.

    The copy keeps the repo's config free of account-specific values; chalice's deployed-state file is copied
    back to chalice_app/.chalice/deployed/ so the next deploy updates the same API instead of a new one.
    """
    source = repo_root() / "chalice_app"
    build = home_dir() / "chalice-deploy" / ctx.env
    if build.exists():
        shutil.rmtree(build)
    shutil.copytree(
        source, build, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "venv", "deployments", "vendor")
    )
    package_rules(build)
    base = json.loads((source / ".chalice" / "config.json").read_text(encoding="utf-8"))
    (build / ".chalice" / "config.json").write_text(
        json.dumps(deploy_config(ctx, base), indent=2), encoding="utf-8"
    )
    ctx.progress.say(f"chalice deploy --stage {ctx.env} (role {ctx.output('api_role_arn')})")
    code = subprocess.call(chalice_command("deploy", "--stage", ctx.env), cwd=build)
    deployed = build / ".chalice" / "deployed"
    if deployed.is_dir():
        shutil.copytree(deployed, source / ".chalice" / "deployed", dirs_exist_ok=True)
    if code != 0:
        raise LifecycleError("chalice deploy", f"exited with code {code}", "see chalice's output above")
    return code


def run_down(
    *, progress: Progress | None = None, ctx: Context | None = None, campaigns: bool = False
) -> None:
    """Stop the API server and the local stack (idempotent); with `campaigns`, delete the campaigns too."""
    progress = progress or Progress()
    if campaigns and ctx is not None:
        from pipeline.lifecycle.promote import find_campaign

        for spec in ctx.config["campaigns"]:
            found = find_campaign(ctx, ctx.campaign_name(spec))
            if found:
                ctx.personalize.delete_campaign(campaignArn=found["campaignArn"])
                progress.say(f"campaign {found['name']} deleted (no more TPS-hours billed)")
    if not stop_api(progress):
        progress.say("API server: not running")
    subprocess.call([sys.executable, "-m", "local_stack", "down"])
    (home_dir() / "api.pid").unlink(missing_ok=True)
