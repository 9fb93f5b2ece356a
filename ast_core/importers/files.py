"""Reading the importers' input files with clear errors and size limits."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..document.layout import MAX_SIZE, MIN_SIZE, SIZE_STEP
from .result import ImportFileError

MAX_JSON_BYTES = 16 * 1024 * 1024
#: Largest input image (pixels); well above the largest canvas (4096 x 4096).
MAX_IMAGE_PIXELS = 8192 * 8192


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ImportFileError(f"{path}: larger than {MAX_JSON_BYTES} bytes, not a prompts/boxes file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise ImportFileError(f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except (OSError, ValueError, RecursionError) as e:
        raise ImportFileError(f"{path}: cannot be read ({e})") from None


def read_image(path: str | Path, mode: str) -> np.ndarray:
    """Pixels of an image file converted to ``mode`` ("RGB" or "L"); size checked before decoding."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    try:
        with Image.open(path) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise ImportFileError(f"{path}: image of {w}x{h} pixels is larger than the limit of {MAX_IMAGE_PIXELS}")
            im.load()
            if mode == "RGB" and im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im2 = Image.alpha_composite(bg, rgba).convert(mode)  # transparent = white = background
            else:
                im2 = im.convert(mode)
            return np.asarray(im2)
    except ImportFileError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ImportFileError(f"{path}: not a readable image ({str(e)[:120]})") from None


def canvas_size(width: int, height: int, source: str) -> tuple[int, int, list[str]]:
    """The nearest valid canvas size (multiples of 16, 64..4096) and a warning if it differs."""
    out, warnings = [], []
    for label, v in (("width", width), ("height", height)):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
            raise ImportFileError(f"{source}: {label} must be a positive number of pixels, got {v!r}")
        r = int(min(MAX_SIZE, max(MIN_SIZE, SIZE_STEP * math.floor(v / SIZE_STEP + 0.5))))  # halves round up
        out.append(r)
    if (out[0], out[1]) != (width, height):
        warnings.append(
            f"{source}: canvas {width}x{height} is not a multiple of {SIZE_STEP} (between {MIN_SIZE} and {MAX_SIZE}); "
            f"using {out[0]}x{out[1]} with the regions scaled to match"
        )
    return out[0], out[1], warnings


def colour_hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb))


#: Largest seed the studio's generation settings hold.
MAX_SEED = 2**31 - 1


def seed_setting(data: dict, source: str, warnings: list[str]) -> dict:
    """``{"seed": N}`` if the input carries a usable seed; a warning if it carries an unusable one."""
    if "seed" not in data:
        return {}
    seed = data["seed"]
    if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED:
        return {"seed": seed}
    warnings.append(f"{source}: \"seed\" {seed!r} is not a whole number from 0 to {MAX_SEED}; it is not kept")
    return {}
