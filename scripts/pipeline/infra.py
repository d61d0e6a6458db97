"""Run Terraform for an environment: init, plan, apply, destroy, outputs (the CLI's `python -m pipeline
plan|apply|destroy|outputs --env local|aws` calls `run`).

Terraform runs through python-terraform. Provider installation never touches the network when a
filesystem mirror is known: `ensure_cli_config()` writes the same `cli.tfrc` the Makefile writes and
every Terraform call here (and in `pipeline.tf_checks`, `pipeline.tf_outputs`) goes through
`terraform_env()`, which points TF_CLI_CONFIG_FILE at it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

from pipeline.errors import PipelineError
from pipeline.paths import repo_root

__all__ = [
    "ENVIRONMENTS",
    "InfraError",
    "ensure_cli_config",
    "env_dir",
    "find_provider_mirror",
    "init",
    "local_endpoint",
    "plan_has_changes",
    "run",
    "state_dir",
    "terraform_env",
]

ENVIRONMENTS: tuple[str, ...] = ("local", "aws")
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
    env.update(extra or {})
    return env


def env_dir(env: str) -> Path:
    if env not in ENVIRONMENTS:
        raise InfraError(
            "select environment", env, f"unknown environment; choose one of {', '.join(ENVIRONMENTS)}"
        )
    return repo_root() / "terraform" / "envs" / env


def state_dir(env: str) -> Path:
    """Local state and .terraform data of an environment: BP_TF_STATE_DIR or .local/terraform/<env>."""
    override = os.environ.get("BP_TF_STATE_DIR")
    return Path(override) if override else repo_root() / ".local" / "terraform" / env


def local_endpoint() -> str:
    """The local stack URL: AWS_ENDPOINT_URL if set, else http://127.0.0.1:$LOCAL_STACK_PORT (4566)."""
    explicit = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if explicit:
        return explicit.rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('LOCAL_STACK_PORT', '4566')}"


def _check_local_stack(endpoint: str) -> None:
    url = f"{endpoint}/_local_stack/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL we built
            if response.status == 200:
                return
            why = f"health check answered HTTP {response.status}"
    except (urllib.error.URLError, OSError) as exc:
        why = f"nothing answers at {url} ({exc})"
    raise InfraError("check local stack", endpoint, f"{why}; start it with `make local-up`")


def _env_vars(env: str) -> dict[str, str]:
    extra = {"TF_DATA_DIR": str(state_dir(env) / ".terraform")}
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
    return out


def init(env: str, *, backend_config: Mapping[str, str] | None = None, capture: bool = False) -> None:
    """terraform init: local keeps state under state_dir(env); aws reads backend.hcl if present."""
    where = str(env_dir(env))
    options: dict[str, Any] = {"input": False, "no_color": IsFlagged, "_capture": capture}
    configs: list[str] = []
    if env == "local":
        state = state_dir(env)
        state.mkdir(parents=True, exist_ok=True)
        configs.append(f"path={state / 'terraform.tfstate'}")
    else:
        backend_file = env_dir(env) / "backend.hcl"
        if backend_file.is_file():
            configs.append(str(backend_file))
    configs += [f"{k}={v}" for k, v in (backend_config or {}).items()]
    if configs:
        options["backend_config"] = configs
    options["reconfigure"] = IsFlagged
    options["_extra_env"] = _env_vars(env)
    _call(_terraform(env), "terraform init", where, "init", [], options)


def run(action: str, env: str, *, capture: bool = False) -> str:
    """init + plan/apply/destroy/outputs for `env`; returns captured text (outputs: the JSON)."""
    where = str(env_dir(env))
    if env == "local" and action in ("plan", "apply", "destroy"):
        _check_local_stack(local_endpoint())
    # `terraform output` only reads state: skip the (seconds-long) init once the backend is configured.
    initialized = (state_dir(env) / ".terraform" / "terraform.tfstate").is_file()
    if action != "outputs" or not initialized:
        print(f"==> terraform init ({env})", file=sys.stderr, flush=True)
        # outputs must print nothing but the JSON, so its init is always quiet.
        init(env, capture=capture or action == "outputs")
    extra = _env_vars(env)
    base: dict[str, Any] = {"input": False, "no_color": IsFlagged, "_extra_env": extra, "_capture": capture}
    tf = _terraform(env)
    if action == "plan":
        print(f"==> terraform plan ({env})", file=sys.stderr, flush=True)
        return _call(tf, "terraform plan", where, "plan", [], {**base, "detailed_exitcode": None})
    if action == "apply":
        print(f"==> terraform apply ({env})", file=sys.stderr, flush=True)
        return _call(tf, "terraform apply", where, "apply", [], {**base, "auto_approve": IsFlagged})
    if action == "destroy":
        print(f"==> terraform destroy ({env})", file=sys.stderr, flush=True)
        return _call(tf, "terraform destroy", where, "destroy", [], {**base, "auto_approve": IsFlagged})
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


def plan_has_changes(env: str) -> bool:
    """`terraform plan -detailed-exitcode`: False when the infrastructure matches the configuration."""
    where = str(env_dir(env))
    init(env, capture=True)
    options: dict[str, Any] = {"input": False, "no_color": IsFlagged, "detailed_exitcode": IsFlagged}
    try:
        code, out, err = _exec(
            _terraform(env), terraform_env(_env_vars(env)), "plan", [], options, capture=True
        )
    except OSError as exc:
        raise InfraError("terraform plan", where, f"cannot run terraform: {exc}") from exc
    if code not in (0, 2):
        raise InfraError("terraform plan", where, f"exited {code}: {(err or out or '').strip()[-2000:]}")
    return code == 2
