"""Prompts for AST: segment spans in the base prompt, the attribute/instance split, embedding substitution."""
from .attributes import split_attributes
from .spans import BACKGROUND, PromptAnalysis, PromptError, SegmentText, analyse_prompts
from .substitution import TextConditioning, encode_base, encode_with_substitution, t5_embeddings

__all__ = [
    "BACKGROUND", "PromptAnalysis", "PromptError", "SegmentText", "TextConditioning", "analyse_prompts",
    "encode_base", "encode_with_substitution", "split_attributes", "t5_embeddings",
]
