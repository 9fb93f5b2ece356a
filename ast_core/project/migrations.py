"""Upgrades of older project files, all in one place.

A project file is read into its parts (``manifest``, ``layout``, ``settings``,
``schedule``, ``renders``: parsed JSON, not yet validated); ``MIGRATIONS[v]`` turns the
parts of a version-``v`` file into version ``v + 1``. Format 1 is the first format, so
the table is empty: the day format 2 appears, add ``MIGRATIONS[1] = _v1_to_v2`` and bump
``FORMAT_VERSION``; the reader needs no other change.
"""
from __future__ import annotations

from typing import Any, Callable

FORMAT_VERSION = 1
OLDEST_VERSION = 1

Parts = dict[str, Any]
MIGRATIONS: dict[int, Callable[[Parts], Parts]] = {}


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
