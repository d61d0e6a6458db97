"""What every lifecycle command needs: config, Terraform outputs, AWS clients and a progress printer."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import boto3

from pipeline.lifecycle.errors import ConfigCheckError

if TYPE_CHECKING:
    from mypy_boto3_personalize import PersonalizeClient
    from mypy_boto3_personalize_events import PersonalizeEventsClient
    from mypy_boto3_personalize_runtime import PersonalizeRuntimeClient
    from mypy_boto3_s3 import S3Client

__all__ = ["LOCAL_ACCOUNT_ID", "Context", "Progress", "local_aws_env", "poll_seconds"]

LOCAL_ACCOUNT_ID = "123456789012"


class Progress:
    """Prints one line per event, prefixed with the seconds since the command started."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stdout
        self.clock = clock
        self.started = clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def say(self, message: str) -> None:
        print(f"[{self.elapsed():7.1f}s] {message}", file=self.stream, flush=True)

    def plain(self, message: str = "") -> None:
        print(message, file=self.stream, flush=True)


def local_aws_env(port: int | None = None) -> dict[str, str]:
    """The env vars that point boto3 (and Terraform's provider) at the local stack."""
    port = port or int(os.environ.get("LOCAL_STACK_PORT", "4566"))
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def poll_seconds(env: str) -> float:
    """How often to poll a status: fast on the local stack (tiny emulator delays), 20 s on AWS."""
    override = os.environ.get("BP_POLL_SECONDS")
    if override:
        return float(override)
    return 0.1 if env == "local" else 20.0


def _read_outputs(env: str) -> dict[str, Any]:
    # Imported here: Terraform tooling is not packaged with the Currents Lambda, which imports this module.
    from pipeline.tf_outputs import read_outputs

    return dict(read_outputs(env))


@dataclass
class Context:
    """Everything a command reads: `env`, the project config, the Terraform outputs and boto3 clients."""

    env: str
    config: dict[str, Any]
    outputs: dict[str, Any]
    session: Any = None
    progress: Progress = field(default_factory=Progress)
    clients: dict[str, Any] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    poll: float | None = None
    timeout: float | None = None

    @classmethod
    def load(cls, env: str, *, progress: Progress | None = None) -> Context:
        """Config from config/project.yaml, outputs from `terraform output` of `env`."""
        from pipeline.config import load_config

        if env == "local":
            # The same code path as AWS: only the endpoint differs. Respect an endpoint already set.
            for key, value in local_aws_env().items():
                os.environ.setdefault(key, value)
        return cls(env=env, config=load_config(), outputs=_read_outputs(env), progress=progress or Progress())

    def __post_init__(self) -> None:
        if self.poll is None:
            self.poll = poll_seconds(self.env)
        if self.timeout is None:
            self.timeout = float(
                os.environ.get("BP_WAIT_TIMEOUT_SECONDS", "900" if self.env == "local" else "21600")
            )

    def client(self, service: str) -> Any:
        """A cached boto3 client; tests put stubbed clients in `clients` first."""
        if service not in self.clients:
            session = self.session or boto3.session.Session()
            self.clients[service] = session.client(service)  # type: ignore[call-overload]
        return self.clients[service]

    @property
    def personalize(self) -> PersonalizeClient:
        return self.client("personalize")

    @property
    def s3(self) -> S3Client:
        return self.client("s3")

    @property
    def events_client(self) -> PersonalizeEventsClient:
        return self.client("personalize-events")

    @property
    def runtime(self) -> PersonalizeRuntimeClient:
        return self.client("personalize-runtime")

    def output(self, key: str) -> Any:
        """One Terraform output, or a ConfigCheckError that says to run `make apply`."""
        value = self.outputs.get(key)
        if value in (None, "", {}):
            raise ConfigCheckError(
                f"terraform output {key}",
                f"missing from the {self.env} outputs",
                f"run `make apply ENV={self.env}` first",
            )
        return value

    def output_map(self, key: str, name: str) -> str:
        mapping: Mapping[str, str] = self.output(key)
        # Terraform may key a map by the config name or by the prefixed resource name.
        for candidate in (name, f"{self.config['name']}-{name}"):
            if candidate in mapping:
                return str(mapping[candidate])
        raise ConfigCheckError(
            f"terraform output {key}",
            f"has no entry {name!r} (has: {', '.join(sorted(mapping)) or 'none'})",
            f"add it to config/project.yaml and run `make apply ENV={self.env}`",
        )

    @property
    def bucket(self) -> str:
        return str(self.output("bucket_name"))

    @property
    def storage(self) -> dict[str, Any]:
        return dict(self.config["storage"])

    def solution(self, name: str) -> dict[str, Any]:
        for solution in self.config["solutions"]:
            if solution["name"] == name:
                return dict(solution)
        known = ", ".join(s["name"] for s in self.config["solutions"])
        raise ConfigCheckError("solution", f"no solution named {name!r} in the config (known: {known})")

    def campaign_name(self, campaign: Mapping[str, Any]) -> str:
        return f"{self.config['name']}-{campaign['name']}"
