"""The canvas background: a render or any picture shown under the layout to trace shapes against.

It belongs to the project (saved in the ``.astproj`` as ``background.png`` +
``background.json``: a traced reference is still there when the project is reopened), so
every change is an undo command on the document:

* :func:`picture_background` reads a picture file (PNG, JPEG, WebP, BMP, TIFF, GIF) into a
  :class:`~ast_core.project.CanvasBackground`, scaled down to what the canvas can show;
* :func:`render_background` turns a history render into one;
* :class:`SetBackground` sets, changes or removes it; consecutive opacity changes of one
  slider drag (one ``session``, see :mod:`ast_studio.panels.typing_sessions`) merge into one
  undo step.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image
from PySide6.QtGui import QUndoCommand

from ast_core.project import CanvasBackground
from ast_core.project.canvas_background import DEFAULT_OPACITY

#: Picture formats the import accepts (what Pillow reads without extra plug-ins).
PICTURE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.gif)"
#: Largest picture read at all (width x height), checked from its header before decoding.
MAX_SOURCE_PIXELS = 100_000_000
#: Longest side kept: the canvas' own size is enough to trace against (at least 2048 px).
MIN_KEPT_SIDE = 2048
_ID_OPACITY = 2301


class PictureError(ValueError):
    """A picture that cannot be used as the background; the message says why in one line."""


def picture_background(path: str | Path, canvas_size: tuple[int, int] = (1024, 1024),
                       opacity: float = DEFAULT_OPACITY) -> CanvasBackground:
    """The picture at ``path`` as a background (RGB PNG, longest side at most the canvas' or
    2048 px). Raises :class:`PictureError`."""
    path = Path(path)
    name = path.name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=list(PICTURE_FORMATS)) as im:
                w, h = im.size
                if w <= 0 or h <= 0 or w * h > MAX_SOURCE_PIXELS:
                    raise PictureError(f"{name} is {w}x{h} pixels, larger than the limit of "
                                       f"{MAX_SOURCE_PIXELS // 1_000_000} megapixels")
                im.draft("RGB", (max(canvas_size) * 2, max(canvas_size) * 2))  # JPEG: decode smaller
                picture = im.convert("RGBA") if im.mode in ("RGBA", "LA", "P") else im.convert("RGB")
    except PictureError:
        raise
    except FileNotFoundError:
        raise PictureError(f"{name}: no such file") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise PictureError(f"{name} is not a picture AST Studio can read "
                           f"(PNG, JPEG, WebP, BMP, TIFF or GIF): {str(e)[:100]}") from None
    if picture.mode == "RGBA":  # transparent parts show the canvas' white
        flat = Image.new("RGB", picture.size, (255, 255, 255))
        flat.paste(picture, mask=picture.getchannel("A"))
        picture = flat
    keep = max(MIN_KEPT_SIDE, *canvas_size)
    if max(picture.size) > keep:
        picture.thumbnail((keep, keep), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    picture.save(buf, format="PNG", optimize=False, compress_level=6)
    return CanvasBackground(buf.getvalue(), opacity=opacity, visible=True, name=name)


def render_background(render, label: str, opacity: float = DEFAULT_OPACITY) -> CanvasBackground:
    """A history render as the background (its PNG as stored)."""
    return CanvasBackground(bytes(render.image_png), opacity=opacity, visible=True, name=label)


class SetBackground(QUndoCommand):
    """Set, change or remove the canvas background (``after`` None removes it).

    Consecutive commands of one ``session`` (an opacity slider drag, arrow keys on it while it
    has the focus) become one undo step."""

    def __init__(self, document, after: CanvasBackground | None, text: str, session: int | None = None) -> None:
        super().__init__(text)
        self.document = document
        self.before = document.background
        self.after = after
        self.session = session

    def redo(self) -> None:
        self.document.set_background(self.after)

    def undo(self) -> None:
        self.document.set_background(self.before)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _ID_OPACITY if self.session is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not (isinstance(other, SetBackground) and other.session is not None and other.session == self.session):
            return False
        self.after = other.after
        if self.after == self.before:
            self.setObsolete(True)
        return True


def opacity_command(document, opacity: float, session: int | None = None) -> SetBackground | None:
    """Change the background's opacity (merging with the previous change of the same slider
    ``session``); None if unchanged."""
    background = document.background
    if background is None or abs(background.opacity - opacity) < 1e-9:
        return None
    return SetBackground(document, background.with_changes(opacity=float(opacity)),
                         f"Background opacity {opacity:.0%}", session=session)


def visibility_command(document, visible: bool) -> SetBackground | None:
    background = document.background
    if background is None or background.visible == bool(visible):
        return None
    return SetBackground(document, background.with_changes(visible=bool(visible)),
                         "Show background" if visible else "Hide background")
