"""The in-process Personalize emulator set up for unit tests: an ACTIVE dataset group with interactions,
a solution, a trained version and its campaign, each waited for. One helper for every test that needs them."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from local_stack.personalize.backend import PersonalizeBackend
from pipeline.paths import schema_dir

__all__ = [
    "active_group",
    "active_solution",
    "import_interactions",
    "interactions_dataset",
    "interactions_stack_resources",
    "trained_campaign",
    "wait_active",
]

DONE = ("ACTIVE", "CREATE FAILED")


def wait_active(describe: Callable[[], Mapping[str, Any]], status_key: str = "status") -> dict[str, Any]:
    """The resource once its status is ACTIVE or CREATE FAILED (the emulator's steps are fast in tests)."""
    resource: dict[str, Any] = {}
    for _ in range(6000):
        resource = dict(describe())
        if resource.get(status_key) in DONE:
            return resource
        time.sleep(0.01)
    raise AssertionError(f"still {resource.get(status_key)}: {resource}")


def active_group(b: PersonalizeBackend, name: str = "g") -> str:
    group = str(b.handle("CreateDatasetGroup", {"name": name})["datasetGroupArn"])
    wait_active(lambda: b.handle("DescribeDatasetGroup", {"datasetGroupArn": group})["datasetGroup"])
    return group


def interactions_dataset(b: PersonalizeBackend, group: str) -> None:
    """An (empty) Interactions dataset of the project's schema in `group`."""
    text = (schema_dir() / "personalize" / "interactions.json").read_text(encoding="utf-8")
    schema = b.handle("CreateSchema", {"name": "s", "schema": text})["schemaArn"]
    b.handle(
        "CreateDataset",
        {"name": "d", "schemaArn": schema, "datasetGroupArn": group, "datasetType": "Interactions"},
    )


def import_interactions(b: PersonalizeBackend, group: str, csv: bytes) -> None:
    """An Interactions dataset of the project's schema holding `csv` (a full import)."""
    interactions_dataset(b, group)
    store = b.store_for(group)
    store.import_table("interactions", store.parse_csv("interactions", csv), incremental=False)


def active_solution(b: PersonalizeBackend, group: str, recipe: str, name: str = "s", **members: Any) -> str:
    """An ACTIVE solution of `recipe` (a recipe name); `members` are CreateSolution's other members."""
    arn = str(
        b.handle(
            "CreateSolution",
            {
                "name": name,
                "datasetGroupArn": group,
                "recipeArn": f"arn:aws:personalize:::recipe/{recipe}",
                **members,
            },
        )["solutionArn"]
    )
    wait_active(lambda: b.handle("DescribeSolution", {"solutionArn": arn})["solution"])
    return arn


def trained_campaign(
    b: PersonalizeBackend, solution: str, campaign_config: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """(solution version, campaign): a version trained to ACTIVE and an ACTIVE campaign on it."""
    version = str(b.handle("CreateSolutionVersion", {"solutionArn": solution})["solutionVersionArn"])
    done = wait_active(
        lambda: b.handle("DescribeSolutionVersion", {"solutionVersionArn": version})["solutionVersion"]
    )
    assert done["status"] == "ACTIVE", done.get("failureReason")
    params: dict[str, Any] = {"name": "c", "solutionVersionArn": version}
    if campaign_config:
        params["campaignConfig"] = dict(campaign_config)
    campaign = str(b.handle("CreateCampaign", params)["campaignArn"])
    wait_active(lambda: b.handle("DescribeCampaign", {"campaignArn": campaign})["campaign"])
    return version, campaign


def interactions_stack_resources(name: str, *, import_job: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """CloudFormation resources `Group`, `Schema` and `Data` (an Interactions dataset with the repo's schema,
    optionally its DatasetImportJob) for a template the emulator's stack models build."""
    data: dict[str, Any] = {
        "Name": name,
        "DatasetType": "Interactions",
        "DatasetGroupArn": {"Fn::GetAtt": ["Group", "DatasetGroupArn"]},
        "SchemaArn": {"Ref": "Schema"},
    }
    if import_job is not None:
        data["DatasetImportJob"] = dict(import_job)
    return {
        "Group": {"Type": "AWS::Personalize::DatasetGroup", "Properties": {"Name": name}},
        "Schema": {
            "Type": "AWS::Personalize::Schema",
            "Properties": {
                "Name": name,
                "Schema": (schema_dir() / "personalize" / "interactions.json").read_text(encoding="utf-8"),
            },
        },
        "Data": {"Type": "AWS::Personalize::Dataset", "Properties": data},
    }
