"""Provenance: render PNGs that other tools read and that reopen as projects.

The one PNG metadata format of the project, written by ``ast-studio render``, the studio's
history export and every variation alike (no torch, no Qt). Text chunks:

* ``parameters`` -- A1111-style text (the base prompt, then ``Steps: N, Sampler: ..., CFG scale:
  G, Seed: S, Size: WxH, Model: ...`` plus the method, schedule, weights, model options and
  LoRAs): what A1111/Forge's "PNG Info" and civitai show (:mod:`.a1111`); a tEXt chunk, or iTXt
  when the text is not Latin-1, as A1111 writes it;
* ``ast-studio:metadata`` -- the render's whole metadata as JSON with its format version,
  compressed: everything needed to rebuild the project (:mod:`.record`);
* ``Software`` -- "AST Studio".

There is no ``prompt`` or ``workflow`` chunk: ComfyUI parses those as its own JSON graphs.

Reading (:func:`read_png`) never decodes a pixel: the file's structure is checked, the text
chunks are taken out within size limits (:mod:`.chunks`), the JSON is parsed strictly within the
project reader's limits, and the layout, settings and schedule are validated as a project's
are. Every problem is a :class:`ProvenanceError` (a ``ProjectFileError``) naming the file and
what is wrong: no AST Studio metadata, a newer format, damaged data.
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

from ..project.errors import FieldError, ProjectFileError
from ..project.model import Project
from .a1111 import parameters_text
from .chunks import MAX_PNG_BYTES, text_chunks
from .record import FORMAT, LEGACY_LAYOUT_KEY, METADATA_KEY, read_metadata_text

PARAMETERS_KEY = "parameters"
SOFTWARE_KEY = "Software"
SOFTWARE = "AST Studio"
#: Text chunks other tools write, named when a PNG has none of ours.
_OTHER_TOOLS = {"parameters": "A1111/Forge", "prompt": "ComfyUI", "workflow": "ComfyUI",
                "invokeai_metadata": "InvokeAI", "sui_image_params": "SwarmUI"}

__all__ = [
    "FORMAT", "METADATA_KEY", "PARAMETERS_KEY", "PngProject", "ProvenanceError", "parameters_text", "png_bytes",
    "png_info", "read_metadata", "read_png", "save_png",
]


class ProvenanceError(ProjectFileError):
    """A PNG that does not open as a project; the message names the file and the problem."""


def png_info(metadata: dict[str, Any]) -> PngImagePlugin.PngInfo:
    """The text chunks of a render with ``metadata`` (the engine's metadata of one image)."""
    record = {**metadata, "format": FORMAT}
    info = PngImagePlugin.PngInfo()
    info.add_text(SOFTWARE_KEY, SOFTWARE)
    info.add_text(PARAMETERS_KEY, parameters_text(record))  # tEXt, iTXt when not Latin-1 (as A1111)
    info.add_itxt(METADATA_KEY, json.dumps(record, ensure_ascii=False, allow_nan=False), zip=True)
    return info


def png_bytes(image: Image.Image, metadata: dict[str, Any]) -> bytes:
    """``image`` as PNG bytes with its metadata in the text chunks."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=png_info(metadata), compress_level=6)
    return buf.getvalue()


def save_png(image: Image.Image, path: str | Path, metadata: dict[str, Any]) -> None:
    """Write ``image`` with its metadata; atomic (a temporary file renamed over ``path``)."""
    path = Path(path)
    data = png_bytes(image, metadata)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@dataclass
class PngProject:
    """What a render PNG says: the project that made it (the PNG itself in its history), the
    render's metadata, and what could not be taken over as it was."""

    project: Project
    metadata: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _read(source: str | Path | bytes, label: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), label or "image"
    path = Path(source)
    label = label or str(path)
    if not path.is_file():
        raise ProvenanceError(label, "", "no such file" if not path.exists() else "not a file")
    size = path.stat().st_size
    if size > MAX_PNG_BYTES:
        raise ProvenanceError(label, "", f"file of {size} bytes is larger than the limit of {MAX_PNG_BYTES} bytes")
    try:
        return path.read_bytes(), label
    except OSError as e:
        raise ProvenanceError(label, "", f"cannot be read ({e.strerror or e})") from None


def _metadata(data: bytes, label: str) -> dict[str, Any]:
    try:
        chunks, names = text_chunks(data, {METADATA_KEY, LEGACY_LAYOUT_KEY})
    except FieldError as e:
        raise ProvenanceError(label, e.field, e.problem) from None
    if METADATA_KEY not in chunks:
        tools = sorted({tool for key, tool in _OTHER_TOOLS.items() if key in names})
        made = f"; it carries {' and '.join(tools)} generation data" if tools else ""
        raise ProvenanceError(label, "", f"holds no AST Studio metadata (no {METADATA_KEY} text chunk{made}): "
                                         "only PNGs rendered by AST Studio open as projects")
    try:
        return read_metadata_text(chunks)
    except FieldError as e:
        raise ProvenanceError(label, e.field, e.problem) from None


def read_metadata(source: str | Path | bytes, label: str | None = None) -> dict[str, Any]:
    """The render metadata of a PNG (upgraded to the current format). Raises ProvenanceError."""
    data, label = _read(source, label)
    return _metadata(data, label)


def read_png(source: str | Path | bytes, label: str | None = None) -> PngProject:
    """The project a render PNG was made from, with the PNG in its history. Raises ProvenanceError."""
    from .project import project_from_metadata

    data, label = _read(source, label)
    metadata = _metadata(data, label)
    try:
        project, warnings = project_from_metadata(metadata, data)
    except FieldError as e:
        raise ProvenanceError(label, e.field, e.problem) from None
    return PngProject(project, metadata, warnings)
