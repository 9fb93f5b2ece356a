"""ast_core must never import Qt: checked by importing it with PySide6 blocked, and by import-linter."""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = textwrap.dedent("""
    import importlib, importlib.abc, pkgutil, sys

    class NoQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6", "ast_studio"):
                raise ImportError(f"{name} is blocked: ast_core must not import Qt or the studio")
            return None

    sys.meta_path.insert(0, NoQt())
    import ast_core
    names = [m.name for m in pkgutil.walk_packages(ast_core.__path__, "ast_core.")]
    for name in names:
        importlib.import_module(name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    assert not leaked, leaked
    print(len(names), "modules")
""")


@pytest.mark.slow
def test_ast_core_imports_with_qt_blocked():
    proc = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "modules" in proc.stdout


def test_import_linter_contract_is_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    exe = str(exe) if exe.exists() else shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e .[test])")
    proc = subprocess.run([exe, "--no-cache"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "broken" in proc.stdout and "0 broken" in proc.stdout
