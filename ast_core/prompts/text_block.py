"""Segment spans across every encoder's rows of the joint sequence's text block.

An architecture's text block holds one part per encoder (FLUX: the T5 rows; SD3: 77 CLIP rows,
then the T5 rows; see :class:`ast_core.models.TextLayout`). Each part is analysed with its own
tokenizer by the rules of :mod:`ast_core.prompts.spans`; a segment's text rows are the union
of its spans in every part, shifted to the part's place in the block (after CLIP's start
token). A segment missing from any part is the same :class:`PromptError`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .spans import PromptAnalysis, SegmentText, analyse_prompts


@dataclass
class TextBlockAnalysis:
    """One :class:`PromptAnalysis` per text part (``parts[i]`` for ``layout.parts[i]``)."""

    layout: object  # ast_core.models.TextLayout
    parts: list[PromptAnalysis]
    warnings: list[str] = field(default_factory=list)

    @property
    def base_prompt(self) -> str:
        return self.parts[0].base_prompt

    @property
    def text_len(self) -> int:
        return self.layout.length

    @property
    def segments(self) -> list[SegmentText]:
        """The segments as the last part (the T5 rows, the longest) sees them."""
        return self.parts[-1].segments

    def _rows(self, pick) -> list[list[int]]:
        out = [[] for _ in self.parts[0].segments]
        for part, analysis in zip(self.layout.parts, self.parts):
            shift = part.offset + part.bos
            for s, seg in enumerate(analysis.segments):
                out[s].extend(shift + t for t in pick(seg))
        return out

    def segment_rows(self) -> list[list[int]]:
        """Per segment (background first), its rows in the text block, every part."""
        return self._rows(lambda seg: seg.span)

    def attribute_rows(self) -> list[list[int]]:
        return self._rows(lambda seg: seg.attribute_tokens)

    def token_roles(self) -> list[dict]:
        """Per text row holding a prompt token: its part, row, token and roles."""
        out = []
        for part, analysis in zip(self.layout.parts, self.parts):
            shift = part.offset + part.bos
            for entry in analysis.token_roles():
                out.append({**entry, "part": part.name, "row": shift + entry["index"]})
        return out


def analyse_text_block(pipe, layout, base_prompt: str, background_prompt: str, instances: list) -> TextBlockAnalysis:
    """Spans of the background and each instance in every part of ``layout`` (a TextLayout)."""
    parts = []
    warnings: list[str] = []
    for part in layout.parts:
        tokenizer = getattr(pipe, part.tokenizer)
        analysis = analyse_prompts(tokenizer, base_prompt, background_prompt, instances, part.content_length)
        if len(layout.parts) > 1:
            warnings += [f"{part.name} text: {w}" for w in analysis.warnings]
        else:
            warnings += analysis.warnings
        parts.append(analysis)
    return TextBlockAnalysis(layout, parts, warnings)
