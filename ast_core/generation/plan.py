"""What the model sees for one AST render: token-grid masks, text spans, token roles.

``plan_generation`` is the single place that turns a layout into the method's inputs,
so the renderer and ``render --save-masks`` show exactly the same thing.

Masks: each instance's mask is its *exclusive* region on the token grid (an instance on
top wins where two overlap, as in the seed colour sketches), downsampled with the
method's "nearest, threshold 0.5" rule; the background is every token no instance owns.
Tokens are flattened row-major, the order every supported architecture packs its latents in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..document import Layout
from ..masks import MaskSet, rasterize, token_grid
from ..prompts import TextBlockAnalysis, analyse_text_block


@dataclass
class GenerationPlan:
    width: int
    height: int
    grid: tuple[int, int]  # (cols, rows) of image tokens
    instances: list  # the Instance objects that take part (visible, with an area), bottom to top
    masks: MaskSet | None
    analysis: TextBlockAnalysis | None
    warnings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No instance takes part: the render is the plain model on the base prompt."""
        return not self.instances

    def segment_masks(self) -> torch.Tensor:
        """BoolTensor [1 + K, rows * cols]: background, then each instance (row-major tokens)."""
        assert self.masks is not None
        seg = self.masks.segments() >= 0.5
        return torch.from_numpy(np.ascontiguousarray(seg.reshape(seg.shape[0], -1)))

    def modulation_inputs(self):
        from ..attention import ModulationInputs

        assert self.analysis is not None
        return ModulationInputs(
            segment_masks=self.segment_masks(),
            text_len=self.analysis.text_len,
            segment_spans=self.analysis.segment_rows(),
            attribute_tokens=self.analysis.attribute_rows(),
            segment_strengths=[1.0] + [inst.strength for inst in self.instances],
        )

    def summary(self) -> list[dict]:
        """Per segment: name, text rows, attribute rows and how many grid cells it owns (for metadata)."""
        if self.analysis is None or self.masks is None:
            return []
        cells = self.segment_masks().sum(dim=1).tolist()
        rows, attrs = self.analysis.segment_rows(), self.analysis.attribute_rows()
        strengths = [1.0] + [inst.strength for inst in self.instances]
        return [
            {
                "name": s.name, "instance_id": s.instance_id, "text_rows": rows[k],
                "attribute_rows": attrs[k], "attribute_words": list(s.attribute_words),
                "match": s.match, "grid_cells": int(n), "strength": strengths[k],
            }
            for k, (s, n) in enumerate(zip(self.analysis.segments, cells))
        ]


def instances_taking_part(layout: Layout) -> list:
    """The instances a render uses: visible, with an area (hidden and empty ones sit it out)."""
    return [i for i in layout.visible_instances() if not i.is_empty and i.area > 0]


def plan_generation(layout: Layout, width: int, height: int, pixels_per_token: int = 16, *,
                    pipe=None, text_layout=None, method_label: str = "AST") -> GenerationPlan:
    """Masks on the token grid and (with a ``pipe`` and its ``text_layout``) the text spans in
    every part of the text block; without them the text is skipped."""
    with_text = pipe is not None and text_layout is not None
    grid = token_grid(width, height, pixels_per_token)
    taking_part = instances_taking_part(layout)
    if not taking_part:
        note = f"no visible instance has an area: rendered the base prompt plainly, without {method_label}"
        return GenerationPlan(width, height, grid, [], None, None, [note] if with_text else [])
    masks = rasterize(layout, grid=grid)
    keep = [masks.ids.index(i.id) for i in taking_part]
    masks = MaskSet([masks.ids[k] for k in keep], masks.instances[keep], masks.raw[keep], masks.background,
                    masks.grid, masks.soft)
    analysis = None
    warnings: list[str] = []
    if with_text:
        analysis = analyse_text_block(pipe, text_layout, layout.base_prompt, layout.background_prompt,
                                      taking_part)
        warnings += analysis.warnings
    for inst, m in zip(taking_part, masks.instances):
        if with_text and not (m >= 0.5).any():
            warnings.append(
                f"instance '{inst.name}' covers no {pixels_per_token}x{pixels_per_token}-pixel token of the "
                f"{width}x{height} image (too small or hidden by instances above it): it has no image tokens"
            )
    return GenerationPlan(width, height, grid, taking_part, masks, analysis, warnings)
