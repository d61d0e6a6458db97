from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from pipeline.paths import repo_root


def test_benchmark_compares_with_every_plain_parse_and_prints_the_summary_last_line(
    tmp_path: Path, data: SimpleNamespace
) -> None:
    path = data.write(tmp_path / "interactions.csv", data.interactions())
    script = repo_root() / "benchmarks" / "validate_throughput.py"
    result = subprocess.run(
        [sys.executable, str(script), "--file", str(path), "--repeat", "1"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"validate: \d+ rows/s, ratio \d+\.\d\d vs plain parse, peak \d+ MB", last), last
    assert "rows: 2,000 (valid file: True)" in result.stdout
    # the streaming reader at both block sizes and the multi-threaded whole-file read all compete
    plain = re.findall(r"^plain parse, (streaming \d MB blocks|read_csv, threads): ", result.stdout, re.M)
    assert sorted(plain) == ["read_csv, threads", "streaming 1 MB blocks", "streaming 4 MB blocks"]
