"""Strict, bounded JSON for project files: what the reader accepts, the app can copy and save.

Strict: UTF-8, no NaN/Infinity, no number that overflows to infinity (``1e400``), no
integer beyond 64 bits, no duplicate keys, no lone UTF-16 surrogate (``"\\ud800"``:
such a string cannot be printed or saved as UTF-8).

Bounded: a member may hold at most :data:`MAX_VALUES` values and nest at most
:data:`MAX_DEPTH` levels, and a whole project at most :data:`MAX_PROJECT_VALUES`
values (a :class:`JsonBudget`). Counting happens while parsing, so a small file that
inflates to millions of empty objects is refused before it fills the memory, and a
deeply nested one is refused before ``copy.deepcopy`` or ``json.dumps`` could hit
Python's recursion limit.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import FieldError

#: Deepest nesting of objects/arrays in one member (the app's own parts nest 7 deep at most).
MAX_DEPTH = 64
#: Values (objects, arrays, keys, numbers, strings) in one member.
MAX_VALUES = 1_000_000
#: Values in all JSON members of one project together.
MAX_PROJECT_VALUES = 4_000_000
#: Integers are kept within 64 bits (seeds are the largest the app writes).
MAX_INT = 2**64

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


@dataclass
class JsonBudget:
    """Values still allowed in the remaining members of one project."""

    values: int = field(default_factory=lambda: MAX_PROJECT_VALUES)


class _TooMany(ValueError):
    pass


class _Counter:
    """Counts values as the parser builds them; raises once the limit is passed."""

    def __init__(self, limit: int, start: int) -> None:
        self.limit, self.count = limit, start
        self._check()

    def _check(self) -> None:
        if self.count > self.limit:
            raise _TooMany()

    def add(self, n: int) -> None:
        self.count += n
        self._check()

    def object(self, pairs: list[tuple[str, Any]]) -> dict:
        self.add(1 + len(pairs))
        out: dict = {}
        for k, v in pairs:
            if k in out:
                raise ValueError(f"duplicate key {k[:80]!r}")
            out[k] = v
        return out

    def integer(self, text: str) -> int:
        self.add(1)
        value = int(text) if len(text) <= 21 else MAX_INT + 1
        if abs(value) > MAX_INT:
            raise ValueError(f"integer {text[:30]}{'...' if len(text) > 30 else ''} is too large")
        return value

    def real(self, text: str) -> float:
        self.add(1)
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"number {text[:30]} is too large")
        return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a project file")


def _path(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _too_deep(depth: int, value: Any) -> bool:
    return isinstance(value, (dict, list)) and depth > MAX_DEPTH


def _bad_text(depth: int, value: Any) -> bool:
    return isinstance(value, str) and _has_lone_surrogate(value)


def _short(path: str) -> str:
    if not path:
        return "(top level)"
    return path if len(path) <= 80 else path[:80] + "..."


def _any(root: Any, bad) -> bool:
    """Whether ``bad(depth, it)`` holds for any value or key (fast: no paths are built)."""
    stack = [(root, 1)]
    while stack:
        v, depth = stack.pop()
        if bad(depth, v):
            return True
        if isinstance(v, dict):
            if any(bad(depth + 1, k) for k in v):
                return True
            stack.extend((item, depth + 1) for item in v.values())
        elif isinstance(v, list):
            stack.extend((item, depth + 1) for item in v)
    return False


def _first(root: Any, bad) -> str | None:
    """The path of the first value or key for which ``bad(depth, it)`` holds (None: there is none).

    Iterative, so it cannot itself run out of stack on deep input.
    """
    stack = [(root, "", 1)]
    while stack:
        v, path, depth = stack.pop()
        if bad(depth, v):
            return _short(path)
        if isinstance(v, dict):
            for k, item in v.items():
                if bad(depth + 1, k):
                    return _short(_path(path, k.encode("utf-8", "backslashreplace").decode()))
                stack.append((item, _path(path, k), depth + 1))
        elif isinstance(v, list):
            stack.extend((item, _path(path, i), depth + 1) for i, item in enumerate(v))
    return None


def parse_json(data: bytes, budget: JsonBudget | None = None) -> Any:
    """Parse one member strictly and within the limits. Raises FieldError(field, problem).

    ``budget`` (the project's remaining values) is reduced by what this member holds.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FieldError("", f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    limit = MAX_VALUES if budget is None else min(MAX_VALUES, budget.values)
    # Arrays, strings and true/false/null have no parser hook: count them in the text
    # (inside strings too, so this errs on the safe side).
    arrays = text.count("[")
    others = text.count('"') // 2 + text.count("true") + text.count("false") + text.count("null")
    try:
        counter = _Counter(limit, arrays + others)
        value = json.loads(text, parse_constant=_no_constants, object_pairs_hook=counter.object,
                           parse_int=counter.integer, parse_float=counter.real)
    except _TooMany:
        if budget is not None and budget.values < MAX_VALUES:
            raise FieldError("", f"the project's JSON parts hold more than {MAX_PROJECT_VALUES} values "
                                 "(objects, arrays, keys, numbers, strings)") from None
        raise FieldError("", f"holds more than {MAX_VALUES} values (objects, arrays, keys, numbers, strings)") from None
    except json.JSONDecodeError as e:
        raise FieldError("", f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        raise FieldError("", f"not valid JSON (nested more than {MAX_DEPTH} levels deep)") from None
    except ValueError as e:
        raise FieldError("", f"not valid JSON ({str(e)[:160]})") from None
    check_depth = text.count("{") + arrays > MAX_DEPTH
    check_text = _SURROGATE_ESCAPE.search(text) is not None
    if check_depth and _any(value, _too_deep):
        raise FieldError(_first(value, _too_deep), f"nested more than {MAX_DEPTH} levels deep")
    if check_text and _any(value, _bad_text):
        raise FieldError(_first(value, _bad_text), "text holds a lone UTF-16 surrogate (not valid Unicode)")
    if budget is not None:
        budget.values -= counter.count
    return value


def dump_json(value: Any) -> bytes:
    """Readable, diff-friendly JSON (sorted keys would reorder instances' fields, so not sorted)."""
    return (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
