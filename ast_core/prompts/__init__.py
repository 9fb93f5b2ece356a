"""Prompts for AST: segment spans in the base prompt, the attribute/instance split, embedding substitution.

The span and attribute rules are plain Python; only the embedding substitution needs torch, so
its names are imported on first use (the studio shows the automatic split without loading torch).
"""
from .attributes import split_attributes
from .spans import BACKGROUND, PromptAnalysis, PromptError, SegmentText, analyse_prompts
from .text_block import TextBlockAnalysis, analyse_text_block

_TORCH_NAMES = ("encode_with_substitution",)

__all__ = [
    "BACKGROUND", "PromptAnalysis", "PromptError", "SegmentText", "TextBlockAnalysis", "analyse_prompts",
    "analyse_text_block", "split_attributes", *_TORCH_NAMES,
]


def __getattr__(name: str):
    if name in _TORCH_NAMES:
        from . import substitution

        return getattr(substitution, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
