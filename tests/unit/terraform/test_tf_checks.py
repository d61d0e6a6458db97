"""pipeline.tf_checks: what it checks and the template it hands to cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.config import load_config
from pipeline.paths import repo_root
from pipeline.tf_checks import render_template, terraform_roots


def test_checks_every_module_and_environment() -> None:
    roots = {p.relative_to(repo_root()).as_posix() for p in terraform_roots()}
    assert {
        "terraform/envs/aws",
        "terraform/envs/local",
        "terraform/modules/iam",
        "terraform/modules/personalize",
        "terraform/modules/platform",
        "terraform/modules/storage",
    } <= roots


def test_renders_the_personalize_template_from_the_project_config(tmp_path: Path) -> None:
    template = json.loads(render_template(tmp_path))
    config = load_config()
    resources = template["Resources"]
    solutions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Personalize::Solution"]
    assert sorted(s["RecipeArn"].rsplit("/", 1)[1] for s in solutions) == sorted(
        s["recipe"] for s in config["solutions"]
    )
    filters = [
        r["Properties"]["FilterExpression"]
        for r in resources.values()
        if r["Type"] == "AWS::Personalize::Filter"
    ]
    assert sorted(filters) == sorted(f["expression"] for f in config["filters"])
    assert resources["DatasetGroup"]["Properties"]["Name"] == config["name"]
