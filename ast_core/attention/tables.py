"""Per-generation token tables: segment membership, row size factors and map columns.

Everything here is linear (or ``T x T`` for the text block) in the number of tokens; the
``N x N`` maps of the method are never built, they are recovered block by block as
``row_membership @ column_membership`` inside the kernel.

Per-instance strength (``ModulationInputs.segment_strengths``, the studio's slider per
instance): in the method the coefficient of entry ``(i, j)`` is ``c[i, j] = a[i] * w *
treg``, a value of the query row ``i`` and the block. "An instance's modulation
coefficients" are the ones of *its own rows*, so its strength ``s_k`` multiplies the row
factors of

* its image tokens (the rows of its region in the I2I block and in the I2T block: its pixels
  attending to its own region and to its own words), and
* its prompt's text tokens (its span's rows in the T2T block).

Columns are left alone: another instance's rows (and the background's) keep pushing away
from this instance's tokens exactly as before, and the T2I block is never modulated. So
``s_k = 1`` is the method exactly (the multiplier is not even applied when every strength is
1), ``s_k = 0`` makes the instance's rows plain attention (its control off), values in
between scale ``c`` linearly, and values above 1 strengthen it. A token of several segments
(hand-made inputs; a layout's masks are exclusive, and an instance's text may also lie inside
the background's span) takes the strength of the last one, the top-most instance. The
background's strength is always 1. The embedding substitution of the instance's text is not
a coefficient and is unchanged.
"""
from __future__ import annotations

import torch

from ast_core.schedule import I2T_MAPS

from .inputs import ModulationInputs


class TokenTables:
    """Membership tables and size factors derived once from :class:`ModulationInputs`.

    * ``image_members`` ``[hw, S]``: ``m_s[i]`` as 0/1 floats (S = background + K).
    * ``a_img`` / ``a_inst`` ``[hw]`` and ``a_txt`` ``[T]``: the method's row size factors.
    * ``text_members`` ``[T, S]``: ``t in span_s``; ``t2t_map`` ``[T, T]``: 1 where ``t == u`` or
      ``t`` and ``u`` share a segment span, else 0 (the demo *sets* these entries:
      ``eye(T)``, then ``1`` on every ``span x span`` block; overlapping spans stay 1).
    * ``i2t_columns(maps)`` ``[S, T]``: for segment rows, which text columns the selected I2T
      maps light up (background map only on row 0, instance/attribute maps on rows 1..K).
    * ``image_strength`` ``[hw]`` / ``text_strength`` ``[T]``: each row's per-instance strength
      (see the module docstring), already multiplied into ``a_img``, ``a_inst`` and ``a_txt``.
    """

    def __init__(self, inputs: ModulationInputs, sizereg_image: float, sizereg_text: float,
                 device: torch.device | str = "cpu") -> None:
        f32 = torch.float32
        self.text_len = inputs.text_len
        self.image_len = inputs.image_len
        self.num_segments = inputs.num_segments
        masks = inputs.segment_masks.to(device=device)
        hw, T, S = self.image_len, self.text_len, self.num_segments

        members = masks.t().to(f32).contiguous()                       # [hw, S]
        sizes = members.sum(0)                                         # |m_s|
        self.image_members = members
        self.a_img = 1.0 - sizereg_image * (members @ sizes) / hw
        inst_sizes = sizes.clone()
        inst_sizes[0] = 0.0
        self.a_inst = 1.0 - sizereg_image * (members @ inst_sizes) / hw

        text_members = torch.zeros(T, S, dtype=f32, device=device)
        for s, span in enumerate(inputs.segment_spans):
            if span:
                text_members[span, s] = 1.0
        self.text_members = text_members
        same_span = (text_members @ text_members.t()) > 0
        same_span |= torch.eye(T, dtype=torch.bool, device=device)
        self.t2t_map = same_span.to(f32)
        # a_txt = 1 - sizereg_text * rowsum(M_tt) / T: |span| inside one span, 1 outside
        self.a_txt = 1.0 - sizereg_text * self.t2t_map.sum(1) / T

        self.image_strength = torch.ones(hw, dtype=f32, device=device)
        self.text_strength = torch.ones(T, dtype=f32, device=device)
        strengths = inputs.segment_strengths
        if any(v != 1.0 for v in strengths):
            for s in range(1, S):  # in order: a token of several segments takes the last one's
                self.image_strength[members[:, s] > 0] = strengths[s]
                self.text_strength[text_members[:, s] > 0] = strengths[s]
            self.a_img = self.a_img * self.image_strength
            self.a_inst = self.a_inst * self.image_strength
            self.a_txt = self.a_txt * self.text_strength

        self._map_columns: dict[str, torch.Tensor] = {}
        background = torch.zeros(S, T, dtype=f32, device=device)
        background[0] = text_members[:, 0]
        instance = torch.zeros(S, T, dtype=f32, device=device)
        attribute = torch.zeros(S, T, dtype=f32, device=device)
        for s in range(1, S):
            span = inputs.segment_spans[s]
            attrs = set(inputs.attribute_tokens[s])
            rest = [t for t in span if t not in attrs]
            if rest:
                instance[s, rest] = 1.0
            if attrs:
                attribute[s, sorted(attrs)] = 1.0
        self._map_columns = {"instance": instance, "background": background,
                             "attribute": attribute}
        self._selected: dict[frozenset[str], torch.Tensor] = {}

    def row_factor(self, name: str) -> torch.Tensor:
        if name == "a_img":
            return self.a_img
        if name == "a_inst":
            return self.a_inst
        if name == "a_txt":
            return self.a_txt
        raise ValueError(f"row factor: expected a_img, a_inst or a_txt, got {name!r}")

    def i2t_columns(self, maps: frozenset[str]) -> torch.Tensor:
        """``[S, T]`` sum of the selected I2T maps' column memberships."""
        key = frozenset(maps)
        if key not in self._selected:
            total = torch.zeros_like(self._map_columns["instance"])
            for name in I2T_MAPS:
                if name in key:
                    total += self._map_columns[name]
            self._selected[key] = total
        return self._selected[key]
