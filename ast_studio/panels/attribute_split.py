"""The engine's automatic attribute/instance split, shown in the instance editor.

``ast_core.prompts`` loads torch only for the embedding substitution, so importing the
rule here keeps the studio torch-free until the first generation.
"""
from __future__ import annotations

from ast_core.prompts import split_attributes


def automatic_attribute_words(prompt: str) -> list[str]:
    """The attribute words the engine picks for ``prompt`` when no override is set."""
    return list(split_attributes(prompt))
