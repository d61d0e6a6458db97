"""A Lambda .zip that depends on its files' paths, contents and modes only (`make currents-package`).

Entries are sorted and carry a fixed timestamp, so rebuilding an unchanged package gives the same bytes,
hence the same package_sha256: Terraform then neither uploads, re-signs nor redeploys it
(terraform/modules/currents). Modes are 0644, or 0755 for executables: Lambda needs its files readable
by all ("Permissions policies on Lambda deployment packages",
https://docs.aws.amazon.com/lambda/latest/dg/deployment-package-v2.html)."""

from __future__ import annotations

import argparse
import stat
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import PipelineError

__all__ = ["LambdaZipError", "build_zip", "main"]

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


class LambdaZipError(PipelineError):
    """The package directory cannot be zipped (missing or empty)."""


def build_zip(source: Path, target: Path) -> int:
    """Zips every file under `source` into `target`, paths relative to `source`; returns the file count."""
    if not source.is_dir():
        raise LambdaZipError(str(source), "not a directory")
    files = sorted(
        (p for p in source.rglob("*") if p.is_file()), key=lambda p: p.relative_to(source).as_posix()
    )
    if not files:
        raise LambdaZipError(str(source), "no files to package")
    with zipfile.ZipFile(target, "w") as archive:
        for path in files:
            entry = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=_FIXED_TIME)
            mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
            entry.external_attr = (stat.S_IFREG | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    return len(files)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.lambda_zip", description=__doc__)
    parser.add_argument("source", type=Path, help="the package directory")
    parser.add_argument("target", type=Path, help="the .zip to write")
    args = parser.parse_args(argv)
    try:
        count = build_zip(args.source, args.target)
    except LambdaZipError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{args.target}: {count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
