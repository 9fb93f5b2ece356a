"""First-run torch choice (dev.py + ast_core/models/torch_builds.py) with faked machines, and the
wrong-build warning. No network and no pip: the probes and the installed build are faked."""
from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CU = "https://download.pytorch.org/whl"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dev():
    return _load("ast_dev_script", ROOT / "dev.py")


@pytest.fixture(scope="module")
def builds(dev):
    return dev.torch_builds()


class Result:
    def __init__(self, stdout: str, returncode: int = 0):
        self.stdout, self.returncode = stdout, returncode


def _smi(version: str | None):
    header = f"| NVIDIA-SMI 570.86.15   Driver Version: 570.86.15   CUDA Version: {version}     |" if version else \
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    return lambda cmd: Result(header, 0 if version else 9)


def _machine(builds, *, smi=None, system="Linux", arch="x86_64", tools=(), files=()):
    which = lambda name: f"/usr/bin/{name}" if name in tools or (name == "nvidia-smi" and smi) else None  # noqa: E731
    return builds.probe_machine(which=which, run=_smi(smi) if smi else (lambda cmd: None), system=system, arch=arch,
                                exists=lambda p: p in files)


@pytest.mark.parametrize("driver, tag", [("13.1", "cu130"), ("13.0", "cu130"), ("12.9", "cu128"), ("12.8", "cu128"),
                                         ("12.6", "cu126")])
def test_nvidia_gets_the_cuda_build_its_driver_supports(builds, driver, tag):
    machine = _machine(builds, smi=driver)
    assert machine.gpu == "nvidia" and machine.cuda_driver == tuple(int(x) for x in driver.split("."))
    choice = builds.choose_torch(machine)
    assert choice.spec == f"torch==2.13.0 --index-url {CU}/{tag}" and not choice.warnings


def test_old_or_silent_nvidia_driver(builds):
    old = builds.choose_torch(_machine(builds, smi="12.4"))
    assert old.spec == "torch==2.13.0" and "update the driver" in old.warnings[0] and "12.6" in old.warnings[0]
    silent = _machine(builds, smi=None, tools=("nvidia-smi",))
    assert silent.gpu == "nvidia" and silent.cuda_driver is None and "did not report" in silent.note
    assert builds.choose_torch(silent).spec == "torch==2.13.0"


@pytest.mark.parametrize("kw, spec, reason", [
    (dict(tools=("rocm-smi",)), f"torch==2.13.0 --index-url {CU}/rocm7.1", "AMD"),
    (dict(files=("/dev/kfd",)), f"torch==2.13.0 --index-url {CU}/rocm7.1", "AMD"),
    (dict(system="Darwin", arch="arm64"), "torch==2.13.0", "Apple Silicon"),
    (dict(system="Darwin", arch="x86_64"), "torch==2.13.0", "Intel Mac"),
    (dict(), "torch==2.13.0", "no GPU found"),  # CI: the CPU wheel, quietly
    (dict(system="Windows", arch="AMD64"), "torch==2.13.0", "no GPU found"),
])
def test_other_machines(builds, kw, spec, reason):
    choice = builds.choose_torch(_machine(builds, **kw))
    assert choice.spec == spec and reason in choice.reason
    assert bool(choice.warnings) == (kw.get("arch") == "x86_64" and kw.get("system") == "Darwin")


def test_installed_build_is_read_without_importing_torch(builds, tmp_path):
    version = tmp_path / "version.py"
    version.write_text("from typing import Optional\n__version__ = '2.13.0+cu128'\ndebug = False\n"
                       "cuda: Optional[str] = '12.8'\nhip: Optional[str] = None\nxpu: Optional[str] = None\n")
    t = builds.installed_torch(version)
    assert (t.version, t.cuda, t.kind) == ("2.13.0+cu128", "12.8", "cuda")
    assert builds.installed_torch(tmp_path / "missing.py") is None
    here = builds.installed_torch()  # this environment's torch, as text
    import torch

    assert here.version == torch.__version__ and here.cuda == torch.version.cuda


@pytest.mark.parametrize("spec, version, ok", [
    (f"torch==2.13.0 --index-url {CU}/cu128", "2.13.0+cu128", True),
    (f"torch==2.13.0 --index-url {CU}/cu128", "2.13.0+cpu", False),
    (f"torch==2.13.0 --index-url {CU}/cu128", "2.12.0+cu128", False),
    (f"torch --index-url={CU}/cpu", "2.13.0+cpu", True),
    (f"torch --index-url={CU}/cpu", "2.13.0+cu126", False),
    ("torch==2.13.0", "2.13.0+cpu", True),
    ("torch==2.13.0", "2.12.1", False),
    ("torch>=2.5", "2.9.0+rocm6.4", True),
    (f"torch --extra-index-url {CU}/rocm7.1", "2.13.0+rocm7.1", True),
])
def test_what_ast_torch_asks_for_is_compared_with_the_venv(builds, spec, version, ok):
    kind = {"cu": dict(cuda="12.8"), "ro": dict(hip="7.1")}.get(version.split("+")[-1][:2] if "+" in version else "", {})
    assert builds.matches(spec, builds.InstalledTorch(version, **kind)) is ok


def test_dev_torch_action(dev, builds):
    cpu = builds.InstalledTorch("2.13.0+cpu")
    nvidia = builds.Machine("nvidia", (12, 8), "Linux", "x86_64")
    none = builds.Machine("", None, "Linux", "x86_64")
    action, spec, lines = dev.torch_action({}, builds, None, none)
    assert (action, spec) == ("install", "torch==2.13.0") and "no GPU found" in lines[0]
    action, spec, lines = dev.torch_action({}, builds, None, nvidia)
    assert (action, spec) == ("install", f"torch==2.13.0 --index-url {CU}/cu128") and "CUDA 12.8" in lines[0]
    assert dev.torch_action({"AST_TORCH": "torch==2.12.0"}, builds, None, nvidia)[:2] == ("install", "torch==2.12.0")
    # AST_TORCH set after the first run is not ignored: the venv's torch is replaced when it differs
    asked = f"torch==2.13.0 --index-url {CU}/cu128"
    action, spec, lines = dev.torch_action({"AST_TORCH": asked}, builds, cpu, nvidia)
    assert (action, spec) == ("reinstall", asked) and "but .venv has torch 2.13.0+cpu" in lines[0]
    assert dev.torch_action({"AST_TORCH": "torch==2.13.0"}, builds, cpu, nvidia) == ("keep", "torch==2.13.0", [])
    # no AST_TORCH: kept, with a warning when the machine's GPU cannot be used
    action, _, lines = dev.torch_action({}, builds, cpu, nvidia)
    assert action == "keep" and len(lines) == 1 and "has no CUDA: it is the CPU build" in lines[0]
    assert f'AST_TORCH="torch==2.13.0 --index-url {CU}/cu128"' in lines[0]
    assert dev.torch_action({}, builds, cpu, none) == ("keep", "", [])


def test_build_warning(builds):
    cpu, cuda = builds.InstalledTorch("2.13.0+cpu"), builds.InstalledTorch("2.13.0+cu128", cuda="12.8")
    rocm = builds.InstalledTorch("2.13.0+rocm7.1", hip="7.1")
    nvidia, amd = builds.Machine("nvidia", None), builds.Machine("amd")
    assert builds.build_warning(nvidia, cuda) is None and builds.build_warning(amd, rocm) is None
    assert builds.build_warning(builds.Machine(""), cpu) is None
    assert "has no CUDA: it is the CPU build, but this machine has an NVIDIA GPU" in builds.build_warning(nvidia, cpu)
    assert "has no CUDA: it is a ROCM build" in builds.build_warning(nvidia, rocm)
    assert "has no ROCm: it is a CUDA build, but this machine has an AMD GPU" in builds.build_warning(amd, cuda)


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for nvidia-smi")
def test_a_fake_nvidia_smi_on_path(builds, tmp_path, monkeypatch):
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho '| NVIDIA-SMI 580.65   Driver Version: 580.65   CUDA Version: 13.0 |'\n")
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    machine = builds.probe_machine(system="Linux", arch="x86_64")
    assert machine.gpu == "nvidia" and machine.cuda_driver == (13, 0)
    assert builds.choose_torch(machine).spec.endswith("/cu130")


def test_torch_builds_needs_only_the_standard_library():
    """dev.py loads it before any venv exists: run it with site-packages switched off."""
    code = ("import importlib.util, sys; s = importlib.util.spec_from_file_location('b', sys.argv[1]); "
            "m = importlib.util.module_from_spec(s); sys.modules['b'] = m; s.loader.exec_module(m); "
            "print(m.choose_torch(m.Machine('nvidia', (12, 8))).spec)")
    out = subprocess.run([sys.executable, "-S", "-I", "-c", code, str(ROOT / "ast_core/models/torch_builds.py")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("/cu128")
