from __future__ import annotations

import re
import subprocess

from pipeline.paths import repo_root


def _targets_with_help() -> dict[str, str]:
    text = (repo_root() / "Makefile").read_text(encoding="utf-8")
    return dict(re.findall(r"^([a-zA-Z_-]+):.*?## (.+)$", text, flags=re.MULTILINE))


def _phony_targets() -> set[str]:
    text = (repo_root() / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^\.PHONY:(.*)$", text, flags=re.MULTILINE)
    assert match, "the Makefile declares its phony targets"
    return set(match.group(1).split())


def test_every_phony_target_has_a_one_line_help() -> None:
    assert _phony_targets() - set(_targets_with_help()) == set()


def test_make_help_lists_every_documented_target() -> None:
    out = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=repo_root(), capture_output=True, text=True, check=True
    ).stdout
    listed = {line.split()[0] for line in re.sub(r"\x1b\[[0-9;]*m", "", out).splitlines() if line.strip()}
    assert listed == set(_targets_with_help())


def test_readme_starts_with_make_demo_and_make_test() -> None:
    readme = (repo_root() / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands[:2] == ["make demo", "make test"]
