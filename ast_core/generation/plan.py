"""What the model sees for one AST render: token-grid masks, text spans, token roles.

``plan_generation`` is the single place that turns a layout into the method's inputs,
so the renderer and ``render --save-masks`` show exactly the same thing.

Masks: each instance's mask is its *exclusive* region on the token grid (an instance on
top wins where two overlap, as in the seed colour sketches), downsampled with the
method's "nearest, threshold 0.5" rule; the background is every token no instance owns.
Tokens are flattened row-major, the order FLUX packs its latents in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..document import Layout
from ..masks import MaskSet, rasterize, token_grid
from ..prompts import PromptAnalysis, analyse_prompts


@dataclass
class GenerationPlan:
    width: int
    height: int
    grid: tuple[int, int]  # (cols, rows) of image tokens
    instances: list  # the Instance objects that take part (visible, with an area), bottom to top
    masks: MaskSet | None
    analysis: PromptAnalysis | None
    warnings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No instance takes part: the render is plain FLUX on the base prompt."""
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
            text_len=self.analysis.max_length,
            segment_spans=[list(s.span) for s in self.analysis.segments],
            attribute_tokens=[list(s.attribute_tokens) for s in self.analysis.segments],
        )

    def summary(self) -> list[dict]:
        """Per segment: name, token span, attribute tokens and how many grid cells it owns (for metadata)."""
        if self.analysis is None or self.masks is None:
            return []
        cells = self.segment_masks().sum(dim=1).tolist()
        return [
            {
                "name": s.name, "instance_id": s.instance_id, "span": list(s.span),
                "attribute_tokens": list(s.attribute_tokens), "attribute_words": list(s.attribute_words),
                "match": s.match, "grid_cells": int(n),
            }
            for s, n in zip(self.analysis.segments, cells)
        ]


def plan_generation(layout: Layout, width: int, height: int, tokenizer, max_length: int,
                    pixels_per_token: int = 16) -> GenerationPlan:
    """Masks on the token grid and (with a ``tokenizer``) the text spans; ``tokenizer=None`` skips the text."""
    grid = token_grid(width, height, pixels_per_token)
    taking_part = [i for i in layout.visible_instances() if not i.is_empty and i.area > 0]
    if not taking_part:
        note = "no visible instance has an area: rendered the base prompt as plain FLUX, without AST"
        return GenerationPlan(width, height, grid, [], None, None, [note] if tokenizer is not None else [])
    masks = rasterize(layout, grid=grid)
    keep = [masks.ids.index(i.id) for i in taking_part]
    masks = MaskSet([masks.ids[k] for k in keep], masks.instances[keep], masks.raw[keep], masks.background,
                    masks.grid, masks.soft)
    analysis = None
    warnings: list[str] = []
    if tokenizer is not None:
        analysis = analyse_prompts(tokenizer, layout.base_prompt, layout.background_prompt, taking_part, max_length)
        warnings += analysis.warnings
    for inst, m in zip(taking_part, masks.instances):
        if tokenizer is not None and not (m >= 0.5).any():
            warnings.append(
                f"instance '{inst.name}' covers no {pixels_per_token}x{pixels_per_token}-pixel token of the "
                f"{width}x{height} image (too small or hidden by instances above it): it has no image tokens"
            )
    return GenerationPlan(width, height, grid, taking_part, masks, analysis, warnings)
