"""The ``ast-studio:metadata`` chunk: a render's whole metadata as JSON, with its format version.

Format 2 (this version): the engine's metadata of one image (:mod:`ast_core.generation.metadata`:
model, settings with the method and its parameters, seed, schedule, layout, segments, timesteps,
versions, warnings; ``image`` = its place among the variations of one run) in one compressed
iTXt chunk, next to the A1111-style ``parameters`` chunk.

Format 1 (``ast-studio render`` before the studio and the command line shared one format): the
same metadata, with the layout also (or, in hand-made files, only) in a second chunk,
``ast-studio:layout``. Upgrading older formats happens here and nowhere else
(:data:`MIGRATIONS`); a newer format is refused with a line asking for an update.
"""
from __future__ import annotations

from typing import Any, Callable

from ..project.errors import FieldError
from ..project.strict_json import JsonBudget, parse_json

FORMAT = 2
OLDEST_FORMAT = 1
METADATA_KEY = "ast-studio:metadata"
LEGACY_LAYOUT_KEY = "ast-studio:layout"  # format 1


def _from_format_1(metadata: dict, chunks: dict[str, str], budget: JsonBudget) -> dict:
    """Format 1 -> 2: the layout comes from the metadata, else from the ``ast-studio:layout`` chunk."""
    if not isinstance(metadata.get("layout"), dict) and LEGACY_LAYOUT_KEY in chunks:
        try:
            metadata["layout"] = parse_json(chunks[LEGACY_LAYOUT_KEY].encode("utf-8"), budget)
        except FieldError as e:
            raise FieldError(f"{LEGACY_LAYOUT_KEY}{': ' + e.field if e.field else ''}", e.problem) from None
    return metadata


#: MIGRATIONS[v] turns format v's metadata (with the PNG's other text chunks) into format v + 1.
MIGRATIONS: dict[int, Callable[[dict, dict[str, str], JsonBudget], dict]] = {1: _from_format_1}


def read_metadata_text(chunks: dict[str, str]) -> dict[str, Any]:
    """The metadata of the chunk, upgraded to :data:`FORMAT`. Raises FieldError(field, problem)."""
    budget = JsonBudget()
    try:
        metadata = parse_json(chunks[METADATA_KEY].encode("utf-8"), budget)
    except FieldError as e:
        raise FieldError(f"{METADATA_KEY}{': ' + e.field if e.field else ''}", e.problem) from None
    if not isinstance(metadata, dict):
        raise FieldError(METADATA_KEY, f"expected a JSON object, got {type(metadata).__name__}")
    version = metadata.get("format")
    if isinstance(version, bool) or not isinstance(version, int):
        raise FieldError(f"{METADATA_KEY}: format", f"expected a format number, got {version!r}")
    if version > FORMAT:
        raise FieldError(METADATA_KEY, f"written by a newer AST Studio (metadata format {version}); this version "
                                       f"reads formats {OLDEST_FORMAT} to {FORMAT}: please update AST Studio")
    if version < OLDEST_FORMAT:
        raise FieldError(f"{METADATA_KEY}: format",
                         f"unknown metadata format {version} (known: {OLDEST_FORMAT} to {FORMAT})")
    while version < FORMAT:
        metadata = MIGRATIONS[version](metadata, chunks, budget)
        version += 1
        metadata["format"] = version
    return metadata
