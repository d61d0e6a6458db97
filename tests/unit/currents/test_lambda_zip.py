from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from pipeline.lambda_zip import LambdaZipError, build_zip, main


def _package(root: Path) -> Path:
    (root / "pipeline" / "currents").mkdir(parents=True)
    (root / "pipeline" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pipeline" / "currents" / "handler.py").write_text("def handler(e, c): ...\n", encoding="utf-8")
    tool = root / "tool.sh"
    tool.write_text("#!/bin/sh\n", encoding="utf-8")
    tool.chmod(0o700)
    return root


def test_rebuilding_an_unchanged_package_gives_the_same_bytes(tmp_path: Path) -> None:
    source = _package(tmp_path / "pkg")
    build_zip(source, tmp_path / "first.zip")
    for path in source.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))  # as a fresh copy would have
    build_zip(source, tmp_path / "second.zip")
    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "second.zip").read_bytes()


def test_a_changed_file_changes_the_zip(tmp_path: Path) -> None:
    source = _package(tmp_path / "pkg")
    build_zip(source, tmp_path / "first.zip")
    handler = source / "pipeline" / "currents" / "handler.py"
    handler.write_text("def handler(e, c): return 1\n", encoding="utf-8")
    build_zip(source, tmp_path / "second.zip")
    assert (tmp_path / "first.zip").read_bytes() != (tmp_path / "second.zip").read_bytes()


def test_entries_are_sorted_relative_paths_readable_by_all(tmp_path: Path) -> None:
    source = _package(tmp_path / "pkg")
    assert build_zip(source, tmp_path / "p.zip") == 3
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        assert names == ["pipeline/__init__.py", "pipeline/currents/handler.py", "tool.sh"]
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
        assert archive.read("pipeline/currents/handler.py") == b"def handler(e, c): ...\n"
    assert modes == {"pipeline/__init__.py": 0o644, "pipeline/currents/handler.py": 0o644, "tool.sh": 0o755}


def test_a_missing_or_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LambdaZipError, match="not a directory"):
        build_zip(tmp_path / "absent", tmp_path / "p.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LambdaZipError, match="no files"):
        build_zip(tmp_path / "empty", tmp_path / "p.zip")


def test_the_cli_reports_the_zip_or_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _package(tmp_path / "pkg")
    assert main([str(source), str(tmp_path / "p.zip")]) == 0
    assert "3 files" in capsys.readouterr().out
    assert main([str(tmp_path / "absent"), str(tmp_path / "p.zip")]) == 1
    assert "not a directory" in capsys.readouterr().err
