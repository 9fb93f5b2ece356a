"""PNG checks with an explicit pixel cap, applied before any pixel is decoded."""
from __future__ import annotations

import io
import struct
import warnings

from PIL import Image

from .errors import FieldError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Largest image (width * height) a project file may hold: 8192 x 8192.
MAX_IMAGE_PIXELS = 8192 * 8192


def check_png(data: bytes, max_pixels: int | None = None) -> tuple[int, int]:
    """(width, height) of a PNG after checking its header, its size and that it decodes.

    Raises FieldError('', problem). The size is read from the header and checked
    against the cap before decoding, so a small file claiming a huge image is refused
    without allocating it.
    """
    cap = MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if not data.startswith(PNG_SIGNATURE):
        raise FieldError("", "not a PNG image")
    # The size, straight from the IHDR chunk (which must come first), before PIL sees the data.
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise FieldError("", "PNG image does not decode (no IHDR header)")
    w, h = struct.unpack(">II", data[16:24])
    if w <= 0 or h <= 0 or w * h > cap:
        raise FieldError("", f"image of {w}x{h} pixels is larger than the limit of {cap} pixels")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=["PNG"])
            w, h = im.size
            if w <= 0 or h <= 0 or w * h > cap:
                raise FieldError("", f"image of {w}x{h} pixels is larger than the limit of {cap} pixels")
            im.load()
    except FieldError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as e:
        raise FieldError("", f"PNG image does not decode ({str(e)[:120]})") from None
    return w, h


def decode_png(data: bytes, max_pixels: int | None = None) -> Image.Image:
    """The checked image, decoded (RGB/RGBA/L as stored)."""
    check_png(data, max_pixels)
    im = Image.open(io.BytesIO(data), formats=["PNG"])
    im.load()
    return im


def encode_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
