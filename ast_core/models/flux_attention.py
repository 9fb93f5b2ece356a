"""The FLUX attention processor that hands the attention itself to a control method.

It mirrors diffusers' ``FluxAttnProcessor`` (diffusers 0.36-0.42): the same projections (fused
or not), per-head RMS norms, rotary embedding and output projections; only the attention
``softmax(QK^T) V`` is replaced by ``control.attend``. Where the control does not act the call
goes to the processor installed before, so it stays bit-identical to stock.

Query, key and value reach the control as ``[B, N, H, D]``, text rows first (FLUX's joint
order), in double blocks (separate text stream) and single blocks (one stream) alike.
"""
from __future__ import annotations

from typing import Any

import torch
from diffusers.models.embeddings import apply_rotary_emb

from .architecture import AttentionLayer


def _projections(attn, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None):
    """q, k, v of the image (or single) stream and of the text stream (None in single blocks)."""
    if getattr(attn, "fused_projections", False):
        query, key, value = attn.to_qkv(hidden_states).chunk(3, dim=-1)
        enc = (None, None, None)
        if encoder_hidden_states is not None and hasattr(attn, "to_added_qkv"):
            enc = tuple(attn.to_added_qkv(encoder_hidden_states).chunk(3, dim=-1))
        return query, key, value, enc
    query, key, value = attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states)
    enc = (None, None, None)
    if encoder_hidden_states is not None and attn.added_kv_proj_dim is not None:
        enc = (attn.add_q_proj(encoder_hidden_states), attn.add_k_proj(encoder_hidden_states),
               attn.add_v_proj(encoder_hidden_states))
    return query, key, value, enc


class FluxControlledProcessor:
    """One per FLUX attention module (double and single blocks)."""

    def __init__(self, layer: AttentionLayer, control, original: Any) -> None:
        self.layer = layer
        self.control = control
        self.original = original

    def __call__(
        self,
        attn: torch.nn.Module,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> Any:
        if not self.control.acts(self.layer):
            return self.original(attn, hidden_states, encoder_hidden_states, attention_mask,
                                 image_rotary_emb)
        query, key, value, (e_query, e_key, e_value) = _projections(
            attn, hidden_states, encoder_hidden_states)
        query = attn.norm_q(query.unflatten(-1, (-1, attn.head_dim)))
        key = attn.norm_k(key.unflatten(-1, (-1, attn.head_dim)))
        value = value.unflatten(-1, (-1, attn.head_dim))
        if e_query is not None:
            e_query = attn.norm_added_q(e_query.unflatten(-1, (-1, attn.head_dim)))
            e_key = attn.norm_added_k(e_key.unflatten(-1, (-1, attn.head_dim)))
            e_value = e_value.unflatten(-1, (-1, attn.head_dim))
            query = torch.cat([e_query, query], dim=1)
            key = torch.cat([e_key, key], dim=1)
            value = torch.cat([e_value, value], dim=1)
        if image_rotary_emb is not None:
            query = apply_rotary_emb(query, image_rotary_emb, sequence_dim=1)
            key = apply_rotary_emb(key, image_rotary_emb, sequence_dim=1)

        out = self.control.attend(self.layer, query, key, value, attention_mask)
        hidden = out.flatten(2, 3).to(query.dtype)
        if e_query is None:
            return hidden
        text_len = encoder_hidden_states.shape[1]
        encoder_out, hidden = hidden.split_with_sizes([text_len, hidden.shape[1] - text_len], dim=1)
        hidden = attn.to_out[1](attn.to_out[0](hidden.contiguous()))
        encoder_out = attn.to_add_out(encoder_out.contiguous())
        return hidden, encoder_out
