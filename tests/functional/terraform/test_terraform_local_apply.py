"""`python -m pipeline plan|apply --env local` against the local stack, checked through boto3.

One module-scoped apply (Terraform is slow) through the consent flow (a saved plan, applied once), with the data bucket and key protected as in an AWS stage
(`prevent_destroy`): the tests read what it built, then a second plan must show no changes; then the
destroy tests, in order: without CONFIRM nothing changes; with CONFIRM but without UNPROTECT Terraform
refuses the protected bucket and key before touching anything; with UNPROTECT but a bucket that holds
objects (force_destroy off, as in AWS) the destroy guard stops it before the bucket's policy, public-access
block, encryption or key are touched, and the bucket and key move back under protection; emptied, the
documented teardown (CONFIRM + UNPROTECT) removes everything and schedules the key's deletion. The config
is the repo's with another `name`, so this never collides with other tests using the same local stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from pipeline import infra
from pipeline.paths import config_path
from pipeline.tf_outputs import REQUIRED_KEYS, read_outputs

pytestmark = pytest.mark.functional

NAME = "tf-apply-check"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    data["name"] = NAME
    return dict(data)


@pytest.fixture(scope="module")
def tf_env(
    local_stack: Any,
    aws_env: dict[str, str],
    config: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, str]]:
    work = tmp_path_factory.mktemp("tf-apply")
    config_file = work / "project.yaml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {
        **aws_env,
        "BP_TF_STATE_DIR": str(work / "state"),
        "TF_VAR_config_file": str(config_file),
        # As in AWS: Terraform may not empty the buckets, so a destroy must stop at one holding objects;
        # the bucket and key are under prevent_destroy, released only by UNPROTECT.
        "TF_VAR_force_destroy": "false",
        "TF_VAR_prevent_destroy": "true",
    }
    saved = dict(os.environ)
    os.environ.update(env)  # read_outputs / plan_has_changes run in this process
    try:
        yield {**saved, **env}
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run_infra(action: str, tf_env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", action, "--env", "local", *extra],
        env=tf_env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _infra(action: str, tf_env: dict[str, str], *extra: str) -> None:
    """`python -m pipeline <action> --env local` as `make` runs it, failing with its output's tail."""
    done = _run_infra(action, tf_env, *extra)
    assert done.returncode == 0, f"{action} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


@pytest.fixture(scope="module")
def plan_file(tf_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The consent flow: `make plan PLAN=<file>` saves the plan; `make apply PLAN=<file>` applies it."""
    saved = tmp_path_factory.mktemp("plans") / "local.tfplan"
    _infra("plan", tf_env, "--plan-file", str(saved))
    assert saved.is_file(), "plan --plan-file saves the plan"
    _infra("apply", tf_env, "--plan-file", str(saved))
    return saved


@pytest.fixture(scope="module")
def outputs(plan_file: Path) -> dict[str, Any]:
    return read_outputs("local")


def test_a_saved_plan_applies_once(plan_file: Path, tf_env: dict[str, str]) -> None:
    again = _run_infra("apply", tf_env, "--plan-file", str(plan_file))
    assert again.returncode != 0
    assert "applied already" in again.stderr and "make plan ENV=local" in again.stderr, again.stderr[-2000:]


def test_outputs_hold_every_required_key(outputs: dict[str, Any]) -> None:
    assert set(REQUIRED_KEYS) <= set(outputs)
    assert outputs["bucket_name"] == f"{NAME}-data-{ACCOUNT}"
    assert outputs["tracking_id"]


def test_bucket_is_encrypted_with_the_customer_managed_key(local_stack: Any, outputs: dict[str, Any]) -> None:
    s3 = local_stack.client("s3")
    rule = s3.get_bucket_encryption(Bucket=outputs["bucket_name"])["ServerSideEncryptionConfiguration"][
        "Rules"
    ][0]
    default = rule["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default["KMSMasterKeyID"] == outputs["kms_key_arn"]
    key_id = outputs["kms_key_arn"].rsplit("/", 1)[-1]
    assert local_stack.client("kms").get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True


def test_bucket_is_versioned_private_and_access_logged(local_stack: Any, outputs: dict[str, Any]) -> None:
    s3 = local_stack.client("s3")
    bucket = outputs["bucket_name"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert logging["TargetBucket"] == f"{bucket}-logs"
    assert logging["TargetPrefix"] == "access/"


def test_log_bucket_is_sse_s3_admits_only_our_data_bucket_and_sends_events_to_eventbridge(
    local_stack: Any, outputs: dict[str, Any]
) -> None:
    s3 = local_stack.client("s3")
    logs = f"{outputs['bucket_name']}-logs"
    rule = s3.get_bucket_encryption(Bucket=logs)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=logs)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=logs)["Policy"])
    [grant] = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Resource"] == f"arn:aws:s3:::{logs}/access/*"
    assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    assert grant["Condition"]["ArnLike"]["aws:SourceArn"] in (
        f"arn:aws:s3:::{outputs['bucket_name']}",
        [f"arn:aws:s3:::{outputs['bucket_name']}"],
    )
    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=logs)


def test_bucket_policy_is_tls_only_and_grants_personalize_our_prefixes(
    local_stack: Any, outputs: dict[str, Any], config: dict[str, Any]
) -> None:
    policy = json.loads(local_stack.client("s3").get_bucket_policy(Bucket=outputs["bucket_name"])["Policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    deny = by_sid["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    write = by_sid["PersonalizeWritesBatchOutput"]
    assert write["Principal"] == {"Service": "personalize.amazonaws.com"}
    assert write["Resource"].endswith(f"/{config['storage']['batch_output_prefix']}*")
    assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    read = by_sid["PersonalizeReadsImportsAndBatchInput"]
    assert f"arn:aws:s3:::{outputs['bucket_name']}/{config['storage']['import_prefix']}*" in read["Resource"]


def test_bucket_events_go_to_eventbridge(local_stack: Any, outputs: dict[str, Any]) -> None:
    config = local_stack.client("s3").get_bucket_notification_configuration(Bucket=outputs["bucket_name"])
    assert config["EventBridgeConfiguration"] == {}
    # The bucket's one notification configuration has no direct target: consumers add EventBridge rules.
    for direct in ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations"):
        assert not config.get(direct)


def test_roles_trust_only_their_service_from_our_account(local_stack: Any, outputs: dict[str, Any]) -> None:
    iam = local_stack.client("iam")
    personalize = iam.get_role(RoleName=f"{NAME}-personalize")["Role"]
    assert personalize["Arn"] == outputs["personalize_role_arn"]
    trust = personalize["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Service": "personalize.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:personalize:us-east-1:{ACCOUNT}:*"
    api = iam.get_role(RoleName=f"{NAME}-api")["Role"]
    assert api["Arn"] == outputs["api_role_arn"]


def test_api_role_may_only_query_our_campaigns_and_filters(
    local_stack: Any, outputs: dict[str, Any], config: dict[str, Any]
) -> None:
    doc = local_stack.client("iam").get_role_policy(RoleName=f"{NAME}-api", PolicyName="recommendations")
    policy = doc["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    recommend = by_sid["RecommendFromOurCampaigns"]
    assert sorted(recommend["Action"]) == [
        "personalize:GetPersonalizedRanking",
        "personalize:GetRecommendations",
    ]
    assert set(recommend["Resource"]) == {
        *(
            f"arn:aws:personalize:us-east-1:{ACCOUNT}:campaign/{NAME}-{c}"
            for c in (campaign["name"] for campaign in config["campaigns"])
        ),
        *outputs["filter_arns"].values(),
    }
    for statement in policy["Statement"]:
        assert "*" not in (
            [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        )


def test_api_key_parameter_is_a_secure_string_under_our_key(
    local_stack: Any, outputs: dict[str, Any]
) -> None:
    ssm = local_stack.client("ssm")
    described = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [outputs["api_key_parameter_name"]]}]
    )["Parameters"][0]
    assert described["Type"] == "SecureString"
    assert described["KeyId"] == outputs["kms_key_arn"]


def test_personalize_resources_exist_as_declared(
    local_stack: Any, outputs: dict[str, Any], config: dict[str, Any]
) -> None:
    personalize = local_stack.client("personalize")
    group = personalize.describe_dataset_group(datasetGroupArn=outputs["dataset_group_arn"])["datasetGroup"]
    assert (group["name"], group["status"]) == (NAME, "ACTIVE")
    datasets = personalize.list_datasets(datasetGroupArn=outputs["dataset_group_arn"])["datasets"]
    assert sorted(d["datasetType"].lower() for d in datasets) == sorted(config["datasets"])
    assert sorted(outputs["dataset_arns"].values()) == sorted(d["datasetArn"] for d in datasets)

    for declared in config["solutions"]:
        arn = outputs["solution_arns"][declared["name"]]
        solution = personalize.describe_solution(solutionArn=arn)["solution"]
        assert solution["name"] == outputs["solution_names"][declared["name"]]
        assert solution["name"].startswith(f"{NAME}-{declared['name']}-")
        assert solution["recipeArn"] == f"arn:aws:personalize:::recipe/{declared['recipe']}"
        params = solution.get("solutionConfig", {}).get("algorithmHyperParameters", {})
        assert params == declared.get("hyperparameters", {})

    for declared in config["filters"]:
        described = personalize.describe_filter(filterArn=outputs["filter_arns"][declared["name"]])["filter"]
        assert described["filterExpression"] == declared["expression"]
        assert described["status"] == "ACTIVE"

    tracker = personalize.describe_event_tracker(eventTrackerArn=outputs["event_tracker_arn"])["eventTracker"]
    assert tracker["trackingId"] == outputs["tracking_id"]
    assert tracker["name"] == f"{NAME}-{config['event_tracker']['name']}"


def test_the_configured_metric_attribution_is_in_the_dataset_group(
    local_stack: Any, outputs: dict[str, Any], config: dict[str, Any]
) -> None:
    personalize = local_stack.client("personalize")
    [summary] = personalize.list_metric_attributions(datasetGroupArn=outputs["dataset_group_arn"])[
        "metricAttributions"
    ]
    assert (summary["name"], summary["status"]) == (f"{NAME}-metrics", "ACTIVE")
    arn = summary["metricAttributionArn"]
    described = personalize.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
    prefix = config["metric_attribution"].get("output_prefix", "metric-attribution/")
    assert described["metricsOutputConfig"]["s3DataDestination"]["path"] == f"s3://{outputs['bucket_name']}/{prefix}"
    assert described["metricsOutputConfig"]["roleArn"].endswith(f":role/{NAME}-personalize")
    metrics = personalize.list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]
    assert [(m["metricName"], m["eventType"], m["expression"]) for m in metrics] == [
        (m["name"], m["event_type"], m["expression"]) for m in config["metric_attribution"]["metrics"]
    ]


def test_a_second_plan_shows_no_changes(outputs: dict[str, Any]) -> None:
    assert infra.plan_has_changes("local") is False


def test_changed_hyperparameters_create_a_new_solution_beside_the_retained_old_one(
    local_stack: Any, outputs: dict[str, Any], tf_env: dict[str, str]
) -> None:
    config_file = Path(tf_env["TF_VAR_config_file"])
    changed = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    # hidden_dimension is a real aws-user-personalization hyperparameter; the others keep their config.
    solution = next(s for s in changed["solutions"] if s["recipe"].startswith("aws-user-personalization"))
    solution["hyperparameters"] = {**(solution.get("hyperparameters") or {}), "hidden_dimension": "96"}
    config_file.write_text(yaml.safe_dump(changed, sort_keys=False), encoding="utf-8")
    _infra("apply", tf_env)
    after = read_outputs("local")

    old_arn = outputs["solution_arns"][solution["name"]]
    new_arn = after["solution_arns"][solution["name"]]
    assert new_arn != old_arn
    personalize = local_stack.client("personalize")
    # The old solution (which a live campaign may use) is retained; the new one has the new config.
    assert personalize.describe_solution(solutionArn=old_arn)["solution"]["status"] == "ACTIVE"
    new = personalize.describe_solution(solutionArn=new_arn)["solution"]
    assert new["solutionConfig"]["algorithmHyperParameters"] == solution["hyperparameters"]
    # Untouched solutions keep their ARNs.
    for other in (s for s in changed["solutions"] if s is not solution):
        assert after["solution_arns"][other["name"]] == outputs["solution_arns"][other["name"]]
    # What the scripts do once the campaign runs on the new solution: delete the retained one.
    personalize.delete_solution(solutionArn=old_arn)


def test_alarms_topic_rule_and_dashboard_are_applied(local_stack: Any, outputs: dict[str, Any]) -> None:
    cloudwatch = local_stack.client("cloudwatch")
    alarms = {
        a["AlarmName"]: a
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=f"{NAME}-")
        for a in page["MetricAlarms"]
    }
    assert set(outputs["alarm_names"]) == set(alarms)
    latency = alarms[f"{NAME}-api-recommendations-latency-p99"]
    assert (latency["Namespace"], latency["MetricName"], latency["ExtendedStatistic"]) == (
        "BrazeRecommendationsApi",
        "Latency",
        "p99",
    )
    assert latency["Threshold"] < 2000
    assert latency["Dimensions"] == [{"Name": "Route", "Value": "/recommendations"}]
    breaker = alarms[f"{NAME}-api-breaker-campaign-open"]
    assert (breaker["MetricName"], breaker["Dimensions"]) == (
        "BreakerOpen",
        [{"Name": "Dependency", "Value": "campaign"}],
    )
    throttled = alarms[f"{NAME}-personalize-user-personalization-throttled-or-4xx"]
    assert (throttled["Namespace"], throttled["MetricName"]) == (
        "AWS/Personalize",
        "GetRecommendations4xxErrors",
    )
    assert all(a["AlarmActions"] == [outputs["alarm_topic_arn"]] for a in alarms.values())
    assert f"{NAME}-personalize-dataset-import-failed" in alarms

    topics = [t["TopicArn"] for t in local_stack.client("sns").list_topics()["Topics"]]
    assert outputs["alarm_topic_arn"] in topics
    events = local_stack.client("events")
    rule = events.describe_rule(Name=f"{NAME}-personalize-job-failures")
    assert json.loads(rule["EventPattern"])["detail"]["eventName"] == [
        "CreateDatasetImportJob",
        "CreateSolutionVersion",
    ]
    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert [t["Arn"] for t in targets] == [outputs["alarm_topic_arn"]]

    body = json.loads(cloudwatch.get_dashboard(DashboardName=outputs["dashboard_name"])["DashboardBody"])
    assert body["widgets"], "the dashboard has widgets"


def _protections(local_stack: Any, bucket: str, key_arn: str) -> dict[str, Any]:
    """What a failed destroy must leave in place, read through boto3."""
    s3 = local_stack.client("s3")
    return {
        "policy": json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
        "public_access_block": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        "encryption": s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
        "eventbridge": "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=bucket),
        "key_state": local_stack.client("kms").describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"],
    }


def test_destroy_without_confirm_changes_nothing(
    local_stack: Any, outputs: dict[str, Any], tf_env: dict[str, str]
) -> None:
    bucket = outputs["bucket_name"]
    local_stack.client("s3").put_object(Bucket=bucket, Key="imports/interactions/kept.csv", Body=b"USER_ID\n")
    before = _protections(local_stack, bucket, outputs["kms_key_arn"])
    done = _run_infra("destroy", tf_env)
    assert done.returncode != 0
    assert "CONFIRM=local" in done.stderr
    assert _protections(local_stack, bucket, outputs["kms_key_arn"]) == before


def _storage_addresses(tf_env: dict[str, str]) -> set[str]:
    """The data bucket's and key's addresses in this test's Terraform state (protected or disposable)."""
    state = json.loads(Path(tf_env["BP_TF_STATE_DIR"], "terraform.tfstate").read_text(encoding="utf-8"))
    return {
        f"{r['type']}.{r['name']}"
        for r in state["resources"]
        if r.get("module") == "module.platform.module.storage"
        and r["type"] in ("aws_s3_bucket", "aws_kms_key")
        and r["name"] in ("protected", "disposable")
    }


PROTECTED = {"aws_s3_bucket.protected", "aws_kms_key.protected"}


def test_a_destroy_without_unprotect_refuses_the_protected_bucket_and_key(
    local_stack: Any, outputs: dict[str, Any], tf_env: dict[str, str]
) -> None:
    bucket = outputs["bucket_name"]
    assert _storage_addresses(tf_env) == PROTECTED
    before = _protections(local_stack, bucket, outputs["kms_key_arn"])
    done = _run_infra("destroy", tf_env, "--confirm", "local")
    assert done.returncode != 0
    assert "prevent_destroy" in done.stdout + done.stderr
    assert _protections(local_stack, bucket, outputs["kms_key_arn"]) == before
    assert _storage_addresses(tf_env) == PROTECTED


def test_an_unprotect_destroy_stopped_by_a_bucket_with_objects_leaves_its_protections_and_key(
    local_stack: Any, outputs: dict[str, Any], tf_env: dict[str, str]
) -> None:
    bucket = outputs["bucket_name"]
    before = _protections(local_stack, bucket, outputs["kms_key_arn"])
    assert before["key_state"] == "Enabled" and before["eventbridge"]
    done = _run_infra("destroy", tf_env, "--confirm", "local", "--unprotect")
    assert done.returncode != 0, "the destroy must fail while the bucket holds objects"
    assert "destroy guard" in done.stdout + done.stderr
    assert _protections(local_stack, bucket, outputs["kms_key_arn"]) == before
    assert local_stack.client("s3").head_object(Bucket=bucket, Key="imports/interactions/kept.csv")
    assert _storage_addresses(tf_env) == PROTECTED, "what the failed destroy left is protected again"


def test_destroy_leaves_nothing_behind(
    local_stack: Any, outputs: dict[str, Any], tf_env: dict[str, str]
) -> None:
    # Last in this module: everything above reads the applied state. The documented teardown of a
    # protected stage (terraform/README.md): empty the data bucket (every version), as the destroy guard
    # asks, then CONFIRM + UNPROTECT; the local log bucket is force-destroyed.
    s3 = local_stack.client("s3")
    listed = s3.list_object_versions(Bucket=outputs["bucket_name"])
    doomed = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
    ]
    if doomed:
        s3.delete_objects(Bucket=outputs["bucket_name"], Delete={"Objects": doomed})
    _infra("destroy", tf_env, "--confirm", "local", "--unprotect")
    buckets = [b["Name"] for b in local_stack.client("s3").list_buckets()["Buckets"]]
    assert not [b for b in buckets if b.startswith(NAME)]
    # KMS never deletes a key at once: it is disabled and scheduled after its waiting period (7 days on
    # the local stack) and can be cancelled until then
    # (https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html).
    key = local_stack.client("kms").describe_key(KeyId=outputs["kms_key_arn"])["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"
    assert key["DeletionDate"] - datetime.now(UTC) > timedelta(days=6)
    aliases = local_stack.client("kms").list_aliases()["Aliases"]
    assert not [a for a in aliases if a["AliasName"] == f"alias/{outputs['bucket_name']}"]
    roles = [r["RoleName"] for r in local_stack.client("iam").list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith(NAME)]
    personalize = local_stack.client("personalize")
    groups = [g["name"] for g in personalize.list_dataset_groups()["datasetGroups"]]
    assert NAME not in groups
    with pytest.raises(ClientError):
        personalize.describe_dataset_group(datasetGroupArn=outputs["dataset_group_arn"])
    assert not [s for s in personalize.list_solutions()["solutions"] if s["name"].startswith(f"{NAME}-")]
    params = local_stack.client("ssm").describe_parameters()["Parameters"]
    assert not [p for p in params if p["Name"].startswith(f"/{NAME}/")]
    assert (
        not Path(tf_env["BP_TF_STATE_DIR"], "terraform.tfstate")
        .read_text(encoding="utf-8")
        .count('"mode": "managed"')
    )
