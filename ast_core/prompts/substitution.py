"""Text conditioning for AST: the base prompt's embeddings with each segment's span substituted.

Method step 4: in the base prompt's T5 embedding, the rows of each segment's span are
replaced by the segment prompt's own T5 embedding rows (the segment encoded alone, the
way the pipeline encodes any prompt: padded to the sequence length, no attention mask).
The pooled CLIP embedding is the base prompt's. Segments are written background first,
then instances in layout order (a later segment wins where spans share tokens).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .spans import PromptAnalysis, plain_backend


@dataclass
class TextConditioning:
    prompt_embeds: torch.Tensor  # [1, T, D] (T5 sequence, after substitution)
    pooled_prompt_embeds: torch.Tensor  # [1, D_pooled] (CLIP, base prompt)
    substituted: list[str] = field(default_factory=list)  # names of segments whose rows were replaced
    warnings: list[str] = field(default_factory=list)


@torch.no_grad()
def t5_embeddings(pipe, texts: list[str], max_length: int) -> torch.Tensor:
    """T5 embeddings exactly as the FLUX pipeline computes them ([N, max_length, D])."""
    ids = pipe.tokenizer_2(
        texts, padding="max_length", max_length=max_length, truncation=True, return_tensors="pt"
    ).input_ids
    device = pipe._execution_device
    out = pipe.text_encoder_2(ids.to(device), output_hidden_states=False)[0]
    return out.to(dtype=pipe.text_encoder_2.dtype, device=device)


@torch.no_grad()
def encode_base(pipe, base_prompt: str, max_length: int) -> TextConditioning:
    """Plain FLUX conditioning of the base prompt (the "none" method)."""
    embeds, pooled, _ = pipe.encode_prompt(prompt=base_prompt, prompt_2=None, max_sequence_length=max_length)
    return TextConditioning(embeds, pooled)


@torch.no_grad()
def encode_with_substitution(pipe, analysis: PromptAnalysis) -> TextConditioning:
    """The base prompt's conditioning with every segment span's rows replaced by the segment's own rows."""
    T = analysis.max_length
    cond = encode_base(pipe, analysis.base_prompt, T)
    segs = [s for s in analysis.segments if s.span]
    if not segs:
        return cond
    # An exact match encodes the segment's own prompt; a text match encodes the base prompt's
    # characters it matched (same words, the base prompt's case) so the rows line up token for token.
    texts = [s.source_text for s in segs]
    own = t5_embeddings(pipe, texts, T)
    embeds = cond.prompt_embeds.clone()
    backend = plain_backend(pipe.tokenizer_2)
    for seg, text, rows in zip(segs, texts, own):
        n_own = len(backend.encode(text, add_special_tokens=False).ids)
        full_span = len(seg.span) + seg.fell_off
        if n_own != full_span:
            who = "the background" if seg.instance_id is None else f"instance '{seg.name}'"
            cond.warnings.append(
                f"{who}: its own tokens ({n_own}) do not line up with its span in the base prompt "
                f"({full_span}); kept the base prompt's rows"
            )
            continue
        embeds[:, seg.span] = rows[: len(seg.span)].to(embeds.dtype)
        cond.substituted.append(seg.name)
    cond.prompt_embeds = embeds
    return cond
