"""Problems and the validation report: text for people, JSON per schemas/validation-report.schema.json."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

__all__ = ["MAX_EXAMPLES_PER_RULE", "Problem", "ProblemCollector", "ValidationReport", "shorten"]

MAX_EXAMPLES_PER_RULE = 5
_MAX_VALUE_CHARS = 60

Severity = Literal["error", "warning"]


def shorten(value: object, limit: int = _MAX_VALUE_CHARS) -> str | None:
    """The offending value as shown in a report: repr-like, cut in the middle when long."""
    if value is None:
        return None
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)
    if len(text) <= limit:
        return text
    half = (limit - 5) // 2
    return f"{text[:half]} …({len(text)} chars)… {text[-half:]}"[: limit + 24]


@dataclass(frozen=True)
class Problem:
    """One defect: where it is (file, 1-based line and column), which rule, the value and how to fix it."""

    file: str
    line: int | None
    column: int | None
    field: str | None
    rule: str
    value: str | None
    message: str
    fix: str
    severity: Severity = "error"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def format_text(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        fld = f" [{self.field}]" if self.field else ""
        val = f" value={self.value!r}" if self.value is not None else ""
        head = f"{self.severity.upper():7} {where}{fld} {self.rule}: {self.message}{val}"
        return f"{head}\n          fix: {self.fix}"


@dataclass
class _Pending:
    problem: Problem
    record: int | None  # 0-based data record index, resolved to a line at the end of the file


@dataclass
class ProblemCollector:
    """Counts every occurrence per (file, rule) but keeps only the first few examples."""

    max_examples: int = MAX_EXAMPLES_PER_RULE
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    severities: dict[tuple[str, str], Severity] = field(default_factory=dict)
    _pending: list[_Pending] = field(default_factory=list)
    _examples: dict[tuple[str, str], int] = field(default_factory=dict)

    def room(self, file: str, rule: str) -> int:
        """How many more examples of this rule are worth building."""
        return self.max_examples - self._examples.get((file, rule), 0)

    def tally(self, file: str, rule: str, severity: Severity, occurrences: int) -> None:
        if occurrences <= 0:
            return
        key = (file, rule)
        self.counts[key] = self.counts.get(key, 0) + occurrences
        self.severities[key] = severity

    def example(self, problem: Problem, record: int | None = None) -> None:
        """Keep an example (already tallied) if there is room; `record` is resolved to a line later."""
        key = (problem.file, problem.rule)
        if self._examples.get(key, 0) >= self.max_examples:
            return
        self._examples[key] = self._examples.get(key, 0) + 1
        self.severities.setdefault(key, problem.severity)
        self._pending.append(_Pending(problem, record))

    def add(self, problem: Problem, record: int | None = None, occurrences: int = 1) -> None:
        self.tally(problem.file, problem.rule, problem.severity, occurrences)
        self.example(problem, record)

    def merge(self, other: ProblemCollector, record_offset: int = 0) -> None:
        """Take over another collector's counts and examples (a file's once its pass succeeded, or a part's:
        its record numbers start at `record_offset` in the file)."""
        for (file, rule), n in other.counts.items():
            self.tally(file, rule, other.severities[(file, rule)], n)
        for pending in other._pending:
            record = pending.record + record_offset if pending.record is not None else None
            self.example(pending.problem, record)

    def pending_records(self, file: str) -> list[int]:
        return sorted({p.record for p in self._pending if p.problem.file == file and p.record is not None})

    def resolve_lines(self, file: str, line_of: Callable[[int], int | None]) -> None:
        for pending in self._pending:
            if pending.problem.file == file and pending.record is not None:
                pending.problem = replace(pending.problem, line=line_of(pending.record))
                pending.record = None

    def problems(self) -> list[Problem]:
        order = {"error": 0, "warning": 1}
        return sorted(
            (p.problem for p in self._pending),
            key=lambda p: (p.file, order[p.severity], p.line or 0, p.column or 0, p.rule),
        )

    def has_errors(self) -> bool:
        return any(self.severities[k] == "error" for k, n in self.counts.items() if n)


@dataclass
class ValidationReport:
    """What a validation run found. `ok` is False when any error (not warning) was counted."""

    ok: bool
    problems: list[Problem]
    summary: dict[str, Any]
    row_counts: dict[str, int]
    problem_counts: list[dict[str, Any]] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256 of the bytes checked

    @classmethod
    def from_collector(
        cls, collector: ProblemCollector, summary: dict[str, Any], row_counts: dict[str, int]
    ) -> ValidationReport:
        counts = [
            {"file": f, "rule": r, "severity": collector.severities[(f, r)], "count": n}
            for (f, r), n in sorted(collector.counts.items())
        ]
        return cls(
            ok=not collector.has_errors(),
            problems=collector.problems(),
            summary=summary,
            row_counts=row_counts,
            problem_counts=counts,
        )

    @property
    def error_count(self) -> int:
        return sum(c["count"] for c in self.problem_counts if c["severity"] == "error")

    @property
    def warning_count(self) -> int:
        return sum(c["count"] for c in self.problem_counts if c["severity"] == "warning")

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "row_counts": dict(self.row_counts),
            "summary": self.summary,
            "problem_counts": self.problem_counts,
            "problems": [p.to_json() for p in self.problems],
        }

    def format_text(self) -> str:
        lines = [
            f"{'VALID' if self.ok else 'INVALID'}: {self.error_count} errors, {self.warning_count} warnings"
        ]
        for name, info in self.summary.get("files", {}).items():
            lines.append(f"\n{name}: {info.get('rows', 0):,} rows")
            for key, value in info.items():
                if key in ("rows", "path"):
                    continue
                lines.append(f"  {key}: {_fmt(value)}")
        if self.problem_counts:
            lines.append("\nProblems (every occurrence counted; first examples below):")
            for c in self.problem_counts:
                lines.append(f"  {c['severity']:7} {c['file']}: {c['rule']} x{c['count']:,}")
            lines.append("")
            lines.extend(p.format_text() for p in self.problems)
        return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return str(value)
