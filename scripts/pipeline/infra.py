"""Run Terraform for an environment: init, plan, apply, destroy, outputs, bootstrap (the CLI's
`python -m pipeline plan|apply|destroy|outputs|bootstrap` calls `run` and `bootstrap`).

Environments: `--env local` (the local stack) or `--env aws --stage staging|production` (two instances of
terraform/envs/aws, each with its own tfvars, backend config and S3 state under stages/).

Consent: `plan --plan-file F` saves a plan and `apply --plan-file F` applies exactly it. An apply to AWS
without a saved plan shows the plan and asks on a terminal, or needs `--auto-approve` (CI); with neither
it refuses. `destroy` refuses unless `--confirm` names the environment (local included). The local
environment's apply approves itself: the local stack is throw-away and the demo and tests run unattended.

Terraform runs through python-terraform. Provider installation never touches the network when a
filesystem mirror is known: `ensure_cli_config()` writes the same `cli.tfrc` the Makefile writes and
every Terraform call here (and in `pipeline.tf_checks`, `pipeline.tf_outputs`) goes through
`terraform_env()`, which points TF_CLI_CONFIG_FILE at it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

from local_stack.process import terraform_state_dir
from pipeline.errors import PipelineError
from pipeline.paths import repo_root

__all__ = [
    "ENVIRONMENTS",
    "STAGES",
    "TERRAFORM_GOGC",
    "InfraError",
    "bootstrap",
    "ensure_cli_config",
    "env_dir",
    "environment_name",
    "find_provider_mirror",
    "init",
    "local_endpoint",
    "plan_has_changes",
    "run",
    "state_dir",
    "terraform_env",
    "write_backend_configs",
]

ENVIRONMENTS: tuple[str, ...] = ("local", "aws")
# Instances of terraform/envs/aws: each has stages/<stage>.tfvars and stages/<stage>.backend.hcl.
STAGES: tuple[str, ...] = ("staging", "production")
# The data bucket and key exist under one of two addresses (storage module: prevent_destroy is a literal).
PROTECTED_ADDRESSES: tuple[tuple[str, str], ...] = tuple(
    (
        f"module.platform.module.storage.{kind}.protected[0]",
        f"module.platform.module.storage.{kind}.disposable[0]",
    )
    for kind in ("aws_s3_bucket", "aws_kms_key")
)
# GOGC for Terraform and its provider plugins (see terraform_env).
TERRAFORM_GOGC = "400"
# Local-stack account (moto's default); the local env passes it to Terraform as account_id.
LOCAL_ACCOUNT_ID = "123456789012"


class InfraError(PipelineError):
    """A Terraform step failed or cannot start; says which step, where and why."""

    def __init__(self, step: str, where: str, why: str) -> None:
        super().__init__(where, why, f"{step} ({where}): {why}")
        self.step = step


def find_provider_mirror() -> str:
    """TF_PROVIDER_MIRROR if set, else what scripts/find-provider-mirror prints ('' when none)."""
    mirror = os.environ.get("TF_PROVIDER_MIRROR", "").strip()
    if mirror:
        return mirror
    script = repo_root() / "scripts" / "find-provider-mirror"
    try:
        found = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return found.stdout.strip()


def _cli_config_text(mirror: str) -> str:
    # Same text as the Makefile's .terraform.d/cli.tfrc rule.
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "}\n"
    )


def ensure_cli_config() -> Path | None:
    """The Terraform CLI config to use, writing `<repo>/.terraform.d/cli.tfrc` from the mirror if needed.

    An existing TF_CLI_CONFIG_FILE wins. Returns None when there is neither a config nor a mirror (a
    user with internet: Terraform's own defaults apply).
    """
    current = os.environ.get("TF_CLI_CONFIG_FILE", "")
    if current and Path(current).is_file():
        return Path(current)
    mirror = find_provider_mirror()
    if not mirror:
        return None
    path = repo_root() / ".terraform.d" / "cli.tfrc"
    text = _cli_config_text(mirror)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def terraform_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ plus TF_CLI_CONFIG_FILE (from ensure_cli_config), TF_IN_AUTOMATION and `extra`."""
    env = dict(os.environ)
    config = ensure_cli_config()
    if config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(config)
    elif "TF_CLI_CONFIG_FILE" in env and not Path(env["TF_CLI_CONFIG_FILE"]).is_file():
        del env["TF_CLI_CONFIG_FILE"]  # a dangling path only produces warnings
    env["TF_IN_AUTOMATION"] = "1"
    env.setdefault("CHECKPOINT_DISABLE", "1")  # no version-check call home
    # Terraform starts the AWS provider four times per apply (schemas, validate, plan, apply) and each
    # start builds its ~500 MB schema: Go's collector at GOGC=400 instead of 100 spends about a third less
    # CPU there for ~150 MB more peak memory. Only the Go runtime's pacing changes; a GOGC set by the
    # user wins (https://pkg.go.dev/runtime#hdr-Environment_Variables).
    env.setdefault("GOGC", TERRAFORM_GOGC)
    env.update(extra or {})
    return env


def env_dir(env: str) -> Path:
    if env not in ENVIRONMENTS:
        raise InfraError(
            "select environment", env, f"unknown environment; choose one of {', '.join(ENVIRONMENTS)}"
        )
    return repo_root() / "terraform" / "envs" / env


def resolve_stage(env: str, stage: str | None = None) -> str | None:
    """The AWS stage (`stage`, else $STAGE); None for local. AWS without a known stage is an error."""
    if env != "aws":
        return None
    stage = stage or os.environ.get("STAGE") or None
    if stage not in STAGES:
        raise InfraError(
            "select stage",
            str(stage),
            f"ENV=aws needs STAGE={' or STAGE='.join(STAGES)} (each has its own state and settings)",
        )
    return stage


def environment_name(env: str, stage: str | None = None) -> str:
    """What CONFIRM must say and what config overrides are keyed by: `local`, `staging` or `production`."""
    return resolve_stage(env, stage) or env


def stage_file(stage: str, suffix: str) -> Path:
    """terraform/envs/aws/stages/<stage><suffix> (`.tfvars`, `.backend.hcl`)."""
    return env_dir("aws") / "stages" / f"{stage}{suffix}"


def state_dir(env: str, stage: str | None = None) -> Path:
    """Local state and .terraform data of an environment: BP_TF_STATE_DIR or .local/terraform/<name>."""
    stage = resolve_stage(env, stage)
    return terraform_state_dir(f"{env}-{stage}" if stage else env)


def local_endpoint() -> str:
    """The local stack URL: AWS_ENDPOINT_URL if set, else http://127.0.0.1:$LOCAL_STACK_PORT (4566)."""
    explicit = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if explicit:
        return explicit.rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('LOCAL_STACK_PORT', '4566')}"


def _check_local_stack(endpoint: str) -> None:
    """The local stack answers and serves this checkout (never apply our state to another's stack)."""
    url = f"{endpoint}/_local_stack/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL we built
            if response.status == 200:
                doc = json.loads(response.read() or b"{}")
                from local_stack.ownership import foreign_owner_message

                problem = foreign_owner_message(doc, endpoint)
                if problem:
                    raise InfraError("check local stack", endpoint, problem)
                return
            why = f"health check answered HTTP {response.status}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        why = f"nothing answers at {url} ({exc})"
    raise InfraError("check local stack", endpoint, f"{why}; start it with `make local-up`")


def _env_vars(env: str, stage: str | None = None) -> dict[str, str]:
    # BP_PYTHON: the storage module's destroy guard runs with this interpreter (it has boto3).
    extra = {"TF_DATA_DIR": str(state_dir(env, stage) / ".terraform"), "BP_PYTHON": sys.executable}
    if env == "local":
        extra["TF_VAR_endpoint"] = local_endpoint()
        # The provider still wants credentials to sign requests; the local stack accepts any.
        extra.setdefault("AWS_ACCESS_KEY_ID", os.environ.get("AWS_ACCESS_KEY_ID", "test"))
        extra.setdefault("AWS_SECRET_ACCESS_KEY", os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
    return extra


def _terraform(env: str) -> Terraform:
    # Only builds command lines (see _exec): the environment is passed per call.
    return Terraform(working_dir=str(env_dir(env)), is_env_vars_included=False)


def _exec(
    tf: Terraform,
    env: Mapping[str, str],
    command: str,
    args: Sequence[str],
    options: dict[str, Any],
    *,
    capture: bool,
) -> tuple[int, str, str]:
    """Run one terraform command with exactly `env` as its environment; (exit code, stdout, stderr).

    python-terraform builds the command line (its option mapping: IsFlagged, lists, None skips);
    its own runner hands the child a copy of os.environ and has no per-call env, so the child is
    started here with `env` and the process environment is never changed.
    """
    argv = tf.generate_cmd_string(command, *args, **options)
    done = subprocess.run(
        argv, cwd=tf.working_dir, env=dict(env), capture_output=capture, text=True, check=False
    )
    return done.returncode, done.stdout or "", done.stderr or ""


def _call(
    tf: Terraform, step: str, where: str, command: str, args: Sequence[str], options: dict[str, Any]
) -> str:
    """Run one terraform command with our environment, streaming output; returns captured stdout."""
    wanted = terraform_env(options.pop("_extra_env", None))
    capture = bool(options.pop("_capture", False))
    try:
        code, out, err = _exec(tf, wanted, command, args, options, capture=capture)
    except OSError as exc:
        raise InfraError(step, where, f"cannot run terraform: {exc}") from exc
    if code != 0:
        raise InfraError(
            step, where, f"terraform {command} exited {code}" + (f": {err.strip()}" if err else "")
        )
    return out or ""


def init(
    env: str,
    *,
    backend_config: Mapping[str, str] | None = None,
    capture: bool = False,
    stage: str | None = None,
) -> None:
    """terraform init: local keeps state under state_dir(env); aws uses stages/<stage>.backend.hcl."""
    where = str(env_dir(env))
    stage = resolve_stage(env, stage)
    options: dict[str, Any] = {"input": False, "no_color": IsFlagged, "_capture": capture}
    configs: list[str] = []
    if env == "local":
        state = state_dir(env)
        state.mkdir(parents=True, exist_ok=True)
        configs.append(f"path={state / 'terraform.tfstate'}")
    elif stage is not None:
        backend_file = stage_file(stage, ".backend.hcl")
        if not backend_file.is_file() and not backend_config:
            raise InfraError(
                "terraform init",
                str(backend_file),
                f"no backend config for stage {stage}: create the state bucket with "
                f"`make bootstrap ENV=aws STAGE={stage}` (it writes this file)",
            )
        if backend_file.is_file():
            configs.append(str(backend_file))
    configs += [f"{k}={v}" for k, v in (backend_config or {}).items()]
    if configs:
        options["backend_config"] = configs
    options["reconfigure"] = IsFlagged
    options["_extra_env"] = _env_vars(env, stage)
    _call(_terraform(env), "terraform init", where, "init", [], options)


def _var_options(env: str, stage: str | None) -> dict[str, Any]:
    if stage is None:
        return {}
    return {"var_file": str(stage_file(stage, ".tfvars")), "var": [f"stage={stage}"]}


class _Timer:
    """Prints `==> <step>` and, when it ends, how long it took (`make demo` shows these stage times)."""

    def __init__(self, step: str) -> None:
        self.step = step
        self.started = 0.0

    def __enter__(self) -> _Timer:
        print(f"==> {self.step}", file=sys.stderr, flush=True)
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        outcome = "failed" if exc[0] is not None else "done"
        print(
            f"<== {self.step}: {outcome} in {time.monotonic() - self.started:.1f}s",
            file=sys.stderr,
            flush=True,
        )


def _plan_label(plan_file: Path) -> Path:
    return plan_file.with_name(plan_file.name + ".env")


def run(
    action: str,
    env: str,
    *,
    capture: bool = False,
    stage: str | None = None,
    plan_file: Path | None = None,
    auto_approve: bool = False,
    confirm: str | None = None,
    unprotect: bool = False,
) -> str:
    """init + plan/apply/destroy/outputs for `env`; returns captured text (outputs: the JSON).

    plan: with `plan_file`, saves the plan there. apply: with `plan_file`, applies exactly that plan;
    otherwise local approves itself and AWS needs `auto_approve` or a terminal to ask on. destroy: needs
    `confirm` == environment_name(env, stage); `unprotect` also releases the protected bucket and key.
    """
    where = str(env_dir(env))
    stage = resolve_stage(env, stage)
    name = environment_name(env, stage)
    if action == "destroy" and confirm != name:
        raise InfraError(
            "terraform destroy",
            name,
            f"refusing to destroy without consent: run `make destroy ENV={env}"
            + (f" STAGE={stage}" if stage else "")
            + f" CONFIRM={name}` to destroy the {name} environment",
        )
    asks = action == "apply" and plan_file is None and env != "local" and not auto_approve
    if asks and not sys.stdin.isatty():
        raise InfraError(
            "terraform apply",
            name,
            "refusing to apply without consent: no saved plan, no terminal to ask on, no AUTO_APPROVE. "
            f"Run `make plan ENV={env} STAGE={stage} PLAN=<file>`, review it, then "
            f"`make apply ENV={env} STAGE={stage} PLAN=<file>` (or set AUTO_APPROVE=1 in CI)",
        )
    if plan_file is not None and action == "apply":
        label = _plan_label(plan_file)
        saved_for = label.read_text(encoding="utf-8").strip() if label.is_file() else ""
        if not plan_file.is_file():
            raise InfraError(
                "terraform apply", str(plan_file), "no such plan file; save one with `make plan PLAN=...`"
            )
        if not saved_for:
            raise InfraError(
                "terraform apply",
                str(plan_file),
                "this plan was applied already (a saved plan applies once) or not saved by `make plan "
                f"PLAN=...`: save a new one with `make plan ENV={env}{f' STAGE={stage}' if stage else ''} "
                f"PLAN={plan_file}`",
            )
        if saved_for != name:
            raise InfraError(
                "terraform apply", str(plan_file), f"this plan was saved for {saved_for}, not {name}"
            )
    if env == "local" and action in ("plan", "apply", "destroy"):
        _check_local_stack(local_endpoint())
    # `terraform output` only reads state: skip the (seconds-long) init once the backend is configured.
    initialized = (state_dir(env, stage) / ".terraform" / "terraform.tfstate").is_file()
    if action != "outputs" or not initialized:
        with _Timer(f"terraform init ({name})"):
            # outputs must print nothing but the JSON, so its init is always quiet.
            init(env, capture=capture or action == "outputs", stage=stage)
    extra = _env_vars(env, stage)
    base: dict[str, Any] = {"input": False, "no_color": IsFlagged, "_extra_env": extra, "_capture": capture}
    tf = _terraform(env)
    if action == "plan":
        options = {**base, **_var_options(env, stage), "detailed_exitcode": None}
        if plan_file is not None:
            plan_file.parent.mkdir(parents=True, exist_ok=True)
            options["out"] = str(plan_file)
        with _Timer(f"terraform plan ({name})"):
            out = _call(tf, "terraform plan", where, "plan", [], options)
        if plan_file is not None:
            _plan_label(plan_file).write_text(name + "\n", encoding="utf-8")
            print(
                f"plan saved to {plan_file}; apply exactly it with "
                f"`make apply ENV={env}{f' STAGE={stage}' if stage else ''} PLAN={plan_file}`",
                file=sys.stderr,
            )
        return out
    if action == "apply":
        with _Timer(f"terraform apply ({name})"):
            if plan_file is not None:
                # A saved plan carries its variables; Terraform refuses it if the state moved on since.
                out = _call(tf, "terraform apply", where, "apply", [str(plan_file)], base)
            elif env == "local" or auto_approve:
                options = {**base, **_var_options(env, stage), "auto_approve": IsFlagged}
                out = _call(tf, "terraform apply", where, "apply", [], options)
            else:
                # Terraform shows the plan and asks for "yes" on this terminal.
                options = {**base, **_var_options(env, stage), "input": True}
                out = _call(tf, "terraform apply", where, "apply", [], options)
        if plan_file is not None:
            _plan_label(plan_file).unlink(missing_ok=True)  # a saved plan applies once
        return out
    if action == "destroy":
        if unprotect:
            return _destroy_unprotected(tf, where, name, base, _var_options(env, stage))
        with _Timer(f"terraform destroy ({name})"):
            options = {**base, **_var_options(env, stage), "auto_approve": IsFlagged}
            return _call(tf, "terraform destroy", where, "destroy", [], options)
    if action == "outputs":
        return _call(
            tf,
            "terraform output",
            where,
            "output",
            [],
            {"no_color": IsFlagged, "json": IsFlagged, "_extra_env": extra, "_capture": True},
        )
    raise InfraError("select action", action, "choose plan, apply, destroy or outputs")


# `state list` / `state mv` go in as one command string: python-terraform puts options between the command
# and its args, and `terraform state -no-color list` is a usage error (the UNPROTECT test caught it).
def _state_addresses(tf: Terraform, where: str, base: Mapping[str, Any]) -> set[str]:
    out = _call(
        tf, "terraform state list", where, "state list", [], {**base, "input": None, "_capture": True}
    )
    return {line.strip() for line in out.splitlines() if line.strip()}


def _move(tf: Terraform, where: str, base: Mapping[str, Any], moves: Sequence[tuple[str, str]]) -> None:
    for source, target in moves:
        _call(
            tf,
            "terraform state mv",
            where,
            "state mv",
            [source, target],
            {**base, "input": None, "_capture": True},
        )


def _destroy_unprotected(
    tf: Terraform, where: str, name: str, base: Mapping[str, Any], var_options: Mapping[str, Any]
) -> str:
    """A deliberate teardown: the protected bucket and key move to their disposable addresses, then a
    destroy with prevent_destroy=false. If the destroy fails (say, the bucket still holds objects),
    whatever is left moves back under protection."""
    present = _state_addresses(tf, where, base)
    moves = [(src, dst) for src, dst in PROTECTED_ADDRESSES if src in present]
    _move(tf, where, base, moves)
    options = {**base, **var_options, "auto_approve": IsFlagged}
    options["var"] = [*(var_options.get("var") or []), "prevent_destroy=false"]
    try:
        with _Timer(f"terraform destroy ({name}, protection released)"):
            return _call(tf, "terraform destroy", where, "destroy", [], options)
    except InfraError:
        left = _state_addresses(tf, where, base)
        _move(tf, where, base, [(dst, src) for src, dst in moves if dst in left])
        raise


def plan_has_changes(env: str, stage: str | None = None) -> bool:
    """`terraform plan -detailed-exitcode`: False when the infrastructure matches the configuration."""
    where = str(env_dir(env))
    stage = resolve_stage(env, stage)
    init(env, capture=True, stage=stage)
    options: dict[str, Any] = {
        "input": False,
        "no_color": IsFlagged,
        "detailed_exitcode": IsFlagged,
        **_var_options(env, stage),
    }
    try:
        code, out, err = _exec(
            _terraform(env), terraform_env(_env_vars(env, stage)), "plan", [], options, capture=True
        )
    except OSError as exc:
        raise InfraError("terraform plan", where, f"cannot run terraform: {exc}") from exc
    if code not in (0, 2):
        raise InfraError("terraform plan", where, f"exited {code}: {(err or out or '').strip()[-2000:]}")
    return code == 2


def bootstrap(stage: str, *, auto_approve: bool = False) -> Path:
    """Create the S3 state bucket of an AWS stage (terraform/envs/bootstrap, local state under
    .local/terraform/bootstrap-<stage>) and write stages/<stage>.backend.hcl for `terraform init`."""
    stage = resolve_stage("aws", stage) or stage
    root = repo_root() / "terraform" / "envs" / "bootstrap"
    where = str(root)
    state = repo_root() / ".local" / "terraform" / f"bootstrap-{stage}"
    state.mkdir(parents=True, exist_ok=True)
    extra = {"TF_DATA_DIR": str(state / ".terraform")}
    tf = Terraform(working_dir=where, is_env_vars_included=False)
    if not auto_approve and not sys.stdin.isatty():
        raise InfraError(
            "bootstrap",
            stage,
            "refusing to create the state bucket without consent: run it on a terminal or set AUTO_APPROVE=1",
        )
    base: dict[str, Any] = {"input": False, "no_color": IsFlagged, "_extra_env": extra}
    with _Timer(f"terraform init (bootstrap {stage})"):
        _call(
            tf,
            "terraform init",
            where,
            "init",
            [],
            {**base, "reconfigure": IsFlagged, "backend_config": [f"path={state / 'terraform.tfstate'}"]},
        )
    options = {**base, **_var_options("aws", stage)}
    if auto_approve:
        options["auto_approve"] = IsFlagged
    else:
        options["input"] = True
    with _Timer(f"terraform apply (bootstrap {stage})"):
        _call(tf, "terraform apply", where, "apply", [], options)
    raw = _call(tf, "terraform output", where, "output", [], {**base, "json": IsFlagged, "_capture": True})
    return write_backend_configs(stage, json.loads(raw))


def write_backend_configs(stage: str, outputs: Mapping[str, Any]) -> Path:
    """Write bootstrap's backend configs: stages/<stage>.backend.hcl (the stage's region) and
    stages/<stage>.failover.backend.hcl (the replica, for an outage: terraform/README.md, "State
    failover")."""
    header = f"# Written by `make bootstrap ENV=aws STAGE={stage}`: the S3 state of the {stage} stage"
    files = {
        ".backend.hcl": ("backend_config", header + ".\n"),
        ".failover.backend.hcl": (
            "failover_backend_config",
            header + ", through its replica bucket in the second region"
            " (use only while the stage's region is down).\n",
        ),
    }
    for suffix, (output, text) in files.items():
        target = stage_file(stage, suffix)
        target.write_text(text + outputs[output]["value"], encoding="utf-8")
        print(f"backend config written to {target}", file=sys.stderr)
    return stage_file(stage, ".backend.hcl")
