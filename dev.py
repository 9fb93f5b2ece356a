#!/usr/bin/env python3
"""Set up a local virtual environment and run AST Studio or its tests.

    python3.11 dev.py app [ARGS...]   create .venv if needed, install, launch the studio
    python3.11 dev.py test [PYTEST ARGS...]   create .venv if needed, install, run the whole suite

Needs only Python 3.10+ on the machine. The environment lives in ./.venv and is
reused on the next run (installation is skipped while pyproject.toml is unchanged).

PyTorch: if the venv has no torch yet, ``AST_TORCH`` (default ``torch==2.13.0``, the
CPU build used by CI) is installed first. For a GPU build set e.g.
``AST_TORCH="torch --index-url https://download.pytorch.org/whl/cu124"`` before the
first run, or install torch into .venv yourself: the project accepts any torch >= 2.5.
"""
from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".ast-studio-installed"


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def run(cmd: list[str], **kw) -> None:
    print("+", " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def ensure_env() -> Path:
    if sys.version_info < (3, 10):
        sys.exit(f"dev.py: Python 3.10 or newer is needed, this is {sys.version.split()[0]}")
    py = venv_python()
    if not py.exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return py
    has_torch = subprocess.run([str(py), "-c", "import torch"], capture_output=True).returncode == 0
    if not has_torch:
        spec = os.environ.get("AST_TORCH", "torch==2.13.0")
        run([py, "-m", "pip", "install", "--disable-pip-version-check", *shlex.split(spec)])
    run([py, "-m", "pip", "install", "--disable-pip-version-check", "-e", f"{ROOT}[test]"])
    STAMP.write_text(wanted)
    return py


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("app", "test"):
        print(__doc__)
        return 2
    py = ensure_env()
    if argv[0] == "app":
        return subprocess.call([str(py), "-m", "ast_studio", *argv[1:]], cwd=ROOT)
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    code = subprocess.call([str(py), "-m", "pytest", "-q", *argv[1:]], cwd=ROOT, env=env)
    if code == 5:  # pytest: no tests collected
        print("dev.py: pytest collected no tests", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
