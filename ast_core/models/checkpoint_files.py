"""Single weight files: what a ``.safetensors`` or ``.gguf`` file holds, told from its header alone.

:func:`inspect_file` reads only the header (safetensors: 8 bytes + the JSON table; GGUF: the
key/value block and the tensor table) and never loads the weights, so scanning a models
folder of 100 GB takes a moment. A file is one of:

* ``transformer``: a diffusion transformer alone (original or diffusers key layout, or GGUF);
* ``checkpoint``: an all-in-one file (transformer under ``model.diffusion_model.`` plus a VAE
  and/or text encoders);
* ``vae``; ``text_encoder`` (``encoder`` says which: ``clip-l``, ``clip-g`` or ``t5``);
* ``lora``; or ``unknown`` (``note`` says what it looks like).

Which model family a transformer or LoRA belongs to is asked of the architecture adapters
(``Architecture.recognise`` / ``recognise_lora``): nothing here knows a family.
:func:`scan_folder` lists a ComfyUI-style models folder (``checkpoints/``,
``diffusion_models/`` or ``unet/``, ``clip/`` or ``text_encoders/``, ``vae/``, ``loras/``).
No torch here.
"""
from __future__ import annotations

import json
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

TRANSFORMER_PREFIX = "model.diffusion_model."
VAE_PREFIXES = ("first_stage_model.", "vae.")
#: All-in-one checkpoints keep their text encoders under these prefixes (HF layout after them).
ENCODER_PREFIXES = {
    "clip-l": "text_encoders.clip_l.transformer.",
    "clip-g": "text_encoders.clip_g.transformer.",
    "t5": "text_encoders.t5xxl.transformer.",
}
WEIGHT_SUFFIXES = (".safetensors", ".sft", ".gguf")
#: ComfyUI's models folder: sub-folder -> what it usually holds.
COMFY_FOLDERS = {
    "checkpoints": "checkpoint", "diffusion_models": "transformer", "unet": "transformer",
    "clip": "text_encoder", "text_encoders": "text_encoder", "vae": "vae", "loras": "lora",
}
MAX_HEADER = 200 * 1024 * 1024

_SAFETENSORS_DTYPES = {
    "F64": "f64", "F32": "f32", "F16": "fp16", "BF16": "bf16", "F8_E4M3": "fp8 e4m3", "F8_E5M2": "fp8 e5m2",
    "I8": "int8", "U8": "uint8", "I16": "int16", "I32": "int32", "I64": "int64", "BOOL": "bool",
}
_GGML_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K",
    12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S",
    20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
    29: "IQ1_M", 30: "BF16",
}


class CheckpointFileError(ValueError):
    """A weights file cannot be read or is not what was expected; the message names the file."""


@dataclass
class FileFacts:
    """What one weights file holds (see the module docstring for ``kind``)."""

    path: Path
    format: str  # "safetensors" or "gguf"
    size: int
    tensors: dict[str, tuple[int, ...]] = field(repr=False, default_factory=dict)
    dtypes: Counter = field(repr=False, default_factory=Counter)
    kind: str = "unknown"
    architecture: str = ""  # an adapter's name
    family: str = ""  # a family name ("" when the adapter cannot tell)
    encoder: str = ""  # clip-l, clip-g, t5 (text encoders), or the encoders inside a checkpoint
    parts: tuple[str, ...] = ()  # checkpoint: "transformer", "vae", "clip-l", "t5"...
    note: str = ""

    @property
    def storage(self) -> str:
        """The weights' main storage type ("bf16", "fp8 e4m3", "Q4_0"...), by tensor count."""
        if not self.dtypes:
            return ""
        quantised = [d for d in self.dtypes if d not in ("f32", "F32", "fp16", "F16")]
        pool = Counter({d: n for d, n in self.dtypes.items() if d in quantised}) or self.dtypes
        return pool.most_common(1)[0][0]

    def describe(self) -> str:
        what = {"text_encoder": f"text encoder ({self.encoder})" if self.encoder else "text encoder",
                "checkpoint": "all-in-one checkpoint"}.get(self.kind, self.kind)
        who = self.family
        if not who and self.architecture:
            from .architectures import ARCHITECTURES

            who = ARCHITECTURES[self.architecture].label
        bits = [what] + ([who] if who else []) + ([self.storage] if self.storage else [])
        bits += [f"{self.size / 2**30:.1f} GiB" if self.size >= 2**30 else f"{self.size / 2**20:.1f} MiB"]
        return ", ".join(bits) + (f" ({self.note})" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format, "size": self.size, "kind": self.kind,
                "architecture": self.architecture, "family": self.family, "encoder": self.encoder,
                "parts": list(self.parts), "storage": self.storage, "tensors": len(self.tensors), "note": self.note}


# ---------------------------------------------------------------------- headers
def read_header(path: Path) -> tuple[str, dict[str, tuple[int, ...]], Counter]:
    """(format, {tensor name: shape}, Counter of storage types) from the file's header only."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if head[:4] == b"GGUF":
                f.seek(0)
                tensors, dtypes = _gguf_header(f, path)
                return "gguf", tensors, dtypes
            if len(head) < 8:
                raise CheckpointFileError(f"{path}: too short to be a weights file")
            (n,) = struct.unpack("<Q", head)
            if n <= 1 or n > MAX_HEADER:
                raise CheckpointFileError(f"{path}: not a safetensors or GGUF file (no valid header)")
            raw = f.read(n)
    except OSError as e:
        raise CheckpointFileError(f"{path}: cannot be read ({e.strerror or e})") from None
    if len(raw) < n:
        raise CheckpointFileError(f"{path}: truncated (the header says {n} bytes, the file is shorter)")
    try:
        table = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointFileError(f"{path}: not a safetensors file (its header is not JSON)") from None
    if not isinstance(table, dict):
        raise CheckpointFileError(f"{path}: not a safetensors file (its header is not a table)")
    tensors: dict[str, tuple[int, ...]] = {}
    dtypes: Counter = Counter()
    for name, info in table.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not isinstance(info.get("shape"), list):
            raise CheckpointFileError(f"{path}: damaged safetensors header (entry {name!r})")
        tensors[name] = tuple(int(s) for s in info["shape"])
        dtypes[_SAFETENSORS_DTYPES.get(str(info.get("dtype")), str(info.get("dtype")).lower())] += 1
    return "safetensors", tensors, dtypes


def _gguf_header(f, path: Path) -> tuple[dict[str, tuple[int, ...]], Counter]:
    """GGUF v2/v3: magic, version, tensor count, key/value count, key/values, tensor infos."""

    def read(fmt: str):
        size = struct.calcsize(fmt)
        data = f.read(size)
        if len(data) < size:
            raise CheckpointFileError(f"{path}: truncated GGUF header")
        return struct.unpack(fmt, data)

    def string() -> str:
        (n,) = read("<Q")
        if n > MAX_HEADER:
            raise CheckpointFileError(f"{path}: damaged GGUF header")
        return f.read(n).decode("utf-8", errors="replace")

    scalar = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}

    def skip_value(kind: int) -> None:
        if kind in scalar:
            read(scalar[kind])
        elif kind == 8:
            string()
        elif kind == 9:
            item, count = read("<IQ")
            if item in scalar:
                f.seek(struct.calcsize(scalar[item]) * count, 1)
            else:
                for _ in range(count):
                    skip_value(item)
        else:
            raise CheckpointFileError(f"{path}: damaged GGUF header (value type {kind})")

    magic, version = read("<4sI")
    if version not in (2, 3):
        raise CheckpointFileError(f"{path}: GGUF version {version} is not supported (2 or 3)")
    n_tensors, n_kv = read("<QQ")
    for _ in range(n_kv):
        string()
        (kind,) = read("<I")
        skip_value(kind)
    tensors: dict[str, tuple[int, ...]] = {}
    dtypes: Counter = Counter()
    for _ in range(n_tensors):
        name = string()
        (n_dims,) = read("<I")
        dims = read(f"<{n_dims}Q") if n_dims else ()
        (kind,) = read("<I")
        read("<Q")  # offset
        tensors[name] = tuple(int(d) for d in reversed(dims))  # GGUF lists the innermost dimension first
        dtypes[_GGML_TYPES.get(kind, f"type {kind}")] += 1
    return tensors, dtypes


# ---------------------------------------------------------------------- what a file is
def _strip(tensors: dict[str, tuple[int, ...]], prefix: str) -> dict[str, tuple[int, ...]]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _is_lora(names: Iterable[str]) -> bool:
    return any(("lora_down" in k or "lora_up" in k or ".lora_A." in k or ".lora_B." in k or
                ".lora.down." in k or ".lora.up." in k) for k in names)


def vae_latent_channels(tensors: dict[str, tuple[int, ...]]) -> int | None:
    """Latent channels of a VAE (original or diffusers layout, any known prefix), or None."""
    for prefix in ("", *VAE_PREFIXES):
        shape = tensors.get(prefix + "encoder.conv_out.weight")
        if shape and tensors.get(prefix + "decoder.conv_in.weight"):
            return shape[0] // 2
    return None


def text_encoder_kind(tensors: dict[str, tuple[int, ...]]) -> str:
    """"clip-l", "clip-g", "t5" or "" for a text encoder in Hugging Face layout."""
    if "encoder.block.0.layer.0.SelfAttention.q.weight" in tensors:
        return "t5"
    emb = tensors.get("text_model.embeddings.token_embedding.weight") or tensors.get(
        "embeddings.token_embedding.weight")
    if emb:
        return "clip-g" if emb[1] >= 1280 else "clip-l"
    return ""


def classify(path: Path, fmt: str, tensors: dict[str, tuple[int, ...]], dtypes: Counter, size: int) -> FileFacts:
    from .architectures import ARCHITECTURES

    facts = FileFacts(Path(path), fmt, size, tensors, dtypes)
    names = list(tensors)
    if _is_lora(names):
        facts.kind = "lora"
        for arch in ARCHITECTURES.values():
            if arch.recognise_lora(names):
                facts.architecture = arch.name
                break
        if not facts.architecture:
            facts.note = "a LoRA for a model AST Studio does not run"
        return facts
    inner = _strip(tensors, TRANSFORMER_PREFIX) or tensors
    for arch in ARCHITECTURES.values():
        fam = arch.recognise(inner)
        if fam is not None:
            facts.architecture, facts.family = arch.name, fam.name
            break
    parts = []
    if facts.architecture:
        parts.append("transformer")
    if any(k.startswith(VAE_PREFIXES) for k in names) and vae_latent_channels(tensors):
        parts.append("vae")
    parts += [enc for enc, prefix in ENCODER_PREFIXES.items() if any(k.startswith(prefix) for k in names)]
    if facts.architecture:
        facts.kind = "checkpoint" if len(parts) > 1 else "transformer"
        facts.parts = tuple(parts)
        facts.encoder = ", ".join(p for p in parts if p in ENCODER_PREFIXES)
        return facts
    channels = vae_latent_channels(tensors)
    if channels is not None and not any(k.startswith(TRANSFORMER_PREFIX) for k in names):
        facts.kind = "vae"
        fits = [a.label for a in ARCHITECTURES.values()
                if any(f.latent_channels == channels for f in _families_of(a.name))]
        facts.note = f"{channels} latent channels" + (f": fits {' and '.join(fits)}" if fits else
                                                       ": no model AST Studio runs uses it")
        return facts
    encoder = text_encoder_kind(tensors)
    if encoder:
        facts.kind, facts.encoder = "text_encoder", encoder
        return facts
    if any(k.startswith(TRANSFORMER_PREFIX) for k in names) or "model.diffusion_model" in " ".join(names[:50]):
        facts.note = "a diffusion model of an architecture AST Studio does not run (e.g. SD1.5/SDXL)"
    else:
        facts.note = "not a model part AST Studio knows"
    return facts


def _families_of(architecture_name: str):
    from .architectures import FAMILIES

    return [f for f in FAMILIES.values() if f.architecture_name == architecture_name]


def inspect_file(path: str | Path) -> FileFacts:
    """What ``path`` holds, from its header (CheckpointFileError when it is not a weights file)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise CheckpointFileError(f"{path}: file not found")
    if not path.is_file():
        raise CheckpointFileError(f"{path}: is a folder, not a weights file")
    if not path.name.lower().endswith(WEIGHT_SUFFIXES):
        raise CheckpointFileError(f"{path}: AST Studio reads .safetensors and .gguf weights only "
                                  "(pickled .ckpt/.pt/.bin files can run code and are refused)")
    fmt, tensors, dtypes = read_header(path)
    return classify(path, fmt, tensors, dtypes, path.stat().st_size)


def scan_folder(folder: str | Path) -> tuple[list[FileFacts], list[str]]:
    """Every weights file under ``folder`` (a ComfyUI models folder or any folder), with problems.

    Returns (facts in path order, one line per unreadable file). Sub-folders are searched too.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise CheckpointFileError(f"{folder}: not a folder")
    found: list[FileFacts] = []
    problems: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(WEIGHT_SUFFIXES)):
        try:
            found.append(inspect_file(path))
        except CheckpointFileError as e:
            problems.append(str(e))
    return found, problems


# ---------------------------------------------------------------------- tensors (torch)
def read_tensors(path: str | Path, prefix: str = "", strip: bool = True) -> dict[str, Any]:
    """The tensors of ``path`` whose names start with ``prefix`` (the prefix removed when ``strip``).

    safetensors are read key by key (only the asked-for part is loaded); GGUF files go through
    diffusers' GGUF reader (quantised tensors stay quantised) and need the ``gguf`` package.
    """
    path = Path(path)
    if path.name.lower().endswith(".gguf"):
        from .quantisation import require_gguf

        require_gguf()
        from diffusers.models.model_loading_utils import load_gguf_checkpoint

        try:
            tensors = load_gguf_checkpoint(str(path))
        except ValueError as e:  # an unsupported quantisation type
            first = str(e).strip().splitlines()[0]
            raise CheckpointFileError(f"{path}: {first}") from None
        return {k[len(prefix) if strip else 0:]: v for k, v in tensors.items() if k.startswith(prefix)}
    from safetensors import SafetensorError, safe_open

    out: dict[str, Any] = {}
    try:
        with safe_open(str(path), framework="pt") as f:
            for k in f.keys():
                if k.startswith(prefix):
                    out[k[len(prefix) if strip else 0:]] = f.get_tensor(k)
    except (SafetensorError, OSError) as e:
        raise CheckpointFileError(f"{path}: cannot be read as safetensors ({e})") from None
    return out
