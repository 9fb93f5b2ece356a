"""The SD3 attention processor that hands the attention itself to a control method.

It mirrors diffusers' ``JointAttnProcessor2_0`` (used by every SD3 / SD3.5 block, for the
joint ``attn`` and for SD3.5 Medium's image-only ``attn2``): the same projections, optional
per-head RMS norms, the image-then-text concatenation, the output projections and the last
block's ``context_pre_only`` handling. Only ``softmax(QK^T) V`` is replaced by
``control.attend`` (query/key/value as ``[B, N, H, D]``, image rows first). Where the
control does not act the original processor runs (bit-identical to stock).
"""
from __future__ import annotations

from typing import Any

import torch

from .architecture import AttentionLayer


def _heads(x: torch.Tensor, batch: int, heads: int, head_dim: int) -> torch.Tensor:
    return x.view(batch, -1, heads, head_dim).transpose(1, 2)  # [B, H, N, D], as diffusers


class SD3ControlledProcessor:
    """One per SD3 attention module (joint ``attn`` and image-only ``attn2``)."""

    def __init__(self, layer: AttentionLayer, control, original: Any) -> None:
        self.layer = layer
        self.control = control
        self.original = original

    def __call__(self, attn: torch.nn.Module, hidden_states: torch.Tensor,
                 encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, *args, **kwargs) -> Any:
        if not self.control.acts(self.layer):
            return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, *args, **kwargs)
        batch, image_len = hidden_states.shape[0], hidden_states.shape[1]
        query, key, value = attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states)
        head_dim = key.shape[-1] // attn.heads
        query, key, value = (_heads(t, batch, attn.heads, head_dim) for t in (query, key, value))
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)
        if encoder_hidden_states is not None:
            e_query = _heads(attn.add_q_proj(encoder_hidden_states), batch, attn.heads, head_dim)
            e_key = _heads(attn.add_k_proj(encoder_hidden_states), batch, attn.heads, head_dim)
            e_value = _heads(attn.add_v_proj(encoder_hidden_states), batch, attn.heads, head_dim)
            if attn.norm_added_q is not None:
                e_query = attn.norm_added_q(e_query)
            if attn.norm_added_k is not None:
                e_key = attn.norm_added_k(e_key)
            query = torch.cat([query, e_query], dim=2)
            key = torch.cat([key, e_key], dim=2)
            value = torch.cat([value, e_value], dim=2)

        out = self.control.attend(self.layer, query.transpose(1, 2), key.transpose(1, 2),
                                  value.transpose(1, 2), attention_mask)
        hidden = out.reshape(batch, -1, attn.heads * head_dim).to(query.dtype)
        encoder_out = None
        if encoder_hidden_states is not None:
            hidden, encoder_out = hidden[:, :image_len], hidden[:, image_len:]
            if not attn.context_pre_only:
                encoder_out = attn.to_add_out(encoder_out)
        hidden = attn.to_out[1](attn.to_out[0](hidden))
        return hidden if encoder_out is None else (hidden, encoder_out)
