"""The example projects in resources/examples load and match what make_examples.py builds."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ast_core.project import load_project

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def _maker():
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name,count", [("beach", 6), ("living_room", 9), ("winter_night", 8)])
def test_example_is_current(tmp_path, name, count):
    committed = load_project(EXAMPLES / f"{name}.astproj")
    assert len(committed.layout.instances) == count
    rebuilt = load_project(_maker().build(name, tmp_path))
    assert committed.layout.same_as(rebuilt.layout), "run resources/examples/make_examples.py"
    assert committed.settings == rebuilt.settings and "seed" in committed.settings.to_dict()["generation"]
