"""Validator throughput against the fastest plain typed pyarrow parse of the same interactions file.

The plain parses: Arrow's streaming reader at two block sizes, and `read_csv` with its thread pool (the
whole file in memory, all cores); the fastest of them is the baseline. Each measurement runs in its own
child process so its peak memory (ru_maxrss, which counts DuckDB's and Arrow's allocations too) is its own.
Runs alternate plain/validate and the best time of each is kept, because a shared machine is noisy.

Without --file, files of realistic cardinality are generated (once, under data/bench/): --rows sizes, each
with rows/5 users, min(rows/25, 500,000) items drawn with a Zipf popularity (exponent 1.07), three event
types, three years of timestamps. One line per size, and last:
    validate: <rows/s> rows/s, ratio <x> vs plain parse, peak <MB> MB
Usage: benchmarks/validate_throughput.py [--file CSV | --rows 5000000,50000000] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.paths import repo_root

TARGET_RATIO = 1.5
TARGET_PEAK_MB = 2048
WARM_UP_BYTES = 4 << 20
PLAIN_BLOCK_SIZES = (1 << 20, 4 << 20)  # streaming reader; 0 = read_csv, multi-threaded, whole file
ZIPF_EXPONENT = 1.07
_EVENTS = np.array(["View", "AddToCart", "Purchase"])
_EVENT_SHARES = [0.8, 0.15, 0.05]


def realistic_file(rows: int, seed: int = 7) -> Path:
    """An interactions file of `rows` rows with realistic cardinality (written once, then reused)."""
    out = repo_root() / "data" / "bench"
    path = out / f"interactions-{rows}.csv"
    if path.is_file():
        return path
    out.mkdir(parents=True, exist_ok=True)
    users, items = max(rows // 5, 1), max(min(rows // 25, 500_000), 1)
    print(f"generating {path.relative_to(repo_root())}: {rows:,} rows, {users:,} users, {items:,} items")
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, items + 1, dtype=np.float64) ** ZIPF_EXPONENT
    cdf = np.cumsum(popularity / popularity.sum())
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as fh:
        fh.write("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n")
        for start in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - start)
            user = rng.integers(0, users, n).tolist()
            item = np.minimum(np.searchsorted(cdf, rng.random(n)), items - 1).tolist()
            stamp = (1_600_000_000 + rng.integers(0, 3 * 365 * 86400, n)).tolist()
            event = rng.choice(_EVENTS, n, p=_EVENT_SHARES).tolist()
            value = np.round(rng.random(n) * 100, 2).tolist()
            fh.write(
                "".join(
                    f"user-{u},item-{i},{t},{e},{v}\n"
                    for u, i, t, e, v in zip(user, item, stamp, event, value, strict=True)
                )
            )
    partial.rename(path)
    return path


def child_plain(path: str, block_size: int) -> dict[str, Any]:
    import pyarrow.csv as pacsv

    from personalize_rules.avro_types import arrow_types
    from pipeline.config import load_dataset_schemas

    convert = pacsv.ConvertOptions(
        column_types=arrow_types(load_dataset_schemas()["interactions"]), strings_can_be_null=True
    )
    start, cpu = time.perf_counter(), time.process_time()
    if block_size:
        reader = pacsv.open_csv(
            path, read_options=pacsv.ReadOptions(block_size=block_size), convert_options=convert
        )
        rows = sum(batch.num_rows for batch in reader)
    else:
        rows = pacsv.read_csv(
            path, read_options=pacsv.ReadOptions(use_threads=True), convert_options=convert
        ).num_rows
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu, "rows": rows}


def child_validate(path: str) -> dict[str, Any]:
    from pipeline.config import load_dataset_schemas
    from pipeline.validation import validate_file

    schema = load_dataset_schemas()["interactions"]
    start, cpu = time.perf_counter(), time.process_time()
    report = validate_file("interactions", path, schema)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "rows": report.row_counts["interactions"],
        "ok": report.ok,
    }


def run_child(kind: str, path: Path, block_size: int) -> dict[str, Any]:
    return child_plain(str(path), block_size) if kind == "plain" else child_validate(str(path))


def measure(kind: str, path: Path, block_size: int = 0) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--file", str(path), "--block-size", str(block_size)]
    result = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def compare(path: Path, repeat: int) -> tuple[int, float, float, float]:
    """(rows, validator seconds, ratio to the fastest plain parse, validator peak MB) for one file."""
    size_mb = path.stat().st_size / 2**20
    print(f"file: {path.name} ({size_mb:,.0f} MB)")
    plain: list[dict[str, Any]] = []
    valid: list[dict[str, Any]] = []
    for i in range(repeat):
        for block in (*PLAIN_BLOCK_SIZES, 0):
            plain.append(measure("plain", path, block) | {"block": block})
        valid.append(measure("validate", path))
        runs = ", ".join(f"{_kind(p['block'])} {p['seconds']:.2f}s" for p in plain[-3:])
        print(f"  run {i + 1}: {runs}; validate {valid[-1]['seconds']:.2f}s", flush=True)
    best_plain = min(plain, key=lambda m: m["seconds"])
    best_valid = min(valid, key=lambda m: m["seconds"])
    rows = best_valid["rows"]
    ratio = best_valid["seconds"] / best_plain["seconds"]
    peak = max(m["peak_mb"] for m in valid)
    print(f"rows: {rows:,} (valid file: {best_valid['ok']})")
    for block in (*PLAIN_BLOCK_SIZES, 0):
        best = min((p for p in plain if p["block"] == block), key=lambda m: m["seconds"])
        print(
            f"plain parse, {_kind(block)}: {best['rows'] / best['seconds']:,.0f} rows/s "
            f"({best['seconds']:.2f}s, cpu {best['cpu_seconds']:.2f}s, peak {best['peak_mb']:.0f} MB)"
            + ("  <- baseline" if best is best_plain else "")
        )
    print(f"validator:   {rows / best_valid['seconds']:,.0f} rows/s ({best_valid['seconds']:.2f}s)")
    print(f"validator cpu: {min(m['cpu_seconds'] for m in valid):.2f}s (all threads)")
    print(
        f"{rows:,} rows: ratio {ratio:.2f} (target <= {TARGET_RATIO}: "
        f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}), peak {peak:.0f} MB "
        f"(target <= {TARGET_PEAK_MB}: {'met' if peak <= TARGET_PEAK_MB else 'MISSED'})"
    )
    return rows, best_valid["seconds"], ratio, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path)
    parser.add_argument("--rows", default="5000000", help="comma-separated sizes of generated files")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["plain", "validate"], help=argparse.SUPPRESS)
    parser.add_argument("--block-size", type=int, default=1 << 20, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        # warm up on the file's first lines (imports, thread pools), then time the whole file
        with tempfile.TemporaryDirectory(prefix="bp-bench-") as tmp:
            head = Path(tmp) / "interactions.csv"
            with args.file.open("rb") as src:
                data = src.read(WARM_UP_BYTES)
            head.write_bytes(data[: data.rfind(b"\n") + 1])
            run_child(args.child, head, args.block_size)
        out = run_child(args.child, args.file, args.block_size)
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        print(json.dumps(out))
        return 0
    paths = [args.file] if args.file else [realistic_file(int(n)) for n in args.rows.split(",")]
    results = [compare(path, args.repeat) for path in paths]
    rows, seconds, ratio, peak = results[-1]
    print(f"validate: {rows / seconds:.0f} rows/s, ratio {ratio:.2f} vs plain parse, peak {peak:.0f} MB")
    return 0


def _kind(block: int) -> str:
    return f"streaming {block >> 20} MB blocks" if block else "read_csv, threads"


if __name__ == "__main__":
    sys.exit(main())
