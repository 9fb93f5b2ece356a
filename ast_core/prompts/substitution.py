"""Text conditioning for AST: the base prompt's embeddings with each segment's span substituted.

Method step 4: in the base prompt's text embedding, the rows of each segment's span are
replaced by the segment prompt's own rows (the segment encoded alone, the way the pipeline
encodes any prompt). With several encoders in the text block (SD3: CLIP, then T5) every
part's span is substituted from that part of the segment's own encoding. The pooled
embedding is the base prompt's. Segments are written background first, then instances in
layout order (a later segment wins where spans share tokens).
"""
from __future__ import annotations

import torch

from .spans import plain_backend
from .text_block import TextBlockAnalysis


@torch.no_grad()
def encode_with_substitution(pipe, architecture, analysis: TextBlockAnalysis, max_sequence_length: int,
                             guidance: float):
    """The architecture's Conditioning of the base prompt with every segment's rows replaced."""
    cond = architecture.encode(pipe, analysis.base_prompt, max_sequence_length, guidance)
    segment_ids = [s for s, seg in enumerate(analysis.segments)
                   if any(part.segments[s].span for part in analysis.parts)]
    if not segment_ids:
        return cond
    texts = [analysis.segments[s].source_text or analysis.segments[s].prompt for s in segment_ids]
    own = architecture.encode_alone(pipe, texts, max_sequence_length)
    text = cond.text.clone()
    for row, s in enumerate(segment_ids):
        name = analysis.segments[s].name
        who = "the background" if analysis.segments[s].instance_id is None else f"instance '{name}'"
        lined_up = True
        for part, part_analysis in zip(analysis.layout.parts, analysis.parts):
            seg = part_analysis.segments[s]
            if not seg.span:
                continue
            backend = plain_backend(getattr(pipe, part.tokenizer))
            n_own = len(backend.encode(texts[row], add_special_tokens=False).ids)
            full_span = len(seg.span) + seg.fell_off
            if n_own != full_span:
                cond.warnings.append(
                    f"{who}: its own {part.name} tokens ({n_own}) do not line up with its span in the "
                    f"base prompt ({full_span}); kept the base prompt's rows there")
                lined_up = False
                continue
            start = part.offset + part.bos
            rows = own[row, start:start + len(seg.span)]
            text[:, [start + t for t in seg.span]] = rows.to(text.dtype)
        if lined_up:
            cond.substituted.append(name)
    cond.text = text
    return cond
