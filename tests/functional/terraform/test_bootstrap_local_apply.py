"""terraform/envs/bootstrap applied against the local stack through the provider's AWS_ENDPOINT_URL: the
stage's state pair in two regions, replicated both ways under each other's keys, each bucket logging into
a log bucket of its region; a second plan shows no changes. (Terraform's S3 waits make this ~1 minute.)"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline import infra
from pipeline.paths import repo_root

pytestmark = pytest.mark.functional

ACCOUNT = "123456789012"  # the local stack's account: the provider's allowed_account_ids must name it
PRIMARY, REPLICA = "eu-west-1", "eu-central-1"
VARS = [
    "-var=stage=staging",
    f"-var=region={PRIMARY}",
    f"-var=state_replica_region={REPLICA}",
    f"-var=account_id={ACCOUNT}",
    "-var=bucket_prefix=bt-",  # names of their own on the shared stack
]


def _terraform(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["terraform", *args, "-no-color", *(["-input=false"] if args[0] != "output" else [])],
        cwd=repo_root() / "terraform" / "envs" / "bootstrap",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def bootstrapped(
    aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    work: Path = tmp_path_factory.mktemp("bootstrap")
    env = infra.terraform_env({**aws_env, "TF_DATA_DIR": str(work / ".terraform")})
    init = _terraform(env, "init", f"-backend-config=path={work / 'terraform.tfstate'}")
    assert init.returncode == 0, init.stderr[-3000:]
    apply = _terraform(env, "apply", "-auto-approve", *VARS)
    assert apply.returncode == 0, (apply.stdout + apply.stderr)[-4000:]
    out = _terraform(env, "output", "-json")
    yield {"env": env, "outputs": {k: v["value"] for k, v in json.loads(out.stdout).items()}}


def _s3(region: str, aws_env: dict[str, str]) -> Any:
    return boto3.client(
        "s3",
        region_name=region,
        endpoint_url=aws_env["AWS_ENDPOINT_URL"],
        aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
    )


def _kms_key(backend_config: str) -> str:
    found = re.search(r'kms_key_id\s*=\s*"([^"]+)"', backend_config)
    assert found, backend_config
    return found.group(1)


def test_the_state_buckets_replicate_both_ways_under_each_others_keys(
    bootstrapped: dict[str, Any], aws_env: dict[str, str]
) -> None:
    out = bootstrapped["outputs"]
    primary, replica = out["bucket_name"], out["replica_bucket_name"]
    keys = {primary: _kms_key(out["backend_config"]), replica: _kms_key(out["failover_backend_config"])}
    assert keys[primary].startswith(f"arn:aws:kms:{PRIMARY}:") and keys[replica].startswith(
        f"arn:aws:kms:{REPLICA}:"
    )
    for source, region, peer in ((primary, PRIMARY, replica), (replica, REPLICA, primary)):
        s3 = _s3(region, aws_env)
        assert s3.get_bucket_versioning(Bucket=source)["Status"] == "Enabled"
        (rule,) = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"]
        assert rule["Status"] == "Enabled"
        assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{peer}"
        assert rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"] == keys[peer]
        assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
        assert rule["SourceSelectionCriteria"]["ReplicaModifications"] == {"Status": "Enabled"}
        assert rule["SourceSelectionCriteria"]["SseKmsEncryptedObjects"] == {"Status": "Enabled"}
        sse = s3.get_bucket_encryption(Bucket=source)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert sse["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == keys[source]


def test_each_state_bucket_logs_into_a_log_bucket_of_its_region(
    bootstrapped: dict[str, Any], aws_env: dict[str, str]
) -> None:
    out = bootstrapped["outputs"]
    for bucket, region in ((out["bucket_name"], PRIMARY), (out["replica_bucket_name"], REPLICA)):
        s3 = _s3(region, aws_env)
        logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
        assert logging == {"TargetBucket": f"{bucket}-logs", "TargetPrefix": "access/"}
        assert s3.get_bucket_location(Bucket=f"{bucket}-logs")["LocationConstraint"] == region
        notification = s3.get_bucket_notification_configuration(Bucket=bucket)
        assert notification.get("EventBridgeConfiguration") == {}


def test_a_second_plan_shows_no_changes(bootstrapped: dict[str, Any]) -> None:
    plan = _terraform(bootstrapped["env"], "plan", "-detailed-exitcode", *VARS)
    assert plan.returncode == 0, plan.stdout[-4000:]
