"""Which torch device and dtype to run on.

``auto`` picks the first that works of: CUDA (NVIDIA, and AMD through ROCm builds, which
answer as ``torch.cuda``; ``torch.version.hip`` tells them apart), Intel XPU (``torch.xpu``),
Apple MPS, CPU. A device asked for by name that this torch cannot use gets one line saying
why: the wrong build (``this torch has no CUDA: it is the CPU build; ...``) or no GPU visible.

Precision ``auto``: bf16 on CUDA/ROCm and XPU; on Apple MPS bf16 where the MPS backend has it
(macOS 14+), else f32. Not fp16 on MPS: FLUX's T5 and transformer overflow in fp16 (the images
come out black or as noise; InvokeAI and ComfyUI users reported the same and run FLUX in bf16
on Macs), and diffusers documents FLUX in bf16. f32 on the CPU.
"""
from __future__ import annotations

import torch

from .torch_builds import build_warning, installed_torch, probe_machine, suggested_spec

DTYPES = {
    "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
    "fp16": torch.float16, "float16": torch.float16,
    "f32": torch.float32, "fp32": torch.float32, "float32": torch.float32,
}
DTYPE_NAMES = {torch.bfloat16: "bf16", torch.float16: "fp16", torch.float32: "f32"}
DEVICE_HELP = "auto, cpu, cuda, cuda:N, xpu, xpu:N or mps"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _xpu_available() -> bool:
    xpu = getattr(torch, "xpu", None)
    return bool(xpu is not None and xpu.is_available())


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    if device is None or str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _xpu_available():
            return torch.device("xpu")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"unknown device {device!r} (use {DEVICE_HELP})") from e
    if dev.type == "cuda":
        if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
            raise ValueError(wrong_build_message("CUDA"))
        if not torch.cuda.is_available():
            gpu = "ROCm" if getattr(torch.version, "hip", None) else "CUDA"
            raise ValueError(f"device 'cuda' asked for, but this {gpu} build of torch ({torch.__version__}) sees no "
                             f"GPU: is the driver installed and the GPU visible (CUDA_VISIBLE_DEVICES / "
                             f"HIP_VISIBLE_DEVICES)?")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: torch sees {torch.cuda.device_count()} GPU(s), numbered from 0")
    elif dev.type == "xpu":
        if getattr(torch, "xpu", None) is None or (not _xpu_available() and "+xpu" not in torch.__version__):
            raise ValueError(wrong_build_message("XPU"))
        if not _xpu_available():
            raise ValueError(f"device 'xpu' asked for, but torch ({torch.__version__}) sees no Intel GPU: "
                             "is the Intel GPU driver installed?")
    elif dev.type == "mps" and not _mps_available():
        raise ValueError("device 'mps' asked for, but torch sees no Apple GPU (MPS needs macOS 12.3+ on "
                         "Apple Silicon)")
    elif dev.type not in ("cpu", "cuda", "xpu", "mps"):
        raise ValueError(f"unsupported device {device!r} (use {DEVICE_HELP})")
    return dev


def wrong_build_message(backend: str) -> str:
    """``this torch has no CUDA: it is the CPU build; reinstall with ...`` for the installed build."""
    built = installed_torch()
    version = built.version if built else torch.__version__
    kind = built.kind if built else "cpu"
    what = "the CPU build" if kind == "cpu" else f"a {kind.upper()} build"
    if backend == "XPU":
        fix = 'AST_TORCH="torch --index-url https://download.pytorch.org/whl/xpu"'
    else:
        fix = f'AST_TORCH="{suggested_spec()}"'
    return (f"this torch ({version}) has no {backend}: it is {what}; reinstall with {fix} python3.11 dev.py app "
            f"(dev.py replaces torch when AST_TORCH asks for another build)")


def device_label(dev: torch.device) -> str:
    """"CUDA (NVIDIA H200)", "ROCm (AMD ...)", "Intel XPU (...)", "Apple MPS" or "CPU"."""
    try:
        if dev.type == "cuda":
            name = torch.cuda.get_device_name(dev)
            return f"{'ROCm' if getattr(torch.version, 'hip', None) else 'CUDA'} ({name})"
        if dev.type == "xpu":
            return f"Intel XPU ({torch.xpu.get_device_name(dev)})"
    except (RuntimeError, AssertionError, AttributeError):
        pass
    return {"mps": "Apple MPS", "cpu": "CPU"}.get(dev.type, dev.type)


def startup_warning() -> str | None:
    """One line when the machine has a GPU this torch cannot use (for the CLI and the studio's log)."""
    return build_warning(probe_machine(), installed_torch())


def mps_supports_bf16() -> bool:
    """bf16 on MPS needs macOS 14+; tried with a tiny op (assumed when no Apple GPU is here)."""
    if not _mps_available():
        return True
    try:
        x = torch.ones(2, device="mps", dtype=torch.bfloat16)
        return bool((x * x).sum().item() == 2)
    except (RuntimeError, TypeError):
        return False


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is None or dtype == "auto":
        if device.type in ("cuda", "xpu"):
            return torch.bfloat16
        if device.type == "mps":
            return torch.bfloat16 if mps_supports_bf16() else torch.float32
        return torch.float32
    try:
        return DTYPES[str(dtype).lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r} (use auto, bf16, fp16 or f32)") from None
