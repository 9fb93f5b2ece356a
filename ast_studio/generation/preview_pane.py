"""The preview pane: the render in progress (one preview per step) or a finished image.

The picture is drawn at the canvas' aspect ratio, centred, on a dark backdrop; the
instance outlines of the layout it was made from can be drawn on top (toggle). Each
preview carries the time its step ended; the pane records how long it took to reach the
screen (``latencies_ms``) when it is painted.
"""
from __future__ import annotations

import logging
import statistics
import time

import numpy as np
from PySide6.QtCore import QRectF, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from ast_studio.canvas.shapes import path_from_geometry

from .model_settings import flag

log = logging.getLogger(__name__)

BACKDROP = QColor("#1b1c1f")
FRAME = QColor("#3a3d42")


def qimage_from_rgb(rgb: np.ndarray) -> QImage:
    """A QImage owning a copy of an RGB uint8 array [H, W, 3]."""
    rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PreviewView(QWidget):
    """Paints the image (or a placeholder) at the canvas aspect, with optional outlines."""

    shown = Signal(float)  # latency in ms of a preview that just reached the screen
    #: the picture changed (a QImage, or None when cleared): the canvas' result view follows it
    image_changed = Signal(object)
    #: double-clicked: the pane asks to be shown larger
    double_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.image: QImage | None = None
        self.aspect_size = (1024, 1024)  # canvas width, height
        self.layout_snapshot = None  # the Layout the image was made from (for outlines)
        self.show_outlines = True
        self.placeholder = "No render yet: press Generate"
        self._pending: float | None = None
        self.latencies_ms: list[float] = []

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(360, 360)

    def set_canvas_size(self, width: int, height: int) -> None:
        self.aspect_size = (max(1, int(width)), max(1, int(height)))
        self.update()

    def set_image(self, image: QImage | None, layout=None, step_ended: float | None = None) -> None:
        self.image = image
        if layout is not None:
            self.layout_snapshot = layout
            self.aspect_size = (max(1, layout.width), max(1, layout.height))
        self._pending = step_ended
        self.update()
        self.image_changed.emit(image)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.double_clicked.emit()

    def image_rect(self) -> QRectF:
        """Where the picture goes: the largest rect of the canvas' aspect inside the widget."""
        w, h = self.aspect_size
        avail = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        scale = min(avail.width() / w, avail.height() / h)
        rw, rh = w * scale, h * scale
        return QRectF(avail.center().x() - rw / 2, avail.center().y() - rh / 2, rw, rh)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.fillRect(self.rect(), BACKDROP)
        target = self.image_rect()
        if self.image is None:
            p.fillRect(target, QColor("#25272b"))
            if not (self.show_outlines and self.layout_snapshot is not None and self.layout_snapshot.instances):
                p.setPen(QPen(QColor("#8a9099")))
                p.drawText(target.adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                           self.placeholder)
        else:
            # smooth scaling: a 1/8-size latent preview reads as a soft image, not as blocks
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(target, self.image)
        if self.show_outlines and self.layout_snapshot is not None:
            self._paint_outlines(p, target)
        p.setPen(QPen(FRAME, 1))
        p.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
        p.end()
        if self._pending is not None:
            ms = (time.perf_counter() - self._pending) * 1000.0
            self._pending = None
            self.latencies_ms.append(ms)
            self.shown.emit(ms)

    def _paint_outlines(self, p: QPainter, target: QRectF) -> None:
        layout = self.layout_snapshot
        sx, sy = target.width() / max(1, layout.width), target.height() / max(1, layout.height)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.translate(target.topLeft())
        p.scale(sx, sy)
        font = QFont(self.font())
        for inst in layout.instances:
            if not inst.visible or inst.geometry.is_empty:
                continue
            path = path_from_geometry(inst.geometry)
            dark = QPen(QColor(0, 0, 0, 150), 3.0)
            dark.setCosmetic(True)
            p.strokePath(path, dark)
            pen = QPen(QColor(inst.color), 1.6)
            pen.setCosmetic(True)
            p.strokePath(path, pen)
        p.restore()
        p.save()
        p.setFont(font)
        for inst in layout.instances:
            if not inst.visible or inst.geometry.is_empty:
                continue
            x0, y0, x1, y1 = inst.geometry.bounds
            pos = target.topLeft() + QRectF(0, 0, x0 * sx, y0 * sy).bottomRight()
            label = inst.name
            fm = p.fontMetrics()
            box = QRectF(pos.x() + 2, pos.y() + 2, fm.horizontalAdvance(label) + 8, fm.height() + 2)
            if box.width() + 4 > (x1 - x0) * sx or box.height() + 4 > (y1 - y0) * sy:
                continue  # a small preview: the outline's colour says which instance it is
            p.fillRect(box, QColor(0, 0, 0, 150))
            p.setPen(QColor(inst.color).lighter(130))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        p.restore()

    def latency_summary(self) -> str:
        if not self.latencies_ms:
            return "no previews shown yet"
        v = sorted(self.latencies_ms)
        p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
        return (f"preview latency over {len(v)} previews: median {statistics.median(v):.1f} ms, "
                f"95th percentile {p95:.1f} ms, worst {v[-1]:.1f} ms")


class PreviewPane(QWidget):
    """The view plus a caption ("Step 3 / 8", "Render 1024×1024 · seed 7") and the outlines toggle."""

    outlines_toggled = Signal(bool)
    #: the Enlarge button (or a double-click on the picture): show the pane large
    enlarge_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = PreviewView()
        self.caption = QLabel("")
        self.caption.setStyleSheet("color: #9aa0a8;")
        self.caption.setWordWrap(True)  # a long caption takes a second line instead of being cut off
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption.setMinimumWidth(40)
        self.outlines = QCheckBox("Outlines")
        self.outlines.setToolTip("Draw the instance outlines on top of the image")
        self.outlines.setChecked(True)
        self.outlines.toggled.connect(self._toggle)
        from ast_studio import icons

        self.enlarge = QToolButton()
        self.enlarge.setIcon(icons.icon("enlarge"))
        self.enlarge.setAutoRaise(True)
        self.enlarge.setToolTip("Show the preview large in its own window, or put it back (double-click the "
                                "picture does the same)")
        self.enlarge.clicked.connect(self.enlarge_requested)
        self.view.double_clicked.connect(self.enlarge_requested)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        bar.addWidget(self.caption, 1)
        bar.addWidget(self.outlines)
        bar.addWidget(self.enlarge)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addLayout(bar)

    def _toggle(self, on: bool) -> None:
        self.view.show_outlines = on
        self.view.update()
        self.outlines_toggled.emit(on)

    def show_preview(self, rgb: np.ndarray | None, index: int, total: int, layout, step_ended: float) -> None:
        if rgb is not None:
            self.view.set_image(qimage_from_rgb(rgb), layout, step_ended)
        self.caption.setText(f"Preview · step {index} / {total}")

    def show_image(self, image: QImage | np.ndarray, layout, caption: str) -> None:
        if isinstance(image, np.ndarray):
            image = qimage_from_rgb(image)
        self.view.set_image(image, layout)
        self.set_caption(caption)

    def set_caption(self, text: str, more: str = "") -> None:
        self.caption.setText(text)
        self.caption.setToolTip(f"{text}. {more}" if more else text)

    def clear(self, canvas_size: tuple[int, int] | None = None) -> None:
        self.view.image = None
        self.view.layout_snapshot = None
        if canvas_size:
            self.view.set_canvas_size(*canvas_size)
        self.caption.setText("")
        self.view.update()
        self.view.image_changed.emit(None)


OUTLINES_KEY = "preview/outlines"


def load_outlines_choice(settings: QSettings | None = None) -> bool:
    """Whether the preview pane draws the instance outlines (a user preference, default on)."""
    if settings is None:
        from ast_studio.settings import store

        settings = store()
    return flag(settings, OUTLINES_KEY, True)


def save_outlines_choice(on: bool, settings: QSettings | None = None) -> None:
    if settings is None:
        from ast_studio.settings import store

        settings = store()
    settings.setValue(OUTLINES_KEY, bool(on))
