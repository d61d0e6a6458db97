"""Emulator benchmark: GetRecommendations over HTTP and training time, on a synthetic catalog.

Starts `python -m local_stack serve` on a free loopback port, imports a synthetic dataset (20,000 items,
1M interactions by default) through S3 and the Personalize API, trains aws-user-personalization and
aws-popularity-count, creates a campaign and the exclude-interacted filter, then drives
GetRecommendations from concurrent client processes over keep-alive HTTP connections.

Last line: `emulator: <n> req/s, p99 <ms> ms, train <s> s, ndcg@10 <x> vs popularity <y>`.
Knobs (env): BENCH_INTERACTIONS (1000000), BENCH_ITEMS (20000), BENCH_USERS (50000),
BENCH_CLIENTS (4 processes), BENCH_SECONDS (10).

BENCH_TRAIN_ONLY=1 times training alone, in-process, on 100k and 1M interactions of the same synthetic
data: aws-user-personalization with its model selection against, side by side, one candidate fitted with
no selection (the baseline). Last line then: `emulator training: 100k <s> s (<r>x one model, CPU <c> s),
1M ...` (targets: 100k <= 10 s, 1M <= 60 s on 2 cores). CPU is this process's CPU time (all its threads):
on a shared machine wall time grows with the load, CPU time much less, so CPU / 2 bounds what the wall
time would be on 2 idle cores.
"""

from __future__ import annotations

import http.client
import io
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from local_stack.process import LocalStackStartError, serve

ACCOUNT = "123456789012"
AUTH = (
    "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/personalize/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)
REPO = Path(__file__).resolve().parents[1]
NDCG10 = "normalized_discounted_cumulative_gain_at_10"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def synthetic(n_interactions: int, n_items: int, n_users: int, seed: int = 11) -> bytes:
    """Users in 50 taste clusters, each preferring its own Zipf-ranked slice of the catalog."""
    rng = np.random.default_rng(seed)
    clusters = 50
    user_cluster = rng.integers(0, clusters, n_users)
    users = rng.integers(0, n_users, n_interactions)
    ranks = np.minimum(rng.zipf(1.3, n_interactions) - 1, n_items - 1)
    own = rng.random(n_interactions) < 0.8
    offset = (user_cluster[users] * (n_items // clusters)) % n_items
    items = np.where(own, (offset + ranks) % n_items, rng.integers(0, n_items, n_interactions))
    ts = 1_700_000_000 + np.sort(rng.integers(0, 90 * 86400, n_interactions))
    table = pa.table(
        {
            "USER_ID": pa.array(np.char.add("u", users.astype(str))),
            "ITEM_ID": pa.array(np.char.add("i", items.astype(str))),
            "TIMESTAMP": pa.array(ts, pa.int64()),
            "EVENT_TYPE": pa.array(np.where(rng.random(n_interactions) < 0.2, "Purchase", "View")),
            "EVENT_VALUE": pa.array(rng.integers(1, 6, n_interactions).astype(np.float64)),
        }
    )
    sink = io.BytesIO()
    # Personalize refuses quoted headers, and pyarrow quotes them unless we write the header ourselves.
    sink.write((",".join(table.column_names) + "\n").encode())
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return sink.getvalue()


def _wait(describe: Any, timeout: float = 1800.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        resource = describe()
        if resource["status"] in ("ACTIVE", "CREATE FAILED") or time.monotonic() > deadline:
            if resource["status"] != "ACTIVE":
                raise SystemExit(f"benchmark setup failed: {resource}")
            return dict(resource)
        time.sleep(0.1)


def _client_worker(args: tuple[int, str, str, list[str], float, float]) -> list[float]:
    port, campaign, filter_arn, users, start_at, seconds = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    # Every client starts at the same wall-clock moment, so process start-up is not measured.
    time.sleep(max(0.0, start_at - time.time()))
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        body = json.dumps(
            {
                "campaignArn": campaign,
                "userId": users[i % len(users)],
                "numResults": 10,
                "filterArn": filter_arn,
            }
        )
        start = time.perf_counter()
        conn.request(
            "POST",
            "/recommendations",
            body=body,
            headers={"Authorization": AUTH, "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        payload = resp.read()
        latencies.append(time.perf_counter() - start)
        if resp.status != 200:
            raise SystemExit(f"GetRecommendations failed: {resp.status} {payload[:300]!r}")
        i += 1
    return latencies


def training_times() -> int:
    """In-process train() on 100k and 1M interactions: with selection, and one candidate alone."""
    from local_stack.personalize.recipes import TrainingData, train

    parts = []
    for n_inter, n_users in ((100_000, 10_000), (1_000_000, 100_000)):
        body = synthetic(n_inter, 20_000, n_users)
        ids = {"USER_ID": pa.string(), "ITEM_ID": pa.string()}
        table = pacsv.read_csv(io.BytesIO(body), convert_options=pacsv.ConvertOptions(column_types=ids))
        data = TrainingData(table)
        started = time.monotonic()
        one = train("aws-user-personalization", data, candidates=("als-recency",))
        alone = time.monotonic() - started
        started, cpu_started = time.monotonic(), time.process_time()
        model = train("aws-user-personalization", data)
        full, cpu = time.monotonic() - started, time.process_time() - cpu_started
        scores = ", ".join(f"{k} {v:.4f}" for k, v in model.validation_scores.items())
        print(
            f"{n_inter:,} interactions: selection {full:.1f} s (CPU {cpu:.1f} s), "
            f"chose {model.candidate} ({scores})",
            flush=True,
        )
        print(
            f"  one model (als-recency) alone {alone:.1f} s, "
            f"ndcg@10 {one.metrics[NDCG10]} vs selected {model.metrics[NDCG10]}"
        )
        label = f"{n_inter // 1000}k" if n_inter < 1_000_000 else f"{n_inter // 1_000_000}M"
        parts.append(f"{label} {full:.1f} s ({full / alone:.1f}x one model, CPU {cpu:.1f} s)")
    print(f"emulator training: {', '.join(parts)}")
    return 0


def main() -> int:
    if os.environ.get("BENCH_TRAIN_ONLY"):
        return training_times()
    n_inter = _env_int("BENCH_INTERACTIONS", 1_000_000)
    n_items = _env_int("BENCH_ITEMS", 20_000)
    n_users = _env_int("BENCH_USERS", 50_000)
    n_clients = _env_int("BENCH_CLIENTS", 4)
    seconds = float(_env_int("BENCH_SECONDS", 10))
    env = {**os.environ, "LOCAL_STACK_PERSONALIZE_STEP_SECONDS": "0.01"}
    with tempfile.TemporaryDirectory() as home:
        try:
            with serve(Path(home), env) as server:
                return _run(server.url, server.port, n_inter, n_items, n_users, n_clients, seconds)
        except LocalStackStartError as exc:
            raise SystemExit(str(exc)) from exc


def _run(
    url: str, port: int, n_inter: int, n_items: int, n_users: int, n_clients: int, seconds: float
) -> int:
    kw: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
    }
    s3, p = boto3.client("s3", **kw), boto3.client("personalize", **kw)
    print(f"generating {n_inter:,} interactions over {n_items:,} items", flush=True)
    s3.create_bucket(Bucket="emulator-bench")
    s3.put_object(Bucket="emulator-bench", Key="interactions.csv", Body=synthetic(n_inter, n_items, n_users))
    group = p.create_dataset_group(name="bench")["datasetGroupArn"]
    _wait(lambda: p.describe_dataset_group(datasetGroupArn=group)["datasetGroup"])
    schema_text = (REPO / "schemas" / "personalize" / "interactions.json").read_text()
    schema = p.create_schema(name="bench-interactions", schema=schema_text)["schemaArn"]
    dataset = p.create_dataset(
        name="bench", schemaArn=schema, datasetGroupArn=group, datasetType="Interactions"
    )["datasetArn"]
    _wait(lambda: p.describe_dataset(datasetArn=dataset)["dataset"])
    started = time.monotonic()
    job = p.create_dataset_import_job(
        jobName="bench",
        datasetArn=dataset,
        dataSource={"dataLocation": "s3://emulator-bench/interactions.csv"},
    )["datasetImportJobArn"]
    _wait(lambda: p.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"])
    print(f"import: {time.monotonic() - started:.1f} s", flush=True)
    versions: dict[str, str] = {}
    train_seconds: dict[str, float] = {}
    for recipe in ("aws-user-personalization", "aws-popularity-count"):
        solution = p.create_solution(
            name=recipe[4:],
            datasetGroupArn=group,
            recipeArn=f"arn:aws:personalize:::recipe/{recipe}",
            performAutoTraining=False,
        )["solutionArn"]
        _wait(lambda solution=solution: p.describe_solution(solutionArn=solution)["solution"])
        started = time.monotonic()
        versions[recipe] = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        _wait(lambda r=recipe: p.describe_solution_version(solutionVersionArn=versions[r])["solutionVersion"])
        train_seconds[recipe] = time.monotonic() - started
        print(f"train {recipe}: {train_seconds[recipe]:.1f} s", flush=True)
    ndcg = {
        r: p.get_solution_metrics(solutionVersionArn=v)["metrics"][
            "normalized_discounted_cumulative_gain_at_10"
        ]
        for r, v in versions.items()
    }
    filter_arn = p.create_filter(
        name="exclude-interacted",
        datasetGroupArn=group,
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")',
    )["filterArn"]
    _wait(lambda: p.describe_filter(filterArn=filter_arn)["filter"])
    campaign = p.create_campaign(
        name="bench", solutionVersionArn=versions["aws-user-personalization"], minProvisionedTPS=1
    )["campaignArn"]
    _wait(lambda: p.describe_campaign(campaignArn=campaign)["campaign"])
    users = [f"u{i}" for i in range(0, n_users, max(1, n_users // 5000))]
    _client_worker((port, campaign, filter_arn, users[:20], 0.0, 1.0))  # warm-up
    start_at = time.time() + 5.0
    with mp.get_context("spawn").Pool(n_clients) as pool:
        parts = pool.map(
            _client_worker,
            [(port, campaign, filter_arn, users[k::n_clients], start_at, seconds) for k in range(n_clients)],
        )
    elapsed = seconds
    latencies = np.array([x for part in parts for x in part])
    rps = len(latencies) / elapsed
    p99 = float(np.percentile(latencies, 99) * 1000)
    p50 = float(np.percentile(latencies, 50) * 1000)
    print(
        f"{len(latencies)} requests from {n_clients} clients in {elapsed:.1f} s; p50 {p50:.1f} ms "
        "(targets: >= 500 req/s, p99 <= 20 ms, train <= 60 s)"
    )
    train = train_seconds["aws-user-personalization"]
    print(
        f"emulator: {rps:.0f} req/s, p99 {p99:.1f} ms, train {train:.1f} s, "
        f"ndcg@10 {ndcg['aws-user-personalization']:.4f} vs popularity {ndcg['aws-popularity-count']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
