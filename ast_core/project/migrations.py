"""Upgrades of older project files, all in one place.

A project file is read into its parts (``manifest``, ``layout``, ``settings``,
``schedule``, ``renders``: parsed JSON, not yet validated); ``MIGRATIONS[v]`` turns the
parts of a version-``v`` file into version ``v + 1`` (the day format N + 1 appears, add
``MIGRATIONS[N]`` and bump ``FORMAT_VERSION``; the reader needs no other change).

* Format 2 gives every instance a ``strength`` (a multiplier on its AST coefficients;
  1.0, the method exactly, is what every instance of a format-1 file had) and an optional
  canvas background (``background.png`` + ``background.json``; format 1 has none: such
  members in a format-1 file are ignored like any other unknown member).

The parts are parsed JSON that is not validated yet: a migration touches only what has the
expected shape and leaves the rest for the validation to refuse.
"""
from __future__ import annotations

from typing import Any, Callable

FORMAT_VERSION = 2
OLDEST_VERSION = 1

Parts = dict[str, Any]


def _v1_to_v2(parts: Parts) -> Parts:
    """Format 1 -> 2: ``strength: 1.0`` on every instance (layout and render snapshots); no background."""
    layouts = [parts.get("layout")]
    for entry in parts.get("renders", []):
        meta = entry[1] if isinstance(entry, tuple) and len(entry) == 3 else None
        if isinstance(meta, dict):
            layouts.append(meta.get("layout"))
    for layout in layouts:
        if isinstance(layout, dict) and isinstance(layout.get("instances"), list):
            for inst in layout["instances"]:
                if isinstance(inst, dict) and "strength" not in inst:
                    inst["strength"] = 1.0
    parts["background"] = None
    return parts


MIGRATIONS: dict[int, Callable[[Parts], Parts]] = {1: _v1_to_v2}


class MigrationError(ValueError):
    pass


def migrate(parts: Parts, version: int) -> Parts:
    """The parts of a ``version`` file brought up to :data:`FORMAT_VERSION`."""
    if version > FORMAT_VERSION:
        raise MigrationError(
            f"this file was written by a newer AST Studio (project format {version}); this version reads "
            f"formats {OLDEST_VERSION} to {FORMAT_VERSION}: please update AST Studio"
        )
    if version < OLDEST_VERSION:
        raise MigrationError(f"unknown project format {version} (known: {OLDEST_VERSION} to {FORMAT_VERSION})")
    while version < FORMAT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise MigrationError(f"no upgrade from project format {version} to {version + 1}")
        parts = step(parts)
        version += 1
    return parts
