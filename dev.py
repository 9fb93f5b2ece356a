#!/usr/bin/env python3
"""Set up a local virtual environment and run AST Studio or its tests.

    python3.11 dev.py app [ARGS...]   create .venv if needed, install, launch the studio
    python3.11 dev.py test [PYTEST ARGS...]   create .venv if needed, install, run the whole suite

Needs only Python 3.10+ on the machine. The environment lives in ./.venv and is
reused on the next run (installation is skipped while pyproject.toml is unchanged).

PyTorch: the first run picks the build for this machine (ast_core/models/torch_builds.py):
an NVIDIA GPU (``nvidia-smi``) gets the CUDA build matching the driver from the PyTorch
index, an AMD GPU (ROCm) the ROCm build, Apple Silicon the default wheel (MPS), anything
else ``torch==2.13.0`` (the CPU build CI uses). ``AST_TORCH`` overrides the choice with pip
arguments, e.g. ``AST_TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"``;
set on a later run it replaces the venv's torch when that is not what it asks for. A venv
whose torch cannot use this machine's GPU gets a warning line on every run.
"""
from __future__ import annotations

import hashlib
import importlib.util
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


def torch_builds():
    """ast_core/models/torch_builds.py, loaded by path (standard library only; no venv needed)."""
    path = ROOT / "ast_core" / "models" / "torch_builds.py"
    spec = importlib.util.spec_from_file_location("ast_studio_torch_builds", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def venv_torch_version_file() -> Path | None:
    """torch/version.py inside .venv (read as text: the venv's torch is never imported here)."""
    for found in sorted(VENV.glob("lib/python3*/site-packages/torch/version.py")) + sorted(
            VENV.glob("Lib/site-packages/torch/version.py")):
        return found
    return None


def torch_action(env: dict, builds, installed, machine=None) -> tuple[str, str, list[str]]:
    """What to do about torch: ("install" | "reinstall" | "keep", pip arguments, lines to print).

    ``installed`` is the venv's torch (builds.InstalledTorch) or None; ``machine`` is probed
    only when needed (no AST_TORCH and no torch yet, or to check the installed build).
    """
    asked = env.get("AST_TORCH", "").strip()
    if installed is None:
        if asked:
            return "install", asked, [f"dev.py: installing torch as AST_TORCH asks: {asked}"]
        choice = builds.choose_torch(machine or builds.probe_machine())
        lines = [f"dev.py: {choice.reason}: installing {choice.spec} (set AST_TORCH to choose another build)"]
        return "install", choice.spec, lines + [f"dev.py: warning: {w}" for w in choice.warnings]
    if asked:
        if builds.matches(asked, installed):
            return "keep", asked, []
        return "reinstall", asked, [f"dev.py: AST_TORCH asks for {asked!r} but .venv has torch {installed.version} "
                                    f"({installed.kind}); replacing it"]
    warning = builds.build_warning(machine or builds.probe_machine(), installed)
    return "keep", "", [f"dev.py: warning: {warning}"] if warning else []


def ensure_torch(py: Path) -> None:
    builds = torch_builds()
    version_file = venv_torch_version_file()
    installed = builds.installed_torch(version_file) if version_file else None
    action, spec, lines = torch_action(dict(os.environ), builds, installed)
    for line in lines:
        print(line, file=sys.stderr if "warning" in line else sys.stdout, flush=True)
    if action == "keep":
        return
    try:
        if action == "reinstall":
            run([py, "-m", "pip", "uninstall", "--disable-pip-version-check", "-y", "torch"])
        run([py, "-m", "pip", "install", "--disable-pip-version-check", *shlex.split(spec)])
    except subprocess.CalledProcessError:
        sys.exit(f"dev.py: installing torch ({spec}) failed, see pip's output above; check AST_TORCH and the "
                 "network, then run dev.py again")
    version_file = venv_torch_version_file()
    got = builds.installed_torch(version_file) if version_file else None
    if got is not None and not builds.matches(spec, got):
        print(f"dev.py: warning: pip installed torch {got.version}, not the build {spec!r} asks for "
              "(an index or a local wheel took precedence); set AST_TORCH to pick the build", file=sys.stderr)


def ensure_env() -> Path:
    if sys.version_info < (3, 10):
        sys.exit(f"dev.py: Python 3.10 or newer is needed, this is {sys.version.split()[0]}")
    py = venv_python()
    if not py.exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    ensure_torch(py)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return py
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
