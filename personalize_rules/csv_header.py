"""The header line of a dataset CSV file, as the Personalize developer guide asks for it.

"Preparing and importing bulk data": the first row of the CSV file must contain the column headers, not
enclosed in quotation marks. "Creating schema JSON files for Amazon Personalize schemas" (Schema formatting
requirements): "Schema fields can appear in any order, but they must match the order of the corresponding
column headers in your CSV file." So the header is the schema's field names, in the schema's order: a file
whose columns come in another order needs a schema listing its fields in that order, not a reordered read.
https://docs.aws.amazon.com/personalize/latest/dg/data-prep-importing.html
https://docs.aws.amazon.com/personalize/latest/dg/how-it-works-dataset-schema.html
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import BinaryIO

from personalize_rules.dataset_report import Problem, shorten

__all__ = ["Header", "read_header"]

_BOM = b"\xef\xbb\xbf"
_MAX_HEADER_BYTES = 1 << 20


@dataclass
class Header:
    """The first line of a file: its problems, its line ending and where the records start."""

    problems: list[Problem] = field(default_factory=list)
    line_endings: str = "LF"
    data_offset: int = 0  # byte offset of the first record
    empty: bool = False

    @property
    def ok(self) -> bool:
        return not self.empty and not any(p.severity == "error" for p in self.problems)


def read_header(raw: BinaryIO, file: str, names: list[str]) -> Header:
    """Read the header line from the start of `raw` and check it against the schema's field names."""
    buf = b""
    while b"\n" not in buf and b"\r" not in buf[:-1] and len(buf) <= _MAX_HEADER_BYTES:
        chunk = raw.read(1 << 16)
        if not chunk:
            break
        buf += chunk
    header = Header()
    if not buf.strip():
        header.empty = True
        header.problems.append(
            Problem(file, 1, None, None, "empty_file", None, "the file is empty",
                    "write the header line and at least one record")
        )  # fmt: skip
        return header
    cut = min((i for i in (buf.find(b"\n"), buf.find(b"\r")) if i >= 0), default=len(buf))
    line, rest = buf[:cut], buf[cut:]
    header.line_endings = "CRLF" if rest.startswith(b"\r\n") else "CR" if rest.startswith(b"\r") else "LF"
    header.data_offset = cut + (2 if rest.startswith(b"\r\n") else 1 if rest[:1] in (b"\r", b"\n") else 0)
    if line.startswith(_BOM):
        line = line[len(_BOM) :]
        header.problems.append(
            Problem(
                file, 1, 1, None, "bom", "\\ufeff",
                "the file starts with a UTF-8 byte-order mark; Personalize may read the first column as "
                f"'\\ufeff{names[0]}'",
                "save the file as UTF-8 without BOM", "warning",
            )
        )  # fmt: skip
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        header.problems.append(
            Problem(file, 1, exc.start + 1, None, "not_utf8", shorten(line[exc.start : exc.start + 8]),
                    "the header is not valid UTF-8", "save the file as UTF-8")
        )  # fmt: skip
        return header
    if '"' in text:
        header.problems.append(
            Problem(file, 1, text.index('"') + 1, None, "header_quoted", shorten(text),
                    "column headers are enclosed in quotation marks", 'remove the " around the header names')
        )  # fmt: skip
    found = next(csv.reader([text]))
    if found != names:
        col = next(
            (i for i, (a, b) in enumerate(zip(found, names, strict=False)) if a != b),
            min(len(found), len(names)),
        )
        header.problems.append(
            Problem(
                file, 1, col + 1, found[col] if col < len(found) else None, "header_mismatch",
                shorten(",".join(found)),
                f"header must be the schema's field names in order: {','.join(names)}",
                f"make the first line exactly: {','.join(names)}",
            )
        )  # fmt: skip
    return header
