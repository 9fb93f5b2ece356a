"""The engine's automatic attribute/instance split (``ast_core.prompts.split_attributes``).

``ast_core/prompts/__init__.py`` imports the text encoders (torch), and the studio must not
load torch before the first generation. The rule itself lives in the torch-free module
``ast_core/prompts/attributes.py``: until torch is loaded anyway, that one file is loaded
on its own (same code, no package import). Returns None if the rule is unavailable.
"""
from __future__ import annotations

import importlib.util
import logging
import sys
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _torch_free_rule():
    import ast_core

    path = Path(ast_core.__file__).parent / "prompts" / "attributes.py"
    spec = importlib.util.spec_from_file_location("ast_studio._attribute_rule", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (OSError, ImportError, SyntaxError) as e:
        log.warning("automatic attribute split unavailable: %s", e)
        return None
    return getattr(module, "split_attributes", None)


def automatic_attribute_words(prompt: str) -> list[str] | None:
    """The attribute words the engine would pick for ``prompt``, or None when unknown."""
    if "ast_core.prompts" in sys.modules:
        rule = sys.modules["ast_core.prompts"].split_attributes
    else:
        rule = _torch_free_rule()
    if rule is None:
        return None
    return list(rule(prompt))
