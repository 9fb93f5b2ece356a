"""Typed access to fields of parsed JSON, raising :class:`FieldError` that names the field.

Parsing itself (strict and bounded) is :mod:`.strict_json`.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from .errors import FieldError

_MISSING = object()


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def require_object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise FieldError(where, f"must be a JSON object, got {_type_name(value)}")
    return value


def get(obj: dict, key: str, kind: type | tuple, where: str, default: Any = _MISSING) -> Any:
    """``obj[key]`` checked to be of ``kind`` (bool is never accepted as a number)."""
    path = f"{where}.{key}" if where else key
    if key not in obj:
        if default is _MISSING:
            raise FieldError(path, "missing")
        return default
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds)
    if ok and isinstance(value, bool) and bool not in kinds:
        ok = False
    if ok and isinstance(value, float) and not math.isfinite(value):
        ok = False
    if not ok:
        names = "/".join(dict.fromkeys(_type_name(k()) if k is not type(None) else "null" for k in kinds))
        raise FieldError(path, f"must be {names}, got {_type_name(value)}")
    return value


def get_timestamp(obj: dict, key: str, where: str, default: Any = _MISSING) -> str:
    value = get(obj, key, str, where, default)
    if value:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise FieldError(f"{where}.{key}" if where else key, f"not an ISO 8601 date/time: {value[:40]!r}") from None
    return value


def reject_unknown(obj: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise FieldError(where, f"unknown field(s) {', '.join(repr(k[:40]) for k in unknown[:5])}")
