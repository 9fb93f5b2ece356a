"""Which implementation runs a modulated attention layer.

* ``"triton"``: the fused two-pass kernel of :mod:`.triton_kernel` (CUDA and ROCm GPUs with
  the ``triton`` package; also CPU tensors under ``TRITON_INTERPRET=1``, for tests).
* ``"flex"``: two compiled FlexAttention calls (:mod:`.flex_backend`).
* ``"torch"``: the kernels of :mod:`.kernel` (threads over heads on the CPU, batched
  ``[B, H, chunk, N]`` blocks elsewhere).
* ``"auto"``: Triton on CUDA/ROCm when installed, else FlexAttention where ``torch.compile``
  of it works on that device (tried once per device type), else torch. The CPU always
  keeps the torch kernels (its thread schedule is the fast one there).

A backend asked for by name that cannot run on the device raises
:class:`BackendUnavailable` naming why. Inputs a fused backend cannot take (an attention
mask, member values other than 0/1, more segments than the bit words hold, dtypes other
than bf16/fp16/float32) run on the torch kernels; the reason is logged once.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os

import torch

from .kernel import RowGroup

log = logging.getLogger(__name__)

BACKENDS = ("auto", "triton", "flex", "torch")
LABELS = {"triton": "Triton fused kernel", "flex": "FlexAttention (compiled)",
          "torch": "torch kernels"}


class BackendUnavailable(RuntimeError):
    """A backend asked for by name cannot run here (the message says why)."""


_logged: set[tuple[str, str]] = set()
_flex_probe: dict[str, str | None] = {}
_failed: dict[tuple, str] = {}


def _log_once(backend: str, reason: str) -> None:
    if (backend, reason) not in _logged:
        _logged.add((backend, reason))
        log.warning("AST attention: %s cannot take this call (%s); using the torch kernels",
                    backend, reason)


def triton_problem() -> str | None:
    """Why the ``triton`` package cannot be used, or None."""
    if importlib.util.find_spec("triton") is None:
        return "the triton package is not installed (pip install triton)"
    try:
        importlib.import_module("triton")
    except Exception as exc:  # a broken install names itself
        return f"triton does not import: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return None


def _interpreting() -> bool:
    module = importlib.import_module(".triton_kernel", __package__)
    return bool(module.INTERPRETED)


def _triton_device_problem(device: torch.device) -> str | None:
    if device.type == "cuda":
        return None
    if device.type == "cpu" and os.environ.get("TRITON_INTERPRET", "0") == "1" \
            and _interpreting():
        return None
    return f"it needs a CUDA or ROCm GPU, the tensors are on {device.type}"


def flex_problem(device: torch.device | str) -> str | None:
    """Why compiled FlexAttention does not work on ``device`` (on devices other than CUDA,
    a tiny compiled call is tried once per device type), or None."""
    device = torch.device(device)
    if device.type not in _flex_probe:
        _flex_probe[device.type] = _probe_flex(device)
    return _flex_probe[device.type]


def _probe_flex(device: torch.device) -> str | None:
    if importlib.util.find_spec("torch.nn.attention.flex_attention") is None:
        return f"torch {torch.__version__} has no FlexAttention (needs torch >= 2.5)"
    if device.type == "cuda":
        # inductor compiles FlexAttention to Triton there: with triton it works (a failure
        # of a real call still says so), without it it cannot
        if triton_problem():
            return "torch.compile of FlexAttention needs triton on a GPU (not installed)"
        return None
    try:
        from .flex_backend import _lse_call
        compiled = torch.compile(_lse_call, dynamic=False)
        q = torch.randn(1, 1, 128, 16, device=device)
        compiled(q, q, q, 0.25)
    except Exception as exc:
        text = str(exc).strip().splitlines()
        return f"torch.compile of FlexAttention failed on {device.type}: " \
               f"{text[0] if text else type(exc).__name__}"
    return None


def attention_backend(device: torch.device | str, requested: str = "auto") -> str:
    """The backend a modulated layer on ``device`` runs with: ``"triton"``, ``"flex"`` or
    ``"torch"`` (for the model settings and the image metadata). A backend requested by
    name that cannot run raises :class:`BackendUnavailable`."""
    if requested not in BACKENDS:
        raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {requested!r}")
    device = torch.device(device)
    if requested == "torch":
        return "torch"
    if requested == "triton":
        problem = triton_problem() or _triton_device_problem(device)
        if problem:
            raise BackendUnavailable(f"backend 'triton' cannot run: {problem}")
        return "triton"
    if requested == "flex":
        problem = flex_problem(device)
        if problem:
            raise BackendUnavailable(f"backend 'flex' cannot run: {problem}")
        return "flex"
    if device.type == "cpu":
        return "torch"
    if device.type == "cuda" and triton_problem() is None:
        return "triton"
    return "flex" if flex_problem(device) is None else "torch"


def describe_backend(device: torch.device | str) -> str:
    """One line for people: what ``auto`` runs on ``device`` and why, without compiling
    anything (a GUI may call it)."""
    device = torch.device(device)
    if device.type == "cpu":
        return "torch kernels (CPU)"
    if device.type == "cuda":
        problem = triton_problem()
        if problem is None:
            return "Triton fused kernel"
        return f"torch kernels ({problem})"
    probed = _flex_probe.get(device.type, "untried")
    if probed is None:
        return "FlexAttention (compiled)"
    if probed == "untried":
        return f"FlexAttention if torch.compile works on {device.type}, else torch kernels"
    return f"torch kernels ({probed})"


def run_fused(backend: str, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
              groups: list[RowGroup], scale: float,
              attn_mask: torch.Tensor | None) -> torch.Tensor | None:
    """The result of the fused backend ``backend`` resolves to, or None where the torch
    kernels must run (``"torch"``, or inputs the fused backend cannot take)."""
    name = attention_backend(query.device, backend)
    if name == "torch":
        return None
    if attn_mask is not None:
        _log_once(name, "an attention mask")
        return None
    if name == "triton":
        from .triton_kernel import check_inputs, triton_modulated_attention as run
    else:
        from .flex_backend import check_inputs, flex_modulated_attention as run
    problem = check_inputs(query, key, value)
    if problem is None:
        from .segment_bits import Unsupported, segment_bits
        try:
            bits = segment_bits(groups, query.shape[1], query.device)
        except Unsupported as exc:
            problem = str(exc)
    if problem is not None:
        _log_once(name, problem)
        return None
    shape_key = (name, query.device.type, query.dtype, query.shape[-1], value.shape[-1])
    if backend == "auto" and shape_key in _failed:
        return None
    try:
        return run(query, key, value, groups, scale, bits)
    except torch.OutOfMemoryError:
        raise
    except Exception as exc:
        text = str(exc).strip().splitlines()
        reason = f"{type(exc).__name__}: {text[0] if text else ''}"
        if backend != "auto":
            raise BackendUnavailable(f"backend '{name}' failed: {reason}") from exc
        _failed[shape_key] = reason
        log.exception("AST attention: the %s backend failed (%s); using the torch kernels "
                      "for this shape from now on", name, reason)
        return None
