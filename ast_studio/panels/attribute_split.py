"""The engine's automatic attribute/instance split of a prompt, when the engine offers one.

Returns the attribute words the engine would pick, or None when no automatic split is
available (the editor then shows "(automatic)"). Never imports torch.
"""
from __future__ import annotations


def automatic_attribute_words(prompt: str) -> list[str] | None:
    return None
