"""Provenance: render PNGs that carry their generation metadata and layout in text chunks.

The one metadata format of the project, written and read by the CLI and the studio alike
(no torch, no Qt).

Chunks (compressed iTXt): ``ast-studio:metadata`` (the whole metadata JSON: model,
settings, seed, schedule, layout, versions, warnings), ``ast-studio:layout`` (the layout
JSON alone, as in a project's layout.json), ``Software``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

METADATA_KEY = "ast-studio:metadata"
LAYOUT_KEY = "ast-studio:layout"


def png_info(metadata: dict[str, Any]) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Software", "AST Studio")
    info.add_itxt(METADATA_KEY, json.dumps(metadata, ensure_ascii=False), zip=True)
    if metadata.get("layout") is not None:
        info.add_itxt(LAYOUT_KEY, json.dumps(metadata["layout"], ensure_ascii=False), zip=True)
    return info


def png_bytes(image: Image.Image, metadata: dict[str, Any]) -> bytes:
    """``image`` as PNG bytes with its metadata in the text chunks."""
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=png_info(metadata), compress_level=6)
    return buf.getvalue()


def save_png(image: Image.Image, path: str | Path, metadata: dict[str, Any]) -> None:
    """Write ``image`` with its metadata; atomic (a temporary file renamed over ``path``)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        image.save(tmp, format="PNG", pnginfo=png_info(metadata))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_png_metadata(path: str | Path) -> dict[str, Any]:
    """{"metadata": dict | None, "layout": dict | None} from a render PNG."""
    with Image.open(path) as im:
        text = dict(getattr(im, "text", {}) or {})
    return {
        "metadata": json.loads(text[METADATA_KEY]) if METADATA_KEY in text else None,
        "layout": json.loads(text[LAYOUT_KEY]) if LAYOUT_KEY in text else None,
    }
