"""`make demo`: the whole job on the local stack, each stage timed, ending with a rendered Braze Content Card.

Re-runnable: every stage is idempotent (local stack `up`, Terraform apply, import, train and promote reuse
what exists). On a failure it stops what it started (API server, local stack), names the failed stage
and says what to do.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from braze.render import render_template
from local_stack.process import home_dir
from pipeline.lifecycle.api_server import run_down, start_api_background
from pipeline.lifecycle.context import Context, Progress, local_aws_env
from pipeline.lifecycle.errors import LifecycleError
from pipeline.online_retail import convert, default_source
from pipeline.paths import repo_root
from pipeline.sample_data import generate_dataset
from pipeline.validation import validate_directory

__all__ = ["DemoError", "run_demo"]

T = TypeVar("T")
DEMO_USERS = 20
REQUIRED_MODULES = ("boto3", "chalice", "liquid", "matplotlib", "implicit", "pyarrow", "python_terraform")


class DemoError(LifecycleError):
    """A demo stage failed; `where` names the stage."""


@dataclass
class _Stages:
    progress: Progress
    timings: list[tuple[str, float]] = field(default_factory=list)

    def run(self, name: str, step: Callable[[], T]) -> T:
        self.progress.plain(f"\n== {name}")
        started = time.monotonic()
        try:
            result = step()
        except LifecycleError as exc:
            raise DemoError(f"stage {name!r}", exc.format()) from exc
        except (subprocess.CalledProcessError, OSError) as exc:
            raise DemoError(
                f"stage {name!r}", str(exc), "see the output above; `make down` then `make demo`"
            ) from exc
        self.timings.append((name, time.monotonic() - started))
        self.progress.say(f"{name}: done in {self.timings[-1][1]:.1f}s")
        return result

    def table(self) -> str:
        width = max(len(name) for name, _ in self.timings)
        lines = [f"  {name:<{width}}  {seconds:6.1f}s" for name, seconds in self.timings]
        total = sum(seconds for _, seconds in self.timings)
        return "\n".join([*lines, f"  {'total':<{width}}  {total:6.1f}s"])


def _install_check() -> None:
    missing = [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise LifecycleError(
            "install", f"missing Python packages: {', '.join(missing)}", "run `make install`"
        )
    if shutil.which("terraform") is None:
        raise LifecycleError(
            "install", "terraform is not on PATH", "install Terraform ≥ 1.11 (see the README)"
        )


def _python(*args: str, log_name: str | None = None, progress: Progress | None = None) -> None:
    """Run `python ARGS`; with `log_name` its output goes to a log file and a failure shows the tail."""
    if log_name is None:
        subprocess.run([sys.executable, *args], check=True, cwd=repo_root())
        return
    log = home_dir() / log_name
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as handle:
        done = subprocess.run(
            [sys.executable, *args], cwd=repo_root(), stdout=handle, stderr=subprocess.STDOUT, check=False
        )
    if progress is not None:
        progress.say(f"full output in {log}")
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise LifecycleError(" ".join(args), f"exited with code {done.returncode}:\n{tail}", f"see {log}")


def _local_stack_up(port: int) -> None:
    """`python -m local_stack up`: it refuses a port served by another checkout's stack, saying whose."""
    try:
        _python("-m", "local_stack", "up", "--port", str(port))
    except subprocess.CalledProcessError as exc:
        raise LifecycleError(
            "local stack up", f"no local stack of this checkout on port {port}", "see the message above"
        ) from exc


def _terraform_step_times(progress: Progress) -> None:
    """Where the apply's time went: the `<== step: done in Ns` lines pipeline.infra logs."""
    log = home_dir() / "terraform-apply.log"
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("<== "):
                progress.say(f"  {line[4:]}")


def _data(kind: str) -> Path:
    if kind == "online-retail":
        out = repo_root() / "data" / "online-retail"
        convert(default_source(), out)
        return out
    out = repo_root() / "data" / "sample"
    generate_dataset(out, "small", seed=7)
    return out


def _validate(data: Path, progress: Progress) -> None:
    report = validate_directory(str(data))
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(report.row_counts.items()))
    if not report.ok:
        progress.plain(report.format_text())
        raise LifecycleError(str(data), "the data breaks the contract", "see the problems above")
    warnings = sum(1 for p in report.problems if p.severity == "warning")
    progress.say(f"valid ({counts}; {warnings} warning(s))")


def _api_key(ctx: Context) -> str:
    """A demo API key, stored in the SSM parameter the API reads (Terraform leaves it as a placeholder)."""
    key_file = home_dir() / "demo-api-key"
    key = key_file.read_text().strip() if key_file.exists() else secrets.token_urlsafe(24)
    ssm = ctx.client("ssm")
    params: dict[str, Any] = {
        "Name": str(ctx.output("api_key_parameter_name")),
        "Value": key,
        "Type": "SecureString",
        "Overwrite": True,
    }
    if ctx.outputs.get("kms_key_arn"):
        params["KeyId"] = str(ctx.outputs["kms_key_arn"])
    ssm.put_parameter(**params)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _first_users(data: Path, n: int) -> list[str]:
    seen: dict[str, None] = {}
    with (data / "interactions.csv").open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            seen.setdefault(line.split(",", 1)[0], None)
            if len(seen) >= n:
                break
    return list(seen)


def _content_card(api_base: str, key: str, user: str, progress: Progress) -> str:
    template = repo_root() / "braze" / "content_card.liquid"
    result = render_template(template, user={"user_id": user}, api_base=api_base, api_key=key)
    for call in result.calls:
        progress.say(f"Braze Connected Content call: GET {call}")
    if result.aborted:
        raise LifecycleError("content card", f"Braze would abort the message: {result.abort_reason}")
    text = "\n".join(line for line in result.text.splitlines() if line.strip())
    progress.plain(f"\n--- Content Card for {user} " + "-" * 30 + f"\n{text}\n" + "-" * 50)
    return text


def _compare(ctx: Context, rows: list[Any]) -> None:
    baseline = max((r for r in rows if r.is_baseline), key=lambda r: r.created, default=None)
    personal = [r for r in rows if r.solution == ctx.config["api"]["campaign"]]
    if baseline and personal:
        best = max(personal, key=lambda r: r.metrics.get("normalized_discounted_cumulative_gain_at_10", 0.0))
        ours = best.metrics.get("normalized_discounted_cumulative_gain_at_10", 0.0)
        base = baseline.metrics.get("normalized_discounted_cumulative_gain_at_10", 0.0)
        verdict = "better than" if ours > base else "NOT better than"
        ctx.progress.say(
            f"{best.solution} NDCG@10 {ours:.4f} is {verdict} the popularity baseline {base:.4f}"
        )


def run_demo(
    *, data: str = "sample", port: int = 4566, api_port: int = 8000, progress: Progress | None = None
) -> None:
    """Run every stage; on failure stop the API server and the local stack and raise DemoError."""
    progress = progress or Progress()
    stages = _Stages(progress)
    os.environ["LOCAL_STACK_PORT"] = str(port)
    os.environ.update(local_aws_env(port))
    started_stack = False
    try:
        stages.run("install check", _install_check)
        stages.run("local stack up", lambda: _local_stack_up(port))
        started_stack = True
        data_dir = stages.run(f"data ({data})", lambda: _data(data))
        stages.run("validate", lambda: _validate(data_dir, progress))
        stages.run(
            "terraform apply (local)",
            lambda: _python(
                "-m",
                "pipeline",
                "apply",
                "--env",
                "local",
                log_name="terraform-apply.log",
                progress=progress,
            ),
        )
        _terraform_step_times(progress)
        ctx = stages.run("terraform outputs", lambda: Context.load("local", progress=progress))
        from pipeline.lifecycle.batch import run_batch
        from pipeline.lifecycle.evaluation import run_evaluate
        from pipeline.lifecycle.importing import run_import
        from pipeline.lifecycle.promote import run_promote
        from pipeline.lifecycle.training import run_train

        stages.run("import", lambda: run_import(ctx, data_dir))
        stages.run("train", lambda: run_train(ctx))
        evaluation = stages.run("evaluate", lambda: run_evaluate(ctx))
        _compare(ctx, evaluation.rows)
        stages.run("promote", lambda: run_promote(ctx, "best"))
        key = stages.run("API key", lambda: _api_key(ctx))
        stages.run("API server", lambda: start_api_background(ctx, api_port))
        api_base = f"http://127.0.0.1:{api_port}"
        users = _first_users(data_dir, DEMO_USERS)
        stages.run("Braze Content Card", lambda: _content_card(api_base, key, users[0], progress))
        users_file = repo_root() / "data" / "demo-users.txt"
        users_file.write_text("\n".join(users) + "\n", encoding="utf-8")
        batch = stages.run(
            "batch job",
            lambda: run_batch(ctx, users_file, filter_name=ctx.config["api"].get("default_filter")),
        )
        from pipeline.braze_loop import run_braze_loop

        stages.run("Braze loop", lambda: run_braze_loop(ctx, users[1], batch.job_name))
    except BaseException:
        if started_stack:
            progress.plain("\nthe demo failed: stopping what it started (`make demo` again to retry)")
            run_down(progress=progress)
        raise
    progress.plain("\n== stage times\n" + stages.table())
    header = ctx.config["api"].get("api_key_header", "X-Api-Key")
    progress.plain(
        f"""
== running now
  local AWS endpoint   http://127.0.0.1:{port}   (S3, KMS, CloudWatch, Personalize, ...)
  recommendations API  {api_base}   (chalice local; log in {home_dir() / "api.log"})
  evaluation report    {evaluation.markdown.relative_to(repo_root())}
  batch output         {batch.files[0].parent.relative_to(repo_root()) if batch.files else "-"}

== explore
  curl -s -H '{header}: {key}' '{api_base}/recommendations?user_id={users[0]}&limit=5'
  curl -s -H '{header}: {key}' '{api_base}/recommendations?user_id={users[1]}&limit=3&envelope=true'
  curl -s '{api_base}/health'
  AWS_ENDPOINT_URL=http://127.0.0.1:{port} aws personalize list-campaigns   # any AWS CLI/SDK call works
  make down                                     # stop everything the demo started
"""
    )
