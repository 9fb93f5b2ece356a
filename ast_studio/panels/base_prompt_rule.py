"""Whether the project's method needs the instances' and the background's text inside the base
prompt: the registry says so (``ControlMethod.needs_text_in_base_prompt``). The Prompts panel, the
Instances list and the Instance editor flag missing text only when it does, and follow the
method selection as it changes (``document.settings_changed``)."""
from __future__ import annotations

from ast_core.methods import method


def text_needed(document) -> bool:
    """The selected method needs every instance's and the background's text in the base prompt."""
    return method(document.settings.generation.method).needs_text_in_base_prompt


def prompts_note(document) -> str:
    """The selected method's neutral note about the prompts ("" when it has none)."""
    return method(document.settings.generation.method).prompts_note


def instances_to_flag(document) -> list:
    """Instances the selected method would refuse: whose text the base prompt lacks, when the
    method needs it there; else those without a prompt, when the method reads instance prompts
    (regional prompting); none under the plain model."""
    control = method(document.settings.generation.method)
    if control.needs_text_in_base_prompt:
        return document.layout.instances_missing_from_base_prompt()
    if control.missing_prompt:
        return [i for i in document.layout.instances if not i.prompt.strip()]
    return []


def background_to_flag(document) -> bool:
    """The background's text is missing from the base prompt and the method needs it there."""
    return text_needed(document) and document.layout.background_missing_from_base_prompt()


def method_label(document) -> str:
    """The selected method's name as the user reads it."""
    return method(document.settings.generation.method).label
