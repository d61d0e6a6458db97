"""Terraform checks run by `make tf-check`: fmt, validate, terraform test, cfn-lint on the rendered
CloudFormation template, checkov. Prints each step; exits non-zero listing every failed step."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.infra import terraform_env
from pipeline.paths import config_path, repo_root

__all__ = ["CheckError", "StepResult", "main", "render_template", "run_checks", "terraform_roots"]


class CheckError(PipelineError):
    """A check could not run at all (tool missing, template not renderable); says which and why."""

    def __init__(self, step: str, why: str) -> None:
        super().__init__(step, why)
        self.step = step


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    output: str = ""
    details: list[str] = field(default_factory=list)


def terraform_roots() -> list[Path]:
    """Every module and environment directory under terraform/ (each has a versions.tf)."""
    base = repo_root() / "terraform"
    return sorted(p.parent for p in base.glob("*/*/versions.tf"))


def _run(cmd: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> tuple[int, str]:
    try:
        done = subprocess.run(
            list(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise CheckError(" ".join(cmd[:2]), f"{cmd[0]} not found ({exc})") from exc
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout:.0f}s"
    return done.returncode, (done.stdout + done.stderr).strip()


def _data_env(work: Path, root: Path) -> dict[str, str]:
    # One .terraform per root in a scratch dir: checks never touch real state or each other.
    rel = root.relative_to(repo_root()).as_posix().replace("/", "_")
    return terraform_env({"TF_DATA_DIR": str(work / rel), "TF_INPUT": "0"})


def render_template(work: Path, config: Path | None = None) -> str:
    """The CloudFormation template terraform/modules/personalize renders for `config`, as JSON text."""
    module = repo_root() / "terraform" / "modules" / "personalize"
    env = _data_env(work, module)
    code, out = _run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], module, env)
    if code != 0:
        raise CheckError("render template", f"terraform init failed:\n{out}")
    cmd = [
        "terraform",
        "console",
        f"-var=config_file={config or config_path()}",
        f"-var=schema_root={repo_root()}",
    ]
    done = subprocess.run(
        cmd, cwd=module, env=env, input="local.template_body\n", capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise CheckError("render template", f"terraform console failed:\n{done.stderr.strip()}")
    try:
        # console prints the string quoted; its escapes are JSON's for this content.
        text = json.loads(done.stdout.strip())
        json.loads(text)
    except ValueError as exc:
        raise CheckError("render template", f"console output is not a JSON template: {exc}") from exc
    return str(text)


def _timed(name: str, cmd: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> StepResult:
    start = time.monotonic()
    code, out = _run(cmd, cwd, env, timeout)
    return StepResult(name, code == 0, time.monotonic() - start, out)


def _report(result: StepResult) -> None:
    print(f"==> {result.name}\n    {'ok' if result.ok else 'FAILED'} ({result.seconds:.1f}s)", flush=True)
    if not result.ok:
        print("\n".join("    " + line for line in result.output.splitlines()[-60:]), flush=True)


def _check_root(root: Path, work: Path) -> list[StepResult]:
    """init (-backend=false), validate and, when it has tests/*.tftest.hcl, `terraform test` one root."""
    rel = root.relative_to(repo_root()).as_posix()
    env = _data_env(work, root)
    init = ["terraform", "init", "-backend=false", "-input=false", "-no-color"]
    results = [_timed(f"terraform init {rel}", init, root, env)]
    if not results[0].ok:
        return results
    results.append(_timed(f"terraform validate {rel}", ["terraform", "validate", "-no-color"], root, env))
    if any((root / "tests").glob("*.tftest.hcl")):
        results.append(_timed(f"terraform test {rel}", ["terraform", "test", "-no-color"], root, env, 600))
    return results


def run_checks(checkov: str | None) -> list[StepResult]:
    results: list[StepResult] = []
    base = repo_root()
    with tempfile.TemporaryDirectory(prefix="tf-checks-") as tmp:
        work = Path(tmp)

        def step(name: str, cmd: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> bool:
            result = _timed(name, cmd, cwd, env, timeout)
            _report(result)
            results.append(result)
            return result.ok

        env = terraform_env()
        step(
            "terraform fmt -check -recursive",
            ["terraform", "fmt", "-check", "-recursive", "-diff", "-no-color"],
            base / "terraform",
            env,
        )
        # Roots are independent (own TF_DATA_DIR), so two run at once; results print in root order.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for root_results in pool.map(lambda root: _check_root(root, work), terraform_roots()):
                for result in root_results:
                    _report(result)
                    results.append(result)

        print("==> cfn-lint on the rendered Personalize template", flush=True)
        start = time.monotonic()
        try:
            template = render_template(work)
            path = work / "personalize.template.json"
            path.write_text(template, encoding="utf-8")
            code, out = _run([str(Path(sys.executable).parent / "cfn-lint"), str(path)], base, env)
            ok, output = code == 0, out
        except CheckError as exc:
            ok, output = False, str(exc)
        results.append(StepResult("cfn-lint rendered template", ok, time.monotonic() - start, output))
        print(f"    {'ok' if ok else 'FAILED'} ({time.monotonic() - start:.1f}s)", flush=True)
        if not ok:
            print("\n".join("    " + line for line in output.splitlines()[-60:]), flush=True)

        if checkov:
            step(
                "checkov terraform/",
                [
                    checkov,
                    "--directory",
                    "terraform",
                    "--framework",
                    "terraform",
                    "--compact",
                    "--quiet",
                    "--skip-download",
                    "--download-external-modules",
                    "false",
                    "--output",
                    "cli",
                ],
                base,
                env,
                timeout=600,
            )
        else:
            results.append(StepResult("checkov terraform/", False, 0.0, "no --checkov executable given"))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.tf_checks", description=__doc__)
    parser.add_argument("--checkov", help="checkov executable (make tf-check passes .venv-checkov's)")
    args = parser.parse_args(argv)
    if shutil.which("terraform") is None:
        print("error: terraform CLI not found on PATH", file=sys.stderr)
        return 2
    started = time.monotonic()
    results = run_checks(args.checkov)
    failed = [r.name for r in results if not r.ok]
    print(
        f"\n{len(results) - len(failed)}/{len(results)} Terraform checks passed in "
        f"{time.monotonic() - started:.0f}s",
        flush=True,
    )
    if failed:
        print("failed:\n" + "\n".join(f"  - {name}" for name in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
