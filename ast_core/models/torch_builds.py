"""Which PyTorch build fits this machine, and whether the installed one can use its GPU.

Standard library only and no package-relative imports: ``dev.py`` loads this file by path
before any virtual environment exists, and the studio calls :func:`build_warning` at startup
without importing torch (it reads ``torch/version.py`` as text).

* NVIDIA (``nvidia-smi`` answers): the CUDA build from the PyTorch index matching the
  driver's CUDA version (the newest of ``CUDA_BUILDS`` the driver supports).
* AMD (``rocm-smi`` or ``/dev/kfd``, Linux): the ROCm build (``ROCM_BUILD``).
* Apple Silicon (macOS arm64): PyPI's default wheel, which has the MPS backend.
* Otherwise: ``TORCH`` from PyPI, the build CI uses (CPU).
Intel GPUs are not detected (integrated ones are everywhere); their XPU build is
``AST_TORCH="torch==X --index-url https://download.pytorch.org/whl/xpu"``.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

TORCH_VERSION = "2.13.0"
TORCH = f"torch=={TORCH_VERSION}"
INDEX = "https://download.pytorch.org/whl"
#: CUDA builds PyTorch publishes for TORCH_VERSION: (lowest driver CUDA version, index tag), newest first.
CUDA_BUILDS: tuple[tuple[tuple[int, int], str], ...] = (((13, 0), "cu130"), ((12, 8), "cu128"), ((12, 6), "cu126"))
ROCM_BUILD = "rocm7.1"
_CUDA_VERSION = re.compile(r"CUDA Version\s*:\s*(\d+)\.(\d+)")


@dataclass(frozen=True)
class Machine:
    """What accelerator this machine has, as far as can be told without torch."""

    gpu: str  # "nvidia", "amd", "apple" or "" (none found)
    cuda_driver: tuple[int, int] | None = None  # the CUDA version the NVIDIA driver supports
    system: str = ""
    arch: str = ""
    note: str = ""


@dataclass(frozen=True)
class TorchChoice:
    """What to install: pip arguments (``spec``), and why, for the first run's message."""

    spec: str
    reason: str
    warnings: tuple[str, ...] = field(default_factory=tuple)


Runner = Callable[[list[str]], "subprocess.CompletedProcess[str] | None"]


def _run(cmd: list[str]):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None


def probe_machine(which: Callable[[str], str | None] = shutil.which, run: Runner = _run,
                  system: str | None = None, arch: str | None = None,
                  exists: Callable[[str], bool] = os.path.exists) -> Machine:
    """Look for an NVIDIA driver, an AMD ROCm driver or Apple Silicon (every probe can be faked in tests)."""
    system = system or platform.system()
    arch = (arch or platform.machine()).lower()
    if which("nvidia-smi"):
        out = run(["nvidia-smi"])
        text = (out.stdout or "") if out is not None and out.returncode == 0 else ""
        m = _CUDA_VERSION.search(text)
        if m:
            return Machine("nvidia", (int(m.group(1)), int(m.group(2))), system, arch)
        return Machine("nvidia", None, system, arch, "nvidia-smi is installed but did not report a CUDA version "
                       "(is the driver loaded?)")
    if system == "Linux" and (which("rocm-smi") or which("amd-smi") or exists("/dev/kfd")):
        return Machine("amd", None, system, arch)
    if system == "Darwin" and arch in ("arm64", "aarch64"):
        return Machine("apple", None, system, arch)
    return Machine("", None, system, arch)


def choose_torch(machine: Machine) -> TorchChoice:
    """The torch build for ``machine`` (``AST_TORCH`` overrides this in dev.py)."""
    if machine.gpu == "nvidia":
        if machine.cuda_driver is None:
            return TorchChoice(TORCH, "an NVIDIA GPU was found but not its CUDA version",
                               (machine.note,) if machine.note else ())
        for lowest, tag in CUDA_BUILDS:
            if machine.cuda_driver >= lowest:
                driver = "%d.%d" % machine.cuda_driver
                return TorchChoice(f"{TORCH} --index-url {INDEX}/{tag}",
                                   f"NVIDIA GPU, its driver supports CUDA {driver}")
        oldest = "%d.%d" % CUDA_BUILDS[-1][0]
        driver = "%d.%d" % machine.cuda_driver
        return TorchChoice(TORCH, "NVIDIA GPU with an old driver", (
            f"the NVIDIA driver supports CUDA {driver}, torch {TORCH_VERSION}'s GPU builds need {oldest} or newer: "
            "update the driver and delete .venv to get a GPU build",))
    if machine.gpu == "amd":
        return TorchChoice(f"{TORCH} --index-url {INDEX}/{ROCM_BUILD}", "AMD GPU (ROCm)")
    if machine.gpu == "apple":
        return TorchChoice(TORCH, "Apple Silicon (the default build has Metal / MPS)")
    if machine.system == "Darwin":
        return TorchChoice(TORCH, "Intel Mac (CPU only)", (
            f"PyTorch stopped publishing Intel-Mac builds at 2.2; torch {TORCH_VERSION} may not install here",))
    return TorchChoice(TORCH, "no GPU found (the CPU build)")


# ---------------------------------------------------------------------- the installed torch
@dataclass(frozen=True)
class InstalledTorch:
    version: str
    cuda: str | None = None
    hip: str | None = None
    xpu: str | None = None

    @property
    def kind(self) -> str:
        """"cuda", "rocm", "xpu" or "cpu" (macOS wheels report "cpu" and carry MPS)."""
        if self.hip:
            return "rocm"
        if self.cuda:
            return "cuda"
        if self.xpu or "+xpu" in self.version:
            return "xpu"
        return "cpu"


def installed_torch(version_file: str | Path | None = None) -> InstalledTorch | None:
    """The installed torch's build, read from ``torch/version.py`` without importing torch."""
    if version_file is None:
        try:
            spec = importlib.util.find_spec("torch")
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin:
            return None
        version_file = Path(spec.origin).with_name("version.py")
    try:
        text = Path(version_file).read_text(encoding="utf-8")
    except OSError:
        return None
    values: dict[str, object] = {}
    for node in ast.parse(text).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and value is not None:
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    version = values.get("__version__")
    if not isinstance(version, str):
        return None

    def text_or_none(key: str) -> str | None:
        v = values.get(key)
        return v if isinstance(v, str) and v else None

    return InstalledTorch(version, text_or_none("cuda"), text_or_none("hip"), text_or_none("xpu"))


def matches(spec: str, torch: InstalledTorch) -> bool:
    """Whether the installed torch is what ``spec`` (AST_TORCH's pip arguments) asks for.

    ``torch==V`` must match the version (local tag aside); an index URL ending in ``/cu128``,
    ``/rocm7.1``, ``/xpu`` or ``/cpu`` must match the build's tag. Anything not stated matches.
    """
    words = spec.split()
    for w in words:
        m = re.match(r"^torch==([\w.]+)$", w)
        if m and torch.version.split("+")[0] != m.group(1):
            return False
    for i, w in enumerate(words):
        url = words[i + 1] if w in ("--index-url", "--extra-index-url", "-i") and i + 1 < len(words) else (
            w.split("=", 1)[1] if w.startswith(("--index-url=", "--extra-index-url=")) else "")
        tag = url.rstrip("/").rsplit("/", 1)[-1] if url else ""
        if not tag:
            continue
        local = torch.version.split("+", 1)[1] if "+" in torch.version else ""
        if tag == "cpu" and torch.kind != "cpu":
            return False
        if tag.startswith(("cu", "rocm", "xpu")) and local != tag:
            return False
    return True


def suggested_spec(machine: Machine | None = None) -> str:
    """The AST_TORCH value to reinstall with on this machine."""
    return choose_torch(machine or probe_machine()).spec


def build_warning(machine: Machine | None = None, torch: InstalledTorch | None = None) -> str | None:
    """One line when this machine has a GPU the installed torch cannot use; None when all is well.

    Cheap (no torch import, no nvidia-smi run unless ``machine`` is None and a driver is found).
    """
    torch = torch or installed_torch()
    if torch is None:
        return None
    if machine is None:
        machine = probe_machine()
    spec = choose_torch(machine).spec
    fix = "delete .venv and run dev.py again (it picks the GPU build)" + (
        f', or set AST_TORCH="{spec}"' if "--index-url" in spec else "")
    if machine.gpu == "nvidia" and torch.kind != "cuda":
        what = "the CPU build" if torch.kind == "cpu" else f"a {torch.kind.upper()} build"
        return f"this torch ({torch.version}) has no CUDA: it is {what}, but this machine has an NVIDIA GPU; {fix}"
    if machine.gpu == "amd" and torch.kind != "rocm":
        what = "the CPU build" if torch.kind == "cpu" else f"a {torch.kind.upper()} build"
        return f"this torch ({torch.version}) has no ROCm: it is {what}, but this machine has an AMD GPU; {fix}"
    return None
