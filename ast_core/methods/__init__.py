"""The control methods, as a registry: the studio and the CLI list them and build their editors from it.

    from ast_core.methods import METHODS, method
    method("ast").uses_schedule          # True: the Schedule panel edits its parameters
    method("none").parameters            # () : nothing to edit
    method("regional").parameters        # inject steps, block intervals, base ratio (typed, with help)

No torch at import; a method imports what it needs when it runs.
"""
from __future__ import annotations

from .ast import ASTMethod
from .base import ControlMethod, MethodParameterError, MethodRun, Parameter
from .plain import PlainMethod
from .regional import RegionalMethod

METHODS: dict[str, ControlMethod] = {m.name: m for m in (ASTMethod(), RegionalMethod(), PlainMethod())}
DEFAULT_METHOD = "ast"


def method(name: str) -> ControlMethod:
    try:
        return METHODS[name]
    except KeyError:
        raise MethodParameterError(f"method must be one of {', '.join(METHODS)}, got {name!r}") from None


def method_names() -> list[str]:
    return list(METHODS)


__all__ = ["ControlMethod", "DEFAULT_METHOD", "METHODS", "MethodParameterError", "MethodRun", "Parameter",
           "method", "method_names"]
