"""pipeline.tf_outputs against an environment that was never applied (terraform init from the mirror only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline.tf_outputs import OutputsError, read_outputs


def test_unapplied_environment_fails_naming_the_missing_outputs_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BP_TF_STATE_DIR", str(tmp_path / "state"))
    with pytest.raises(OutputsError, match=r"missing bucket_name, .*run `make apply ENV=local` first"):
        read_outputs("local")
