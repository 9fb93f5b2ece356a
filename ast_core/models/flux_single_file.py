"""FLUX.1 single files: Black Forest Labs' original key layout <-> diffusers' layout.

``flux1-dev.safetensors``, ComfyUI's ``diffusion_models/`` files and city96's GGUF files hold
the transformer under BFL's names (``double_blocks.0.img_attn.qkv.weight``...), sometimes
with a ``model.diffusion_model.`` prefix. diffusers' own converter
(``convert_flux_transformer_checkpoint_to_diffusers``) hard-codes FLUX.1's width (3072) to
split the single blocks' fused ``linear1``; this one reads the width from the checkpoint
(``img_in.weight`` rows), so it also converts narrower models (the built-in tiny-flux), and
it runs both ways (``export-tiny-model --single-file`` writes the original layout).
For FLUX.1's width the two converters give the same tensors (tested against diffusers').

Tensors are only sliced and concatenated along their first dimension, which GGUF-quantised
tensors (diffusers' ``GGUFParameter``: rows of quantised blocks) allow, so the same code
converts GGUF files. Import torch only when converting.
"""
from __future__ import annotations

from typing import Any

PREFIX = "model.diffusion_model."
#: A key present in every BFL-layout FLUX transformer (after the prefix is removed).
MARKER = "double_blocks.0.img_attn.qkv.weight"

#: (original name, diffusers name(s)): several diffusers names = concatenated along rows.
_TOP = (
    ("time_in.in_layer", ("time_text_embed.timestep_embedder.linear_1",)),
    ("time_in.out_layer", ("time_text_embed.timestep_embedder.linear_2",)),
    ("vector_in.in_layer", ("time_text_embed.text_embedder.linear_1",)),
    ("vector_in.out_layer", ("time_text_embed.text_embedder.linear_2",)),
    ("guidance_in.in_layer", ("time_text_embed.guidance_embedder.linear_1",)),
    ("guidance_in.out_layer", ("time_text_embed.guidance_embedder.linear_2",)),
    ("txt_in", ("context_embedder",)),
    ("img_in", ("x_embedder",)),
    ("final_layer.linear", ("proj_out",)),
)
_DOUBLE = (
    ("img_mod.lin", ("norm1.linear",)),
    ("txt_mod.lin", ("norm1_context.linear",)),
    ("img_attn.qkv", ("attn.to_q", "attn.to_k", "attn.to_v")),
    ("txt_attn.qkv", ("attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj")),
    ("img_mlp.0", ("ff.net.0.proj",)),
    ("img_mlp.2", ("ff.net.2",)),
    ("txt_mlp.0", ("ff_context.net.0.proj",)),
    ("txt_mlp.2", ("ff_context.net.2",)),
    ("img_attn.proj", ("attn.to_out.0",)),
    ("txt_attn.proj", ("attn.to_add_out",)),
)
_DOUBLE_NORMS = (  # RMS norm scales: ``.scale`` in the original, ``.weight`` in diffusers
    ("img_attn.norm.query_norm", "attn.norm_q"),
    ("img_attn.norm.key_norm", "attn.norm_k"),
    ("txt_attn.norm.query_norm", "attn.norm_added_q"),
    ("txt_attn.norm.key_norm", "attn.norm_added_k"),
)
_SINGLE = (
    ("modulation.lin", ("norm.linear",)),
    ("linear1", ("attn.to_q", "attn.to_k", "attn.to_v", "proj_mlp")),
    ("linear2", ("proj_out",)),
)
_SINGLE_NORMS = (
    ("norm.query_norm", "attn.norm_q"),
    ("norm.key_norm", "attn.norm_k"),
)
#: The final modulation: the original orders (shift, scale), diffusers (scale, shift).
_SWAPPED = ("final_layer.adaLN_modulation.1", "norm_out.linear")


def is_original_layout(keys) -> bool:
    return any(k == MARKER or k == PREFIX + MARKER for k in keys)


def _block_count(keys, name: str) -> int:
    found = {int(k.split(".", 2)[1]) for k in keys if k.startswith(name + ".")}
    return max(found) + 1 if found else 0


def _swap_halves(t):
    import torch

    first, second = t.chunk(2, dim=0)
    return torch.cat([second, first], dim=0)


def to_diffusers(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """An original-layout FLUX state dict (prefix allowed) in diffusers' names; ``checkpoint`` is emptied.

    Raises ``KeyError`` naming a missing tensor, ``ValueError`` for a fused tensor of the wrong size.
    """
    import torch

    for k in [k for k in checkpoint if k.startswith(PREFIX)]:
        checkpoint[k[len(PREFIX):]] = checkpoint.pop(k)
    width = int(checkpoint["img_in.weight"].shape[0])
    out: dict[str, Any] = {}

    def move(original: str, targets: tuple[str, ...], parameter: str, rows: list[int] | None = None) -> None:
        key = f"{original}.{parameter}"
        if key not in checkpoint:
            if original.startswith("guidance_in."):
                return  # FLUX.1-schnell has no guidance embedder
            raise KeyError(key)
        tensor = checkpoint.pop(key)
        if len(targets) == 1:
            out[f"{targets[0]}.{parameter}"] = tensor
            return
        sizes = rows or [tensor.shape[0] // len(targets)] * len(targets)
        if sum(sizes) != tensor.shape[0] or sizes[-1] <= 0:
            raise ValueError(f"{key}: {tensor.shape[0]} rows cannot be split as {sizes}")
        for target, part in zip(targets, torch.split(tensor, sizes, dim=0)):
            out[f"{target}.{parameter}"] = part

    for original, targets in _TOP:
        for p in ("weight", "bias"):
            move(original, targets, p)
    for i in range(_block_count(checkpoint, "double_blocks")):
        for original, targets in _DOUBLE:
            for p in ("weight", "bias"):
                move(f"double_blocks.{i}.{original}", tuple(f"transformer_blocks.{i}.{t}" for t in targets), p)
        for original, target in _DOUBLE_NORMS:
            out[f"transformer_blocks.{i}.{target}.weight"] = checkpoint.pop(f"double_blocks.{i}.{original}.scale")
    for i in range(_block_count(checkpoint, "single_blocks")):
        linear1 = checkpoint.get(f"single_blocks.{i}.linear1.weight")
        mlp = (int(linear1.shape[0]) if linear1 is not None else 4 * width) - 3 * width
        for original, targets in _SINGLE:
            rows = [width, width, width, mlp] if original == "linear1" else None
            for p in ("weight", "bias"):
                move(f"single_blocks.{i}.{original}", tuple(f"single_transformer_blocks.{i}.{t}" for t in targets),
                     p, rows)
        for original, target in _SINGLE_NORMS:
            out[f"single_transformer_blocks.{i}.{target}.weight"] = checkpoint.pop(
                f"single_blocks.{i}.{original}.scale")
    for p in ("weight", "bias"):
        out[f"{_SWAPPED[1]}.{p}"] = _swap_halves(checkpoint.pop(f"{_SWAPPED[0]}.{p}"))
    return out


def from_diffusers(state: dict[str, Any]) -> dict[str, Any]:
    """A diffusers FLUX transformer state dict in the original (BFL) names, without prefix."""
    import torch

    out: dict[str, Any] = {}

    def join(original: str, targets: tuple[str, ...], parameter: str) -> None:
        parts = [state.get(f"{t}.{parameter}") for t in targets]
        if any(p is None for p in parts):
            return
        out[f"{original}.{parameter}"] = parts[0] if len(parts) == 1 else torch.cat(parts, dim=0)

    for original, targets in _TOP:
        for p in ("weight", "bias"):
            join(original, targets, p)
    for i in range(_block_count(state, "transformer_blocks")):
        for original, targets in _DOUBLE:
            for p in ("weight", "bias"):
                join(f"double_blocks.{i}.{original}", tuple(f"transformer_blocks.{i}.{t}" for t in targets), p)
        for original, target in _DOUBLE_NORMS:
            out[f"double_blocks.{i}.{original}.scale"] = state[f"transformer_blocks.{i}.{target}.weight"]
    for i in range(_block_count(state, "single_transformer_blocks")):
        for original, targets in _SINGLE:
            for p in ("weight", "bias"):
                join(f"single_blocks.{i}.{original}", tuple(f"single_transformer_blocks.{i}.{t}" for t in targets), p)
        for original, target in _SINGLE_NORMS:
            out[f"single_blocks.{i}.{original}.scale"] = state[f"single_transformer_blocks.{i}.{target}.weight"]
    for p in ("weight", "bias"):
        out[f"{_SWAPPED[0]}.{p}"] = _swap_halves(state[f"{_SWAPPED[1]}.{p}"])
    return {k: v.contiguous() for k, v in out.items()}
