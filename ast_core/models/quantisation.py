"""Weight quantisation of the transformer and the T5 text encoder, and what each needs.

The choices are :data:`ast_core.models.options.QUANTISATIONS`:

* ``fp8``: layer-wise casting (diffusers' hooks): weights stored as ``float8_e4m3fn`` and cast
  to the compute precision one layer at a time. Pure torch, so CPU, CUDA, ROCm and XPU; not
  Apple MPS (no float8 there). Norms, embeddings and the patch/position embedders stay in
  the compute precision. T5's feed-forward blocks are cast as one unit because T5 casts its
  input to ``wo``'s weight dtype before calling it.
* ``nf4`` / ``int8``: bitsandbytes through diffusers' / transformers' ``BitsAndBytesConfig``,
  applied while loading; NVIDIA CUDA only.
* ``torchao-int8`` / ``torchao-fp8``: torchao weight-only configs through ``TorchAoConfig``.
* GGUF files (city96's FLUX/SD3.5 quantisations) are quantised already: diffusers'
  ``GGUFQuantizationConfig`` keeps their blocks quantised and dequantises per layer; needs ``gguf``.

Every check raises :class:`QuantisationError` with one line saying what is missing and what
to do. AST and the regional attention act on the attention's query/key/value after the
projections, so they work unchanged on every one of these.
"""
from __future__ import annotations

import importlib.util
from typing import Any

#: pip extras of ast-studio that bring each optional package.
EXTRAS = {"bitsandbytes": "nf4", "gguf": "gguf", "torchao": "torchao"}
PACKAGES = {"nf4": "bitsandbytes", "int8": "bitsandbytes", "torchao-int8": "torchao", "torchao-fp8": "torchao"}
LOAD_TIME = ("nf4", "int8", "torchao-int8", "torchao-fp8")  # applied by the loader's quantisation config


class QuantisationError(ValueError):
    """A quantisation this device or these packages cannot do; the message says what to do."""


def has_package(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _install_hint(package: str) -> str:
    return f".venv/bin/pip install {package} (or install ast-studio[{EXTRAS[package]}])"


def require_gguf() -> None:
    if not has_package("gguf"):
        raise QuantisationError(f"GGUF files need the gguf package: {_install_hint('gguf')}")


def check(kind: str, device, what: str = "quantize") -> None:
    """Raise QuantisationError when ``kind`` cannot run on ``device`` (a torch.device) here."""
    if kind == "none":
        return
    import torch

    if kind == "fp8":
        if device.type == "mps":
            raise QuantisationError(f"{what} fp8: Apple MPS has no float8 type; use none, or a GGUF file for "
                                    "the transformer")
        if not hasattr(torch, "float8_e4m3fn"):
            raise QuantisationError(f"{what} fp8 needs torch 2.1 or newer (this is {torch.__version__})")
        return
    package = PACKAGES.get(kind)
    if package is None:
        raise QuantisationError(f"{what}: unknown quantisation {kind!r}")
    if package == "bitsandbytes" and device.type != "cuda":
        raise QuantisationError(f"{what} {kind} (bitsandbytes) runs on NVIDIA CUDA GPUs only, this run is on "
                                f"{device.type}; use fp8 or a GGUF file instead")
    if not has_package(package):
        raise QuantisationError(f"{what} {kind} needs the {package} package: {_install_hint(package)}")
    if kind == "torchao-fp8" and device.type == "cuda" and torch.cuda.get_device_capability(device) < (8, 9):
        raise QuantisationError(f"{what} torchao-fp8 needs an NVIDIA GPU of compute capability 8.9+ (Ada, Hopper); "
                                "use fp8 (layer-wise casting) or torchao-int8")


def _load_time_config(library: str, kind: str, dtype) -> Any:
    """``library``'s (diffusers' or transformers') config for a load-time ``kind`` (None for none / fp8)."""
    import importlib

    classes = importlib.import_module(library)
    if kind in ("nf4", "int8"):
        if kind == "nf4":
            return classes.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                              bnb_4bit_compute_dtype=dtype)
        return classes.BitsAndBytesConfig(load_in_8bit=True)
    if kind.startswith("torchao-"):
        return classes.TorchAoConfig(_torchao_config(kind))
    return None


def transformer_config(kind: str, dtype) -> Any:
    """diffusers' quantisation config for a load-time ``kind`` (None for none / fp8)."""
    return _load_time_config("diffusers", kind, dtype)


def text_encoder_config(kind: str, dtype) -> Any:
    """transformers' quantisation config for a load-time ``kind`` (None for none / fp8)."""
    return _load_time_config("transformers", kind, dtype)


def gguf_config(dtype) -> Any:
    require_gguf()
    from diffusers import GGUFQuantizationConfig

    return GGUFQuantizationConfig(compute_dtype=dtype)


def _torchao_config(kind: str):
    from torchao.quantization import Float8WeightOnlyConfig, Int8WeightOnlyConfig

    return Int8WeightOnlyConfig() if kind == "torchao-int8" else Float8WeightOnlyConfig()


def apply_fp8(transformer, compute_dtype) -> None:
    """Store the transformer's weights in fp8, computing in ``compute_dtype`` (diffusers' default skips)."""
    import torch

    transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=compute_dtype)


def apply_fp8_text_encoder(encoder, compute_dtype) -> None:
    """fp8 storage for a T5 encoder: attention projections one by one, each feed-forward block as a unit."""
    import torch
    from diffusers.hooks.layerwise_casting import apply_layerwise_casting_hook

    modules = dict(encoder.named_modules())
    blocks = [n for n, m in modules.items() if type(m).__name__.startswith("T5Dense")]
    units = [modules[n] for n in blocks] + [
        m for n, m in modules.items()
        if isinstance(m, torch.nn.Linear) and not any(n.startswith(b + ".") for b in blocks)]
    for unit in units:
        apply_layerwise_casting_hook(unit, torch.float8_e4m3fn, compute_dtype, non_blocking=False)


def storage_summary(module) -> str:
    """"fp8 e4m3 (81%), f32" - how a module's parameters are stored, for tests and messages."""
    from collections import Counter

    counts: Counter = Counter()
    for p in module.parameters():
        counts[str(p.dtype).replace("torch.", "")] += p.numel()
    total = sum(counts.values()) or 1
    return ", ".join(f"{k} ({100 * v / total:.0f}%)" for k, v in counts.most_common())
