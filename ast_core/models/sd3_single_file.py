"""SD3 / SD3.5 single files: diffusers' layout -> Stability's original MMDiT key layout.

``sd3.5_large.safetensors`` and the GGUF quantisations hold the transformer as
``joint_blocks.N.x_block.attn.qkv.weight``... (in all-in-one files under
``model.diffusion_model.``). Loading converts them with diffusers' own converter
(``convert_sd3_transformer_checkpoint_to_diffusers``, which reads every size from the
checkpoint); this module writes that layout, the exact inverse, so the built-in tiny-sd3 can
be exported as a single file that diffusers converts back (``export-tiny-model --single-file``).
"""
from __future__ import annotations

from typing import Any

#: A key present in every original-layout SD3 transformer.
MARKER = "joint_blocks.0.x_block.attn.qkv.weight"

_TOP = (
    ("x_embedder.proj", "pos_embed.proj"),
    ("t_embedder.mlp.0", "time_text_embed.timestep_embedder.linear_1"),
    ("t_embedder.mlp.2", "time_text_embed.timestep_embedder.linear_2"),
    ("y_embedder.mlp.0", "time_text_embed.text_embedder.linear_1"),
    ("y_embedder.mlp.2", "time_text_embed.text_embedder.linear_2"),
    ("context_embedder", "context_embedder"),
    ("final_layer.linear", "proj_out"),
)
#: per block: (original, diffusers name(s)); several = concatenated along rows
_BLOCK = (
    ("x_block.attn.qkv", ("attn.to_q", "attn.to_k", "attn.to_v")),
    ("context_block.attn.qkv", ("attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj")),
    ("x_block.attn.proj", ("attn.to_out.0",)),
    ("context_block.attn.proj", ("attn.to_add_out",)),
    ("x_block.attn2.qkv", ("attn2.to_q", "attn2.to_k", "attn2.to_v")),
    ("x_block.attn2.proj", ("attn2.to_out.0",)),
    ("x_block.adaLN_modulation.1", ("norm1.linear",)),
    ("x_block.mlp.fc1", ("ff.net.0.proj",)),
    ("x_block.mlp.fc2", ("ff.net.2",)),
    ("context_block.mlp.fc1", ("ff_context.net.0.proj",)),
    ("context_block.mlp.fc2", ("ff_context.net.2",)),
)
_BLOCK_NORMS = (
    ("x_block.attn.ln_q", "attn.norm_q"), ("x_block.attn.ln_k", "attn.norm_k"),
    ("context_block.attn.ln_q", "attn.norm_added_q"), ("context_block.attn.ln_k", "attn.norm_added_k"),
    ("x_block.attn2.ln_q", "attn2.norm_q"), ("x_block.attn2.ln_k", "attn2.norm_k"),
)


def _swap_halves(t):
    import torch

    first, second = t.chunk(2, dim=0)
    return torch.cat([second, first], dim=0)


def from_diffusers(state: dict[str, Any]) -> dict[str, Any]:
    """A diffusers SD3 transformer state dict in the original layout (no prefix)."""
    import torch

    out: dict[str, Any] = {"pos_embed": state["pos_embed.pos_embed"]}

    def join(original: str, targets: tuple[str, ...], parameter: str) -> None:
        parts = [state.get(f"{t}.{parameter}") for t in targets]
        if any(p is None for p in parts):
            return
        out[f"{original}.{parameter}"] = parts[0] if len(parts) == 1 else torch.cat(parts, dim=0)

    for original, target in _TOP:
        for p in ("weight", "bias"):
            join(original, (target,), p)
    blocks = sorted({int(k.split(".")[1]) for k in state if k.startswith("transformer_blocks.")})
    last = blocks[-1] if blocks else -1
    for i in blocks:
        for original, targets in _BLOCK:
            for p in ("weight", "bias"):
                join(f"joint_blocks.{i}.{original}", tuple(f"transformer_blocks.{i}.{t}" for t in targets), p)
        for original, target in _BLOCK_NORMS:
            key = f"transformer_blocks.{i}.{target}.weight"
            if key in state:
                out[f"joint_blocks.{i}.{original}.weight"] = state[key]
        for p in ("weight", "bias"):  # the last block's context modulation is (shift, scale) in the original
            t = state[f"transformer_blocks.{i}.norm1_context.linear.{p}"]
            out[f"joint_blocks.{i}.context_block.adaLN_modulation.1.{p}"] = _swap_halves(t) if i == last else t
    for p in ("weight", "bias"):
        out[f"final_layer.adaLN_modulation.1.{p}"] = _swap_halves(state[f"norm_out.linear.{p}"])
    return {k: v.contiguous() for k, v in out.items()}
