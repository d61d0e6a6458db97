"""Validator throughput against the fastest plain typed pyarrow parse of the same interactions file.

The plain parses: Arrow's streaming reader (what the validator uses, bounded memory) at two block sizes, and
`read_csv` with its thread pool (the whole file in memory, all cores); the fastest of them is the baseline.
Each measurement runs in its own child process so its peak memory (ru_maxrss, which counts Arrow's
allocations too) is its own. Runs alternate plain/validate and the best time of each is kept, because a
shared machine is noisy. Last line:
    validate: <rows/s> rows/s, ratio <x> vs plain parse, peak <MB> MB
Usage: benchmarks/validate_throughput.py [--file CSV] [--repeat N]
(default file: data/bench/interactions.csv, generated with pipeline.sample_data "large" when missing).
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

from pipeline.paths import repo_root

TARGET_RATIO = 1.5
TARGET_PEAK_MB = 1024
WARM_UP_BYTES = 40 << 20
PLAIN_BLOCK_SIZES = (1 << 20, 4 << 20)  # streaming reader; 0 = read_csv, multi-threaded, whole file


def bench_file() -> Path:
    out = repo_root() / "data" / "bench"
    path = out / "interactions.csv"
    if not path.is_file():
        from pipeline.sample_data import generate_dataset

        print(f"generating the large dataset into {out.relative_to(repo_root())} (once)...", flush=True)
        generate_dataset(out, "large")
    return path


def child_plain(path: str, block_size: int) -> dict[str, Any]:
    import pyarrow.csv as pacsv

    from personalize_rules.dataset_schemas import field_specs
    from pipeline.config import load_dataset_schemas
    from pipeline.validation.engine import arrow_types

    types = arrow_types(field_specs("interactions", load_dataset_schemas()["interactions"]))
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--child", choices=["plain", "validate"], help=argparse.SUPPRESS)
    parser.add_argument("--block-size", type=int, default=1 << 20, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        # warm up on the file's first lines (imports, compiled kernels, thread pools), then time the whole
        # file; the head is big enough for the validator to read it in parts, as it reads the whole file
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
    path = args.file or bench_file()
    size_mb = path.stat().st_size / 2**20
    print(f"file: {path.name} ({size_mb:,.0f} MB)")
    plain: list[dict[str, Any]] = []
    valid: list[dict[str, Any]] = []
    for i in range(args.repeat):
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
        f"targets: ratio <= {TARGET_RATIO} ({'met' if ratio <= TARGET_RATIO else 'MISSED'}), "
        f"peak <= {TARGET_PEAK_MB} MB ({'met' if peak <= TARGET_PEAK_MB else 'MISSED'})"
    )
    print(
        f"validate: {rows / best_valid['seconds']:.0f} rows/s, "
        f"ratio {ratio:.2f} vs plain parse, peak {peak:.0f} MB"
    )
    return 0


def _kind(block: int) -> str:
    return f"streaming {block >> 20} MB blocks" if block else "read_csv, threads"


if __name__ == "__main__":
    sys.exit(main())
