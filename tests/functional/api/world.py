"""A small synthetic shop (100 users, 1,000 items in 5 categories) on the local stack, campaigns trained on it
through the real Personalize API, and the API served by `chalice local` against it.

Shared by the functional tests (tests/functional/api/conftest.py) and benchmarks/api.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from chalicelib.catalog_artifact import write_catalog_from_csv
from local_stack.process import free_port
from pipeline.config import load_dataset_schemas

REPO = Path(__file__).resolve().parents[3]
API_KEY = "functional-key-7f3a"
CATEGORIES = ["Home", "Garden", "Kitchen", "Toys", "Books"]
N_USERS = 100
N_ITEMS = 1000
CATALOG_KEY = "artifacts/catalog/catalog.bin"
STEP_TIMEOUT = 180.0


def _field_names(dataset_type: str) -> list[str]:
    """The CSV header Personalize expects: the dataset's Avro field names, in schema order."""
    return [f["name"] for f in load_dataset_schemas()[dataset_type]["fields"]]


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


@dataclass
class Shop:
    """The synthetic data: who interacted with what, each item's category, the popular list."""

    history: dict[str, set[str]] = field(default_factory=dict)
    category: dict[str, str] = field(default_factory=dict)
    popular: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    interactions_csv: bytes = b""
    items_csv: bytes = b""

    def catalog_artifact(self) -> bytes:
        """What `make import` writes for this shop: the items in popularity order, indexed by id."""
        out = io.BytesIO()
        lines = io.StringIO(self.items_csv.decode())
        write_catalog_from_csv(out, lines, load_dataset_schemas()["items"], self.counts)
        return out.getvalue()


def make_shop(seed: int = 11) -> Shop:
    rng = random.Random(seed)
    shop = Shop()
    items = [f"item-{n:04d}" for n in range(N_ITEMS)]
    rows: list[list[Any]] = []
    for n, item in enumerate(items):
        category = CATEGORIES[n % len(CATEGORIES)]
        shop.category[item] = category
        image = f"https://img.example.com/{item}.jpg" if n % 7 else ""
        rows.append(
            [
                item,
                category,
                "",
                f"{5 + (n % 40)}.99",
                1_700_000_000 + n,
                f"{category} thing {n}",
                f"https://shop.example.com/product/{item}",
                image,
                "",
            ]
        )
    shop.items_csv = _csv(_field_names("items"), rows)
    by_category = {c: [i for i in items if shop.category[i] == c] for c in CATEGORIES}
    counts: dict[str, int] = {}
    interactions: list[list[Any]] = []
    for u in range(N_USERS):
        user = f"user-{u:03d}"
        favourite = by_category[CATEGORIES[u % len(CATEGORIES)]]
        chosen: set[str] = set()
        while len(chosen) < 30:
            pool = favourite[:60] if rng.random() < 0.8 else items[:200]
            chosen.add(rng.choice(pool))
        shop.history[user] = chosen
        for k, item in enumerate(sorted(chosen)):
            event = "Purchase" if k % 5 == 0 else "View"
            interactions.append([user, item, 1_710_000_000 + u * 100 + k, event, ""])
            counts[item] = counts.get(item, 0) + 1
    shop.interactions_csv = _csv(_field_names("interactions"), interactions)
    shop.popular = [i for i, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:50]
    shop.counts = counts
    return shop


def wait_active(what: str, describe: Callable[..., dict[str, Any]], key: str, **arns: str) -> None:
    """Poll a Describe* call until the resource is ACTIVE (the emulator's steps take ~50 ms)."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        described = describe(**arns)[key]
        status = str(described["status"])
        if status == "ACTIVE":
            return
        if "FAILED" in status or time.monotonic() > deadline:
            raise AssertionError(f"{what} ended {status}: {described.get('failureReason', '')}")
        time.sleep(0.05)


@dataclass
class World:
    shop: Shop
    env: dict[str, str]
    campaign_arn: str
    filters: dict[str, str]


def build_world(local_stack: Any, name: str | None = None) -> World:
    """S3 data, SSM keys and trained campaigns on the local stack, made with the real AWS APIs.

    `name` prefixes every resource; by default it is unique per call, so a reused stack never collides.
    """
    prefix = name or f"apitest-{uuid.uuid4().hex[:8]}"
    bucket, parameter = f"{prefix}-data", f"/{prefix}/api-keys"
    shop = make_shop()
    s3, ssm, iam = local_stack.client("s3"), local_stack.client("ssm"), local_stack.client("iam")
    personalize = local_stack.client("personalize")
    s3.create_bucket(Bucket=bucket)
    for key, body in (
        ("imports/interactions.csv", shop.interactions_csv),
        ("imports/items.csv", shop.items_csv),
        (CATALOG_KEY, shop.catalog_artifact()),
    ):
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    ssm.put_parameter(Name=parameter, Value=f"{API_KEY},second-key", Type="SecureString", Overwrite=True)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "personalize.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName=f"{prefix}-personalize", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]

    group = personalize.create_dataset_group(name=prefix)["datasetGroupArn"]
    wait_active("dataset group", personalize.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
    for dataset_type, key in (("Interactions", "interactions"), ("Items", "items")):
        schema_text = (REPO / "schemas" / "personalize" / f"{key}.json").read_text(encoding="utf-8")
        schema = personalize.create_schema(name=f"{prefix}-{key}", schema=schema_text)["schemaArn"]
        dataset = personalize.create_dataset(
            name=f"{prefix}-{key}", schemaArn=schema, datasetGroupArn=group, datasetType=dataset_type
        )["datasetArn"]
        wait_active(f"{key} dataset", personalize.describe_dataset, "dataset", datasetArn=dataset)
        job = personalize.create_dataset_import_job(
            jobName=f"{prefix}-{key}-1",
            datasetArn=dataset,
            dataSource={"dataLocation": f"s3://{bucket}/imports/{key}.csv"},
            roleArn=role,
        )["datasetImportJobArn"]
        wait_active(
            f"{key} import",
            personalize.describe_dataset_import_job,
            "datasetImportJob",
            datasetImportJobArn=job,
        )
    config = yaml.safe_load((REPO / "config" / "project.yaml").read_text(encoding="utf-8"))
    filters: dict[str, str] = {}
    specs: dict[str, dict[str, str]] = {}
    for spec in config["filters"]:
        arn = personalize.create_filter(
            name=f"{prefix}-{spec['name']}", datasetGroupArn=group, filterExpression=spec["expression"]
        )["filterArn"]
        wait_active(f"filter {spec['name']}", personalize.describe_filter, "filter", filterArn=arn)
        filters[spec["name"]] = arn
        specs[spec["name"]] = {
            "arn": arn,
            "expression": spec["expression"],
            "on_fallback": spec.get("on_fallback", "popular"),
        }

    campaigns: dict[str, str] = {}
    for short, recipe in (
        ("up", "aws-user-personalization"),
        ("sims", "aws-sims"),
        ("rank", "aws-personalized-ranking"),
        ("trend", "aws-trending-now"),
    ):
        solution = personalize.create_solution(
            name=f"{prefix}-{short}",
            datasetGroupArn=group,
            recipeArn=f"arn:aws:personalize:::recipe/{recipe}",
        )["solutionArn"]
        wait_active(f"{recipe} solution", personalize.describe_solution, "solution", solutionArn=solution)
        version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        wait_active(
            f"{recipe} version",
            personalize.describe_solution_version,
            "solutionVersion",
            solutionVersionArn=version,
        )
        campaign = personalize.create_campaign(
            name=f"{prefix}-{short}", solutionVersionArn=version, minProvisionedTPS=1
        )["campaignArn"]
        wait_active(f"{recipe} campaign", personalize.describe_campaign, "campaign", campaignArn=campaign)
        campaigns[short] = campaign

    env = {
        **local_stack.env(),
        "CAMPAIGN_ARN": campaigns["up"],
        "RELATED_CAMPAIGN_ARN": campaigns["sims"],
        "RANKING_CAMPAIGN_ARN": campaigns["rank"],
        "TRENDING_CAMPAIGN_ARN": campaigns["trend"],
        "BUCKET": bucket,
        "CATALOG_KEY": CATALOG_KEY,
        "API_KEY_PARAMETER": parameter,
        "API_KEY_HEADER": "X-Api-Key",
        "FILTERS": json.dumps(specs),
        "DEFAULT_FILTER": "exclude-interacted",
        "DEFAULT_LIMIT": "10",
        "DEADLINE_MS": "1200",
        "CACHE_TTL_SECONDS": "300",
        "ITEM_URL_TEMPLATE": "https://shop.example.com/product/{id}",
    }
    return World(shop, env, campaigns["up"], filters)


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, key: str | None = API_KEY, **kwargs: Any) -> requests.Response:
        headers = {"X-Api-Key": key} if key is not None else {}
        return requests.get(self.url + path, headers=headers, timeout=10, **kwargs)


def serve_api(env: dict[str, str], log: Path) -> Served:
    """`chalice local` (what `make serve` runs) on a free port; waits for /health."""
    port = free_port()
    chalice = Path(sys.executable).parent / "chalice"
    command = (
        [str(chalice)] if chalice.exists() else [sys.executable, "-c", "from chalice.cli import main; main()"]
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            # --no-autoreload: otherwise chalice serves from a forked child that outlives terminate().
            [
                *command,
                "local",
                "--no-autoreload",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--stage",
                "local",
            ],
            cwd=REPO / "chalice_app",
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            health = requests.get(url + "/health", timeout=1)
            if health.status_code == 200:
                return Served(url, proc, log)
            proc.kill()
            raise AssertionError(f"chalice local answers /health {health.status_code}: {health.text}")
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"chalice local did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait()


class BlackHole:
    """A TCP listener that accepts connections and never answers (a hung backend)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                continue

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()
