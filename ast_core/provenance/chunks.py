"""Reading a PNG's text chunks within limits, without decoding a pixel.

The file is checked as a project's images are (:func:`ast_core.project.images.check_png_structure`:
signature, header, pixel cap, every chunk's length and checksum); then only the text chunks
asked for are taken out, and a compressed one is inflated at most to :data:`MAX_TEXT_BYTES`
(a small chunk that inflates to gigabytes is refused as it inflates).
"""
from __future__ import annotations

import struct
import zlib

from ..project.errors import FieldError
from ..project.images import PNG_SIGNATURE, check_png_structure

#: Largest PNG file read (a 4096x4096 RGB render is at most ~50 MB).
MAX_PNG_BYTES = 256 * 1024 * 1024
#: Largest text of one chunk, inflated (a project's JSON part may be 64 MiB as well).
MAX_TEXT_BYTES = 64 * 1024 * 1024
_TEXT_KINDS = (b"tEXt", b"zTXt", b"iTXt")


def _inflate(data: bytes, key: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    except zlib.error as e:
        raise FieldError(key, f"compressed text does not inflate ({e})") from None
    if len(out) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
        raise FieldError(key, f"text chunk inflates to more than the limit of {MAX_TEXT_BYTES} bytes")
    return out


def _split(body: bytes, kind: bytes) -> tuple[str, bytes, bool, str]:
    """(keyword, payload, compressed?, encoding) of one text chunk."""
    key, sep, rest = body.partition(b"\x00")
    if not sep or not 1 <= len(key) <= 79:
        raise FieldError("", f"PNG image has a damaged {kind.decode()} chunk (no keyword)")
    name = key.decode("latin-1")
    if kind == b"tEXt":
        return name, rest, False, "latin-1"
    if kind == b"zTXt":
        if not rest or rest[0] != 0:
            raise FieldError(name, "unknown compression method")
        return name, rest[1:], True, "latin-1"
    if len(rest) < 2 or rest[1] != 0:
        raise FieldError(name, "damaged iTXt chunk (unknown compression method)")
    compressed = rest[0] == 1
    _language, sep1, rest = rest[2:].partition(b"\x00")
    _translated, sep2, text = rest.partition(b"\x00")
    if not (sep1 and sep2):
        raise FieldError(name, "damaged iTXt chunk")
    return name, text, compressed, "utf-8"


def text_chunks(data: bytes, keys: set[str]) -> tuple[dict[str, str], set[str]]:
    """(the text of each chunk in ``keys``, every text chunk's keyword) of a PNG.

    Raises FieldError(field, problem): not a PNG, a damaged or oversized one, a chunk of
    ``keys`` twice, a text that does not inflate or decode.
    """
    if len(data) > MAX_PNG_BYTES:
        raise FieldError("", f"file of {len(data)} bytes is larger than the limit of {MAX_PNG_BYTES} bytes")
    check_png_structure(data)
    pos, found, names = len(PNG_SIGNATURE), {}, set()
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IEND":
            break
        if kind not in _TEXT_KINDS:
            continue
        name, payload, compressed, encoding = _split(body, kind)
        names.add(name)
        if name not in keys:
            continue
        if name in found:
            raise FieldError(name, "the image holds this text chunk twice")
        if len(payload) > MAX_TEXT_BYTES:
            raise FieldError(name, f"text chunk of {len(payload)} bytes is larger than the limit of {MAX_TEXT_BYTES}")
        raw = _inflate(payload, name) if compressed else payload
        try:
            found[name] = raw.decode(encoding)
        except UnicodeDecodeError as e:
            raise FieldError(name, f"text is not {encoding.upper()} ({e.reason} at byte {e.start})") from None
    return found, names
