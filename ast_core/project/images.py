"""PNG checks with an explicit pixel cap, applied before any pixel is decoded.

Loading a project only checks each image's structure (:func:`check_png_structure`: header,
size, chunk framing and checksums, no decompression), so a project with large renders opens
at once; the pixels are decoded (:func:`decode_png`) when an image is shown or exported.
"""
from __future__ import annotations

import io
import struct
import warnings
import zlib

from PIL import Image

from .errors import FieldError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Largest image (width * height) a project file may hold: 8192 x 8192.
MAX_IMAGE_PIXELS = 8192 * 8192
#: Chunks in one PNG (an encoder writes one IDAT per 8-64 KiB of data).
MAX_CHUNKS = 100_000
#: Bit depths each PNG colour type allows (PNG specification, table 11.1).
_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_CRITICAL = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}


def check_png_structure(data: bytes, max_pixels: int | None = None) -> tuple[int, int]:
    """(width, height) of a PNG after checking its structure without decoding any pixel.

    Checks the signature, the IHDR header (size against the cap, a valid bit depth and
    colour type), every chunk's length and CRC, that the critical chunks are ones a
    decoder knows, and that image data and the end chunk are there. Raises
    FieldError('', problem).
    """
    cap = MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if not data.startswith(PNG_SIGNATURE):
        raise FieldError("", "not a PNG image")
    pos, n = len(PNG_SIGNATURE), len(data)
    kinds: list[bytes] = []
    width = height = colour = 0
    while True:
        if len(kinds) >= MAX_CHUNKS:
            raise FieldError("", f"PNG image has more than {MAX_CHUNKS} chunks")
        if pos + 12 > n:
            raise FieldError("", "PNG image is cut short (no IEND chunk)")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > n:
            raise FieldError("", f"PNG image is cut short (chunk {kind!r} runs past the end)")
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4:end])[0]:
            raise FieldError("", f"PNG image is damaged (bad checksum in chunk {kind!r})")
        if not kinds:
            width, height, colour = _check_header(kind, body, cap)
        elif kind[:1].isupper() and kind not in _CRITICAL:
            raise FieldError("", f"PNG image has an unknown critical chunk {kind!r}")
        kinds.append(kind)
        pos = end
        if kind == b"IEND":
            break
    if b"IDAT" not in kinds:
        raise FieldError("", "PNG image has no image data (IDAT chunk)")
    if kinds.count(b"IHDR") != 1:
        raise FieldError("", "PNG image has more than one IHDR chunk")
    if colour == 3 and b"PLTE" not in kinds[:kinds.index(b"IDAT")]:
        raise FieldError("", "PNG image with a palette has no palette (PLTE chunk) before its data")
    return width, height


def _check_header(kind: bytes, body: bytes, cap: int) -> tuple[int, int, int]:
    """(width, height, colour type) from a valid IHDR chunk."""
    if kind != b"IHDR" or len(body) != 13:
        raise FieldError("", "PNG image does not decode (no IHDR header)")
    w, h, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
    if w <= 0 or h <= 0 or w * h > cap:
        raise FieldError("", f"image of {w}x{h} pixels is larger than the limit of {cap} pixels")
    if depth not in _BIT_DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        raise FieldError("", f"PNG image has an invalid header (colour type {colour}, bit depth {depth})")
    return w, h, colour


def decode_png(data: bytes, max_pixels: int | None = None) -> Image.Image:
    """The image, decoded once (RGB/RGBA/L... as stored), after :func:`check_png_structure`.

    Raises FieldError('', problem): the size is checked against the cap before any pixel is
    decoded, so a small file claiming a huge image is refused without allocating it.
    """
    check_png_structure(data, max_pixels)
    cap = MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
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
    except (OSError, ValueError, SyntaxError, EOFError, zlib.error, struct.error, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as e:
        raise FieldError("", f"PNG image does not decode ({str(e)[:120]})") from None
    return im


def encode_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
