"""Per-generation token tables: segment membership, row size factors and map columns.

Everything here is linear (or ``T x T`` for the text block) in the number of tokens; the
``N x N`` maps of the method are never built, they are recovered block by block as
``row_membership @ column_membership`` inside the kernel.
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
