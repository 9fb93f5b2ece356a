"""A steps x layers heatmap of one modulation kind's effective coefficient.

Generic over a 2D array ``values[step, layer]``: rows are denoising steps (step 1 at the
top), columns are transformer layers (1-based labels), colour = value on a shared viridis
scale from 0 to ``vmax`` with a legend. Hovering shows ``(step, layer, value)`` in a tooltip
and through ``hovered``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from . import palette

MARGIN_LEFT, MARGIN_TOP, MARGIN_BOTTOM = 34, 16, 30
LEGEND_WIDTH = 54


class Heatmap(QWidget):
    #: (step, layer, value) under the mouse, 0-based; step = -1 when the mouse leaves
    hovered = Signal(int, int, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values = np.zeros((1, 1))
        self._vmax = 1.0
        self._title = ""
        self._blocks: list[tuple[str, int, int]] = []
        self._image: QImage | None = None
        self._hover = (-1, -1)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(340, 200)

    # ------------------------------------------------------------------ data
    def set_data(self, values: np.ndarray, vmax: float | None = None, title: str = "",
                 blocks: Sequence[tuple[str, int, int]] = ()) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
            raise ValueError(f"heatmap: expected a non-empty [steps, layers] array, got "
                             f"shape {values.shape}")
        self._values = values
        top = float(values.max()) if vmax is None else float(vmax)
        self._vmax = top if top > 0 else 1.0
        self._title = title
        self._blocks = [(str(n), int(s), int(e)) for n, s, e in blocks]
        rgb = np.ascontiguousarray(palette.heatmap_colours(values, self._vmax))
        h, w = values.shape
        self._image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.update()

    def values(self) -> np.ndarray:
        return self._values.copy()

    @property
    def vmax(self) -> float:
        return self._vmax

    # ------------------------------------------------------------------ geometry
    def map_rect(self) -> QRectF:
        return QRectF(MARGIN_LEFT, MARGIN_TOP,
                      max(10, self.width() - MARGIN_LEFT - LEGEND_WIDTH - 6),
                      max(10, self.height() - MARGIN_TOP - MARGIN_BOTTOM))

    def cell_centre(self, step: int, layer: int) -> QPointF:
        r = self.map_rect()
        steps, layers = self._values.shape
        return QPointF(r.left() + (layer + 0.5) * r.width() / layers,
                       r.top() + (step + 0.5) * r.height() / steps)

    def cell_at(self, pos: QPointF) -> tuple[int, int]:
        r = self.map_rect()
        if not r.contains(pos):
            return -1, -1
        steps, layers = self._values.shape
        layer = min(layers - 1, int((pos.x() - r.left()) / r.width() * layers))
        step = min(steps - 1, int((pos.y() - r.top()) / r.height() * steps))
        return step, layer

    # ------------------------------------------------------------------ mouse
    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        step, layer = self.cell_at(event.position())
        if (step, layer) != self._hover:
            self._hover = (step, layer)
            value = float(self._values[step, layer]) if step >= 0 else 0.0
            self.hovered.emit(step, layer, value)
            self.update()
        if step >= 0:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(step, layer), self)
        else:
            QToolTip.hideText()

    def describe(self, step: int, layer: int) -> str:
        value = float(self._values[step, layer])
        where = f"layer {layer + 1}"
        for name, s, e in self._blocks:
            if s <= layer < e:
                where += f" ({name} block {layer - s + 1})"
        return f"step {step + 1}, {where}: {self._title} coefficient {value:.3f}"

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._hover != (-1, -1):
            self._hover = (-1, -1)
            self.hovered.emit(-1, -1, 0.0)
            self.update()
        super().leaveEvent(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), palette.BACKGROUND)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        p.setFont(font)
        fm = p.fontMetrics()
        r = self.map_rect()
        steps, layers = self._values.shape
        if self._image is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(r, self._image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        cw, ch = r.width() / layers, r.height() / steps

        # block boundary + names
        for i, (name, s, e) in enumerate(self._blocks):
            x0, x1 = r.left() + s * cw, r.left() + e * cw
            p.setPen(palette.DIM_TEXT)
            label = f"{name} blocks" if fm.horizontalAdvance(f"{name} blocks") < x1 - x0 else name
            p.drawText(QRectF(x0, 0, x1 - x0, MARGIN_TOP), Qt.AlignmentFlag.AlignCenter, label)
            if i > 0:
                p.setPen(QPen(palette.BOUNDARY, 1.5, Qt.PenStyle.DashLine))
                p.drawLine(QPointF(x0, r.top() - 4), QPointF(x0, r.bottom() + 3))

        # layer axis (bottom)
        every = next((k for k in (1, 2, 5, 10, 20, 50, 100)
                      if cw * k >= fm.horizontalAdvance("00") + 6), 100)
        p.setPen(palette.DIM_TEXT)
        for layer in range(layers):
            near_first = 0 < layer * cw < fm.horizontalAdvance("00")
            if layer == 0 or ((layer + 1) % every == 0 and not near_first):
                x = r.left() + (layer + 0.5) * cw
                p.drawText(QRectF(x - 14, r.bottom() + 1, 28, 13), Qt.AlignmentFlag.AlignCenter,
                           str(layer + 1))
        p.drawText(QRectF(r.left(), r.bottom() + 14, r.width(), 14),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "layer")

        # step axis (left), step 1 at the top
        every = next((k for k in (1, 2, 4, 5, 10, 20, 50, 100) if ch * k >= fm.height()), 100)
        for step in range(steps):
            near_first = 0 < step * ch < fm.height()
            if step == 0 or ((step + 1) % every == 0 and not near_first):
                y = r.top() + (step + 0.5) * ch
                p.drawText(QRectF(0, y - 7, MARGIN_LEFT - 4, 14),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(step + 1))
        p.drawText(QRectF(0, r.bottom() + 14, MARGIN_LEFT + 20, 14),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "step")

        # hovered cell
        step, layer = self._hover
        if step >= 0:
            p.setPen(QPen(palette.SELECTED, 1.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(r.left() + layer * cw, r.top() + step * ch, cw, ch))
        p.setPen(QPen(palette.AXIS, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(r)

        # legend: colour bar 0..vmax
        bar = QRectF(r.right() + 10, r.top(), 10, r.height() - 18)
        n = max(2, int(bar.height()))
        ramp = palette.colour_scale(np.linspace(1.0, 0.0, n))[:, None, :].repeat(1, axis=1)
        ramp = np.ascontiguousarray(ramp)
        img = QImage(ramp.data, 1, n, 3, QImage.Format.Format_RGB888).copy()
        p.drawImage(bar, img)
        p.setPen(QPen(palette.AXIS, 1))
        p.drawRect(bar)
        p.setPen(palette.DIM_TEXT)
        for frac in (0.0, 0.5, 1.0):
            v = self._vmax * frac
            y = bar.bottom() - frac * bar.height()
            p.drawText(QRectF(bar.right() + 2, y - 7, LEGEND_WIDTH - 14, 14),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{v:.3g}")
        off = QRectF(bar.left(), r.bottom() - 10, 10, 10)
        p.fillRect(off, QColor(*palette.OFF_RGB))
        p.setPen(QPen(palette.AXIS, 1))
        p.drawRect(off)
        p.setPen(palette.DIM_TEXT)
        p.drawText(QRectF(off.right() + 2, off.top() - 3, LEGEND_WIDTH - 14, 16),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "off")
        p.drawText(QRectF(bar.left() - 8, 0, LEGEND_WIDTH, MARGIN_TOP),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "coef")
        p.end()
