"""Single model parts for the loader: a transformer, VAE or text encoder from a weights file, or
from a folder with a load-time quantisation (bitsandbytes, torchao), and the config folder of a
built-in model (``from_single_file`` reads configs from a folder).

Errors are :class:`ModelLoadError` lines naming the file.
"""
from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import torch

from .architecture import Architecture
from .checkpoint_files import TRANSFORMER_PREFIX, FileFacts, read_tensors
from .errors import ModelLoadError
from .quantisation import gguf_config, text_encoder_config, transformer_config


def first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:300]


def write_configs(pipe, root: Path) -> Path:
    """The built-in pipeline's component configs as a folder (from_single_file reads configs from one)."""
    for name, component in pipe.components.items():
        if hasattr(component, "save_config"):
            component.save_config(str(root / name))
        elif hasattr(component, "config") and hasattr(component.config, "save_pretrained"):
            component.config.save_pretrained(str(root / name))
    return root


def transformer_from_file(facts: FileFacts, architecture: Architecture, family_name: str, quantize: str,
                          dev: torch.device, dt, config_root: Path):
    """The transformer of a single file (or of an all-in-one checkpoint), quantised as asked."""
    prefix = TRANSFORMER_PREFIX if facts.kind == "checkpoint" else ""
    tensors = read_tensors(facts.path, prefix)
    bitsandbytes = facts.format != "gguf" and quantize in BITSANDBYTES
    qconfig = gguf_config(dt) if facts.format == "gguf" else None if bitsandbytes else transformer_config(quantize, dt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            transformer = architecture.transformer_from_file(tensors, str(config_root), dt, qconfig)
        except (KeyError, ValueError, RuntimeError) as e:
            raise ModelLoadError(f"{facts.path}: not a complete {family_name} transformer "
                                 f"({type(e).__name__}: {first_line(e)})") from e
    return bitsandbytes_transformer(architecture, transformer, quantize, dt) if bitsandbytes else transformer


#: quantisations bitsandbytes does as the weights load (the only way it quantises a plain model)
BITSANDBYTES = ("nf4", "int8")


def bitsandbytes_transformer(arch: Architecture, transformer, kind: str, dt):
    """``transformer`` (plain weights) quantised by bitsandbytes onto the GPU.

    diffusers' ``from_single_file`` takes a bitsandbytes config only for files that are
    quantised already; a plain single file is therefore loaded plainly, written as a diffusers
    folder to a temporary place, and loaded back through ``from_pretrained``, which quantises
    each weight as it arrives on the GPU (the path a diffusers folder takes)."""
    with tempfile.TemporaryDirectory(prefix="ast-studio-bnb-") as tmp:
        root = Path(tmp)
        transformer.save_pretrained(str(root / "transformer"), safe_serialization=True)
        del transformer
        return quantised_transformer(arch, root, kind, dt, None)


def quantised_transformer(arch: Architecture, root: Path, kind: str, dt, builtin):
    import diffusers

    cls = getattr(diffusers, arch.transformer_class)
    if builtin is not None:  # the built-in model has no weights on disk: write them for the quantiser
        builtin.transformer.save_pretrained(str(root / "transformer"), safe_serialization=True)
    return cls.from_pretrained(str(root), subfolder="transformer", torch_dtype=dt,
                               quantization_config=transformer_config(kind, dt), local_files_only=True)


def vae_from_file(vae: tuple[FileFacts, str], root: Path, dt):
    from diffusers import AutoencoderKL

    facts, prefix = vae
    tensors = read_tensors(facts.path, prefix, strip=False)
    try:
        return AutoencoderKL.from_single_file(tensors, config=str(root), subfolder="vae", torch_dtype=dt,
                                              local_files_only=True)
    except Exception as e:  # noqa: BLE001
        raise ModelLoadError(f"vae {facts.path}: {first_line(e)}") from e


def encoder_class(root: Path, slot: str):
    """The transformers class of text encoder ``slot`` as model_index.json names it."""
    import transformers

    index = json.loads((root / "model_index.json").read_text(encoding="utf-8"))
    entry = index.get(slot)
    cls = getattr(transformers, entry[1], None) if isinstance(entry, list) and len(entry) == 2 else None
    if cls is None:
        raise ModelLoadError(f"{root / 'model_index.json'}: no transformers class for {slot} ({entry!r})")
    return cls


def encoder_from_file(facts: FileFacts, prefix: str, root: Path, slot: str, dt, quant: str, cls):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(root / slot))
    tensors = read_tensors(facts.path, prefix)
    if not tensors:
        raise ModelLoadError(f"text encoder {facts.path}: no tensors under {prefix!r}")
    kwargs = {}
    qconfig = text_encoder_config(quant, dt)
    if qconfig is not None:
        kwargs["quantization_config"] = qconfig
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls.from_pretrained(None, config=config, state_dict=tensors, torch_dtype=dt, **kwargs)
    except Exception as e:  # noqa: BLE001
        raise ModelLoadError(f"text encoder {facts.path}: does not fit {slot} ({first_line(e)})") from e


def quantised_encoder(root: Path, slot: str, kind: str, dt, builtin):
    if builtin is not None:
        component = getattr(builtin, slot)
        component.save_pretrained(str(root / slot), safe_serialization=True)
        cls = type(component)
    else:
        cls = encoder_class(root, slot)
    return cls.from_pretrained(str(root / slot), torch_dtype=dt, quantization_config=text_encoder_config(kind, dt))
