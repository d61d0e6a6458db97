"""API benchmark: handler overhead in-process, HTTP throughput against the local stack, cold import.

- handler: the Lambda entry point (`app(event, context)`, an API Gateway proxy event) with the Personalize
  runtime answering instantly, S3/SSM as in-memory fakes; every request a cache miss (distinct users),
  so the backend thread deadline, the catalog decoration and the JSON log are all included; best of
  3 rounds (a shared machine only adds time). Target p99 ≤ 2 ms.
- http: `chalice local` (what `make serve` runs) against the local stack with trained campaigns; 32
  concurrent clients for 30 s (BENCH_API_SECONDS), half known users, half never-seen (cold, uncached),
  after one warm-up call (the cold start is the fault drill's, benchmarks/faults.py). Any non-2xx fails the
  benchmark (exit 1).
- cold import: `import app` in a new interpreter (what a Lambda cold start pays for our code), best of 5.
- catalog: a 1,000,000-item catalog artifact (what `make import` writes) opened in a fresh interpreter the
  way a cold start does (map the file, read the header) plus 1,000 lookups and a 1,000-row fallback walk;
  time and resident memory added. Targets ≤ 300 ms and ≤ 150 MB. The download from S3 to local disk is
  streamed in 1 MiB chunks (memory does not grow with the file) and is reported on its own.

Last line: `api: handler p50 <ms> p99 <ms>, http <n> req/s p99 <ms>, cold import <ms>,
catalog <n> items <ms> ms +<MB> MB`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
APP_DIR = REPO / "chalice_app"
for entry in (str(APP_DIR), str(REPO)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

HANDLER_REQUESTS = int(os.environ.get("BENCH_API_HANDLER_REQUESTS", "5000"))
HANDLER_ROUNDS = 3
HTTP_SECONDS = float(os.environ.get("BENCH_API_SECONDS", "30"))
HTTP_CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", "32"))
KEY = "bench-key"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class FakeS3:
    """In-memory S3 holding the catalog artifact (read once; the benchmark measures requests)."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[Key]), "ETag": '"1"'}

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"ETag": '"1"'}


class FakeSsm:
    def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
        return {"Parameter": {"Value": KEY}}


class InstantPersonalize:
    """A personalize-runtime client that answers at once, like a campaign with zero latency."""

    def __init__(self, items: list[str]) -> None:
        self.answer = {"itemList": [{"itemId": i, "score": 0.01} for i in items], "recommendationId": "bench"}

    def get_recommendations(self, **params: Any) -> dict[str, Any]:
        return self.answer


def _event(user_id: str) -> dict[str, Any]:
    query = {"user_id": user_id, "limit": "10"}
    return {
        "resource": "/recommendations",
        "path": "/recommendations",
        "httpMethod": "GET",
        "headers": {"X-Api-Key": KEY, "Host": "bench"},
        "multiValueHeaders": {"X-Api-Key": [KEY], "Host": ["bench"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/recommendations", "httpMethod": "GET", "stage": "api"},
        "body": None,
        "isBase64Encoded": False,
    }


def handler_overhead() -> tuple[float, float]:
    """p50/p99 (ms) of the Lambda handler with an instant backend."""
    import app as app_module
    from chalicelib.catalog_artifact import CatalogColumn, write_catalog
    from chalicelib.logs import LOGGER_NAME
    from chalicelib.runtime import build_runtime, set_runtime
    from chalicelib.settings import Settings, filter_spec

    items = [f"item-{n:04d}" for n in range(200)]
    columns = [CatalogColumn(c) for c in ("ITEM_ID", "NAME", "URL", "IMAGE")] + [CatalogColumn("PRICE", True)]
    rows = [
        {
            "ITEM_ID": i,
            "NAME": f"Thing {i}",
            "PRICE": f"{n % 50}.99",
            "URL": f"https://shop.example.com/product/{i}",
            "IMAGE": f"https://img.example.com/{i}.jpg",
        }
        for n, i in enumerate(items)
    ]
    catalog = io.BytesIO()
    write_catalog(catalog, columns, rows, {i: 200 - n for n, i in enumerate(items)})
    filter_arn = "arn:aws:personalize:us-east-1:123456789012:filter/x"
    settings = Settings(
        campaign_arn="arn:aws:personalize:us-east-1:123456789012:campaign/bench",
        related_campaign_arn="",
        ranking_campaign_arn="",
        bucket="bench",
        catalog_key="catalog.bin",
        api_key_parameter="/bench/api-keys",
        filters={
            "exclude-interacted": filter_spec(
                "exclude-interacted", filter_arn, 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")'
            )
        },
        default_filter="exclude-interacted",
    )
    s3 = FakeS3({"catalog.bin": catalog.getvalue()})
    set_runtime(build_runtime(settings, personalize=InstantPersonalize(items[:15]), s3=s3, ssm=FakeSsm()))
    # Keep the per-request JSON log (its cost is real) but out of the terminal.
    for handler in logging.getLogger(LOGGER_NAME).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(io.StringIO())
    logging.getLogger(LOGGER_NAME).propagate = False
    context = None
    for n in range(200):  # warm-up: catalog load, thread pool, code paths
        app_module.app(_event(f"warm-{n}"), context)
    rounds: list[tuple[float, float]] = []
    for round_no in range(HANDLER_ROUNDS):
        samples: list[float] = []
        for n in range(HANDLER_REQUESTS):
            event = _event(f"user-{round_no}-{n}")
            started = time.perf_counter()
            response = app_module.app(event, context)
            samples.append((time.perf_counter() - started) * 1000)
            if response["statusCode"] != 200:
                raise SystemExit(f"handler answered {response['statusCode']}: {response['body'][:200]}")
        rounds.append((statistics.median(samples), percentile(samples, 99)))
    set_runtime(None)
    # Best round, as timeit does: other processes on a shared machine only ever add time.
    return min(rounds, key=lambda r: r[1])


CATALOG_ITEMS = int(os.environ.get("BENCH_API_CATALOG_ITEMS", "1000000"))
_CATALOG_PROBE = """
import json, random, resource, sys, time
from pathlib import Path
sys.path.insert(0, '.')
from chalicelib.catalog_artifact import open_catalog

def rss_mb(field='VmRSS'):
    with open('/proc/self/status') as status:
        return next(int(l.split()[1]) for l in status if l.startswith(field + ':')) / 1024

path, count = Path(sys.argv[1]), int(sys.argv[2])
ids = [f'item-{random.Random(n).randrange(count):07d}' for n in range(1000)]
before, anon_before = rss_mb(), rss_mb('RssAnon')
started = time.perf_counter()
catalog = open_catalog(path)
opened = time.perf_counter()
found = sum(catalog.get(i) is not None for i in ids)
walked = sum(1 for _, _ in zip(range(1000), catalog.in_popularity_order()))
done = time.perf_counter()
print(json.dumps({"open_ms": (opened - started) * 1000, "total_ms": (done - started) * 1000,
                  "lookups_ms": (done - opened) * 1000, "found": found, "walked": walked,
                  "rss_mb": rss_mb() - before, "anon_mb": rss_mb('RssAnon') - anon_before}))
"""


def catalog_at_scale(home: Path) -> dict[str, float]:
    """Write a CATALOG_ITEMS artifact, then measure a cold start opening it in a fresh interpreter."""
    from chalicelib.artifacts import download_to_disk
    from chalicelib.catalog_artifact import CatalogColumn, write_catalog

    columns = [
        CatalogColumn("ITEM_ID"),
        CatalogColumn("CATEGORY_L1", categorical=True),
        CatalogColumn("CATEGORY_L2", categorical=True),
        CatalogColumn("PRICE", numeric=True),
        CatalogColumn("CREATION_TIMESTAMP", numeric=True),
        CatalogColumn("NAME"),
        CatalogColumn("URL"),
        CatalogColumn("IMAGE"),
    ]

    def rows() -> Any:
        for n in range(CATALOG_ITEMS):
            item = f"item-{n:07d}"
            yield {
                "ITEM_ID": item,
                "CATEGORY_L1": ("Home", "Garden", "Kitchen", "Toys", "Books")[n % 5],
                "CATEGORY_L2": f"sub-{n % 97}",
                "PRICE": f"{5 + n % 400}.99",
                "CREATION_TIMESTAMP": str(1_700_000_000 + n),
                "NAME": f"Product number {n} of the shop",
                "URL": f"https://shop.example.com/product/{item}",
                "IMAGE": f"https://img.example.com/{item}.jpg",
            }

    path = home / "catalog.bin"
    popularity = {f"item-{n:07d}": (n * 7919) % 100_000 for n in range(0, CATALOG_ITEMS, 3)}
    with path.open("wb") as out:
        write_catalog(out, columns, rows(), popularity)
    # The cold start's download: S3's streamed body to local disk, as the API does it.
    with path.open("rb") as body:
        started = time.perf_counter()
        download_to_disk(body, str(home))
        download_ms = (time.perf_counter() - started) * 1000
    runs = []
    for _ in range(3):
        probe = subprocess.run(
            [sys.executable, "-c", _CATALOG_PROBE, str(path), str(CATALOG_ITEMS)],
            cwd=APP_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(probe.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["total_ms"])
    best["size_mb"] = path.stat().st_size / 1e6
    best["download_ms"] = download_ms
    if best["found"] != 1000 or best["walked"] != 1000:
        raise SystemExit(f"catalog probe read the wrong rows: {best}")
    return dict(best)


def cold_import_ms() -> float:
    code = (
        "import sys, time; sys.path.insert(0, '.'); t = time.perf_counter(); import app; "
        "print((time.perf_counter() - t) * 1000)"
    )
    runs: list[float] = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=APP_DIR, capture_output=True, text=True, check=True
        )
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return min(runs)  # the intrinsic cost; a busy machine only adds to it


class StackClients:
    """Enough of the functional tests' LocalStack for world.build_world."""

    def __init__(self, url: str, port: int) -> None:
        self.endpoint_url = url
        self.port = port

    def client(self, service_name: str) -> Any:
        import boto3

        make: Any = boto3.client  # service_name is a runtime string, not one of the stubs' literals
        return make(
            service_name,
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the local stack's dummy credentials
        )

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }


def http_load(home: Path) -> tuple[float, float, int, int]:
    """(requests/s, p99 ms, non-2xx count, fallbacks) over HTTP against the local stack."""

    from local_stack.process import LocalStackStartError, serve
    from tests.functional.api.world import API_KEY, build_world, serve_api, stop

    try:
        with serve(home / "stack") as server:
            world = build_world(StackClients(server.url, server.port), name="apibench")
            served = serve_api(world.env, home / "chalice.log")
            try:
                # One call first, as a fleet at steady state is warm: this measures throughput, and
                # benchmarks/faults.py measures the cold start (keys, clients and catalog on first use).
                served.get("/recommendations?user_id=warm-up&limit=1")
                return _hammer(served.url, API_KEY)
            finally:
                stop(served)
    except LocalStackStartError as exc:
        raise SystemExit(str(exc)) from exc


def _hammer(base: str, key: str) -> tuple[float, float, int, int]:
    import requests

    latencies: list[list[float]] = [[] for _ in range(HTTP_CLIENTS)]
    bad = [0] * HTTP_CLIENTS
    fallbacks = [0] * HTTP_CLIENTS
    stop_at = time.monotonic() + HTTP_SECONDS

    def client(index: int) -> None:
        rng = random.Random(index)
        session = requests.Session()
        session.headers["X-Api-Key"] = key
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            user = f"user-{rng.randrange(100):03d}" if n % 2 else f"cold-{index}-{n}"
            started = time.perf_counter()
            try:
                response = session.get(f"{base}/recommendations?user_id={user}&limit=10", timeout=5)
                ok = 200 <= response.status_code < 300
                if response.headers.get("X-Recommendations-Source") == "fallback":
                    fallbacks[index] += 1
            except requests.RequestException:
                ok = False
            latencies[index].append((time.perf_counter() - started) * 1000)
            if not ok:
                bad[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(HTTP_CLIENTS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    samples = [s for per_client in latencies for s in per_client]
    return len(samples) / elapsed, percentile(samples, 99), sum(bad), sum(fallbacks)


def main() -> int:
    p50, p99 = handler_overhead()
    print(
        f"handler: best of {HANDLER_ROUNDS} rounds x {HANDLER_REQUESTS} requests, p50 {p50:.3f} ms, "
        f"p99 {p99:.3f} ms (target p99 <= 2 ms)"
    )
    cold = cold_import_ms()
    print(f"cold import of app: {cold:.1f} ms (best of 5)")
    with tempfile.TemporaryDirectory(prefix="api-catalog-") as tmp:
        scale = catalog_at_scale(Path(tmp))
    print(
        f"catalog: {CATALOG_ITEMS:,} items, artifact {scale['size_mb']:.0f} MB; a cold start opens it in "
        f"{scale['open_ms']:.2f} ms; with 1,000 lookups and a 1,000-row fallback walk "
        f"{scale['total_ms']:.1f} ms, RSS +{scale['rss_mb']:.1f} MB of which anonymous "
        f"+{scale['anon_mb']:.1f} MB, the rest clean file pages (targets <= 300 ms, <= 150 MB); "
        f"streaming it to disk (the local part of the S3 download) {scale['download_ms']:.0f} ms"
    )
    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
        rps, http_p99, bad, fallbacks = http_load(Path(tmp))
    print(
        f"http: {HTTP_CLIENTS} clients x {HTTP_SECONDS:.0f} s, {rps:.0f} req/s, p99 {http_p99:.1f} ms, "
        f"non-2xx {bad}, fallbacks {fallbacks}"
    )
    print(
        f"api: handler p50 {p50:.3f} ms p99 {p99:.3f} ms, http {rps:.0f} req/s p99 {http_p99:.1f} ms, "
        f"cold import {cold:.1f} ms, catalog {CATALOG_ITEMS:,} items {scale['total_ms']:.1f} ms "
        f"+{scale['rss_mb']:.1f} MB"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
