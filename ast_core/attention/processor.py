"""diffusers attention processor for FLUX blocks (double and single) running AST.

It mirrors ``diffusers.models.transformers.transformer_flux.FluxAttnProcessor`` (diffusers
0.42): same projections, norms, rotary embedding and output projections; only the attention
itself is replaced by :func:`~ast_core.attention.kernel.modulated_attention` on the layers
and steps where the schedule says something acts. Everywhere else the call is handed to the
processor that was installed before (so it stays bit-identical to stock).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from diffusers.models.attention_dispatch import dispatch_attention_fn
from diffusers.models.embeddings import apply_rotary_emb
from diffusers.models.transformers.transformer_flux import _get_qkv_projections

from .kernel import modulated_attention

if TYPE_CHECKING:  # pragma: no cover
    from .controller import ASTAttention


class ASTFluxAttnProcessor:
    """One per FluxAttention module; ``layer`` is its 0-based position (double, then single)."""

    def __init__(self, controller: "ASTAttention", layer: int, original: Any) -> None:
        self.controller = controller
        self.layer = layer
        self.original = original

    def __call__(
        self,
        attn: torch.nn.Module,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> Any:
        ctrl = self.controller
        groups = ctrl.row_groups(self.layer)
        if groups is None and ctrl.probe is None:
            ctrl.calls["stock"] += 1
            return self.original(attn, hidden_states, encoder_hidden_states, attention_mask,
                                 image_rotary_emb)

        query, key, value, encoder_query, encoder_key, encoder_value = _get_qkv_projections(
            attn, hidden_states, encoder_hidden_states
        )
        query = query.unflatten(-1, (-1, attn.head_dim))
        key = key.unflatten(-1, (-1, attn.head_dim))
        value = value.unflatten(-1, (-1, attn.head_dim))
        query = attn.norm_q(query)
        key = attn.norm_k(key)
        if attn.added_kv_proj_dim is not None:
            encoder_query = attn.norm_added_q(encoder_query.unflatten(-1, (-1, attn.head_dim)))
            encoder_key = attn.norm_added_k(encoder_key.unflatten(-1, (-1, attn.head_dim)))
            encoder_value = encoder_value.unflatten(-1, (-1, attn.head_dim))
            query = torch.cat([encoder_query, query], dim=1)
            key = torch.cat([encoder_key, key], dim=1)
            value = torch.cat([encoder_value, value], dim=1)
        if image_rotary_emb is not None:
            query = apply_rotary_emb(query, image_rotary_emb, sequence_dim=1)
            key = apply_rotary_emb(key, image_rotary_emb, sequence_dim=1)

        text_len = encoder_hidden_states.shape[1] if encoder_hidden_states is not None else None
        ctrl.check_sequence(self.layer, query.shape[1], text_len)
        if groups is None:
            ctrl.calls["stock"] += 1
            out = dispatch_attention_fn(query, key, value, attn_mask=attention_mask)
        else:
            ctrl.calls["modulated"] += 1
            out = modulated_attention(query, key, value, groups, attn_mask=attention_mask,
                                      chunk_rows=ctrl.chunk_rows, backend=ctrl.backend)
        if ctrl.probe is not None:
            ctrl.probe(self.layer, ctrl.step, query, key, value, groups)
        hidden = out.flatten(2, 3).to(query.dtype)

        if encoder_hidden_states is not None:
            encoder_out, hidden = hidden.split_with_sizes(
                [encoder_hidden_states.shape[1], hidden.shape[1] - encoder_hidden_states.shape[1]],
                dim=1,
            )
            hidden = attn.to_out[0](hidden.contiguous())
            hidden = attn.to_out[1](hidden)
            encoder_out = attn.to_add_out(encoder_out.contiguous())
            return hidden, encoder_out
        return hidden
