"""Fixtures for the emulator's functional tests: shape-checked clients, data, waiting for statuses."""

from __future__ import annotations

import functools
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local_stack.personalize.shapes import check_shape
from pipeline.paths import schema_dir

SERVICES = ("personalize", "personalize-runtime", "personalize-events")


class ShapeLog:
    """Every emulator response checked against botocore's output shape; problems collected here."""

    def __init__(self) -> None:
        self.checked = 0
        self.problems: list[str] = []

    def hook(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        self.checked += 1
        for problem in check_shape(model.output_shape, parsed):
            self.problems.append(f"{model.name}: {problem}")


@pytest.fixture(scope="module")
def shape_log() -> Iterator[ShapeLog]:
    log = ShapeLog()
    yield log
    assert not log.problems, log.problems


@pytest.fixture(scope="module")
def clients(local_stack: Any, shape_log: ShapeLog) -> dict[str, Any]:
    out = {}
    for name in SERVICES:
        client = local_stack.client(name)
        client.meta.events.register("after-call", shape_log.hook)
        out[name] = client
    out["s3"] = local_stack.client("s3")
    return out


def wait_for(
    describe: Callable[[], dict[str, Any]],
    *,
    statuses: tuple[str, ...] = ("ACTIVE", "CREATE FAILED"),
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Poll a describe call until its status is final; returns the resource."""
    deadline = time.monotonic() + timeout
    while True:
        resource = describe()
        if resource.get("status") in statuses or time.monotonic() > deadline:
            return resource
        time.sleep(0.05)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


CATEGORIES = ("shoes", "hats", "bags", "toys")


def make_dataset(n_users: int = 200, n_items: int = 120, per_user: int = 20, seed: int = 3) -> dict[str, str]:
    """Synthetic CSVs where each user prefers one category, so a real model beats popularity."""
    rng = random.Random(seed)
    items = [f"i{j}" for j in range(n_items)]
    by_cat = {
        c: [i for k, i in enumerate(items) if k % len(CATEGORIES) == n] for n, c in enumerate(CATEGORIES)
    }
    rows = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    t = 1_700_000_000
    for u in range(n_users):
        fav = CATEGORIES[u % len(CATEGORIES)]
        for _ in range(per_user):
            pool = by_cat[fav] if rng.random() < 0.85 else items
            t += rng.randint(1, 50)
            kind = "Purchase" if rng.random() < 0.3 else "View"
            rows.append(f"u{u},{rng.choice(pool)},{t},{kind},{rng.randint(1, 5)}")
    item_rows = ["ITEM_ID,CATEGORY_L1,CATEGORY_L2,PRICE,CREATION_TIMESTAMP,NAME,URL,IMAGE,DESCRIPTION"]
    for k, item in enumerate(items):
        cat = CATEGORIES[k % len(CATEGORIES)]
        item_rows.append(
            f"{item},{cat},,{10 + k % 7}.5,1690000000,Item {k},https://shop.example.com/{item},,"
        )
    user_rows = ["USER_ID,AGE,MEMBERSHIP_TIER,COUNTRY"]
    user_rows += [f"u{u},{20 + u % 40},{'gold' if u % 3 == 0 else 'basic'},DE" for u in range(n_users)]
    return {
        "interactions": "\n".join(rows) + "\n",
        "items": "\n".join(item_rows) + "\n",
        "users": "\n".join(user_rows) + "\n",
    }


def avro_schema(dataset_type: str) -> str:
    return json.dumps(json.loads((schema_dir() / "personalize" / f"{dataset_type}.json").read_text()))


def imported_group(
    p: Any, s3: Any, data: dict[str, str], role: str, *, versioned: bool = False
) -> tuple[str, str, dict[str, str]]:
    """A new bucket holding the CSVs of `data` (type -> body) and a dataset group with one dataset per
    CSV, each imported and ACTIVE; returns the bucket, the group's ARN and type -> dataset ARN."""
    bucket = unique("data")
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    group = p.create_dataset_group(name=unique("dg"))["datasetGroupArn"]
    wait_for(lambda: p.describe_dataset_group(datasetGroupArn=group)["datasetGroup"])
    datasets: dict[str, str] = {}
    for kind, body in data.items():
        key = f"imports/{kind}/{kind}.csv"
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        schema = p.create_schema(name=unique(kind), schema=avro_schema(kind))["schemaArn"]
        dataset = p.create_dataset(
            name=unique(kind), schemaArn=schema, datasetGroupArn=group, datasetType=kind.capitalize()
        )["datasetArn"]
        datasets[kind] = dataset
        wait_for(functools.partial(_described, p.describe_dataset, "dataset", datasetArn=dataset))
        job = p.create_dataset_import_job(
            jobName=unique(f"import-{kind}"),
            datasetArn=dataset,
            dataSource={"dataLocation": f"s3://{bucket}/{key}"},
            roleArn=role,
        )["datasetImportJobArn"]
        done = wait_for(
            functools.partial(
                _described, p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job
            )
        )
        assert done["status"] == "ACTIVE", done
    return bucket, group, datasets


def trained_version(p: Any, group: str, recipe: str, hyperparameters: dict[str, str]) -> tuple[str, str]:
    """A solution of `recipe` in `group` and its first version, trained and ACTIVE: (solution, version)."""
    solution = p.create_solution(
        name=unique(recipe.removeprefix("aws-")),
        datasetGroupArn=group,
        recipeArn=f"arn:aws:personalize:::recipe/{recipe}",
        performAutoTraining=False,
        solutionConfig={"algorithmHyperParameters": hyperparameters},
    )["solutionArn"]
    wait_for(lambda: p.describe_solution(solutionArn=solution)["solution"])
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    done = wait_for(lambda: p.describe_solution_version(solutionVersionArn=version)["solutionVersion"])
    assert done["status"] == "ACTIVE", done.get("failureReason")
    return solution, version


def _described(describe: Callable[..., dict[str, Any]], key: str, **arn: str) -> dict[str, Any]:
    return describe(**arn)[key]


@pytest.fixture(scope="session")
def h() -> Any:
    """The helpers above, as a fixture (test modules cannot import conftest under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        wait_for=wait_for,
        unique=unique,
        make_dataset=make_dataset,
        avro_schema=avro_schema,
        imported_group=imported_group,
        trained_version=trained_version,
    )
