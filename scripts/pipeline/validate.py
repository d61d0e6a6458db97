"""CLI: check Personalize dataset files before an import.

    python -m pipeline.validate DATA [--report FILE.json] [--event-type TYPE]

DATA is a directory or s3://bucket/prefix holding interactions.csv and optional users.csv / items.csv.
Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error (bad arguments, missing files).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.config import ConfigError, load_dataset_schemas
from pipeline.validation import PersonalizeSchemaError, ValidationError, validate_directory

__all__ = ["main"]

EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m pipeline.validate", description=__doc__.splitlines()[1])
    parser.add_argument(
        "data", help="directory or s3://bucket/prefix with interactions.csv [users.csv items.csv]"
    )
    parser.add_argument("--report", type=Path, help="also write the report as JSON to this file")
    parser.add_argument("--event-type", help="check training minimums after keeping only this EVENT_TYPE")
    parser.add_argument("--no-minimums", action="store_true", help="skip Personalize's training minimums")
    args = parser.parse_args(argv)
    try:
        schemas = load_dataset_schemas()
        report = validate_directory(
            args.data, event_type=args.event_type, schemas=schemas, check_minimums=not args.no_minimums
        )
    except (ValidationError, ConfigError, PersonalizeSchemaError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report.format_text())
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
        print(f"\nreport written to {args.report}")
    return EXIT_VALID if report.ok else EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
