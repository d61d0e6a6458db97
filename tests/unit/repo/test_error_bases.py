"""One error base per package: every exception class defined in pipeline, local_stack and
personalize_rules and chalicelib derives from its package's base, which carries `where` and `why`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest

from chalicelib.errors import ApiBaseError
from local_stack.errors import LocalStackError
from personalize_rules.errors import RulesError
from pipeline.errors import PipelineError

BASES: dict[str, type[Exception]] = {
    "pipeline": PipelineError,
    "local_stack": LocalStackError,
    "personalize_rules": RulesError,
    "chalicelib": ApiBaseError,
}
# Not domain errors, or not ours to rebase.
EXEMPT = {
    # moto answers a CloudFormation resource failure only as its own ValidationError.
    "local_stack.personalize.cloudformation.PersonalizeCfnError",
}


def _modules(package: str) -> list[str]:
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def _exception_classes(package: str) -> list[type[BaseException]]:
    found = []
    for name in _modules(package):
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == name:
                found.append(obj)
    return found


@pytest.mark.parametrize("package", sorted(BASES))
def test_every_exception_class_derives_from_its_package_base(package: str) -> None:
    strays = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _exception_classes(package)
        if not issubclass(cls, BASES[package]) and f"{cls.__module__}.{cls.__qualname__}" not in EXEMPT
    ]
    assert strays == []


@pytest.mark.parametrize("base", list(BASES.values()), ids=lambda base: base.__name__)
def test_a_base_carries_where_and_why_and_words_them(base: Any) -> None:
    error = base("interactions.csv line 3", "TIMESTAMP is not a number")
    assert (error.where, error.why) == ("interactions.csv line 3", "TIMESTAMP is not a number")
    assert str(error) == "interactions.csv line 3: TIMESTAMP is not a number"
