"""Layer bands along the transformer's layer axis: which maps act on which layers.

Generic over ``bands = [(start, end, active_lane_keys, description), ...]`` that tile
``0..num_layers-1`` and a list of lanes ``[(key, label, colour), ...]`` (one row each).
Columns are layers (shown 1-based, as in the method's table); the double/single block
boundary is marked. The widget holds no schedule: edits leave as signals.

Mouse: drag an edge between two bands (the grips in the header, or the edge line) to move
it; click a cell to switch that lane on/off for the band; right-click for more (the owner
builds the menu from ``context_requested``).
"""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from . import palette

Band = tuple[int, int, frozenset, str]
LABEL_WIDTH = 96
MARGIN_RIGHT = 8
HEADER_BLOCKS = 16  # "double blocks | single blocks"
HEADER_TICKS = 14  # layer numbers
LANE_HEIGHT = 18
EDGE_GRAB = 5.0
GRIP_STRIP = 10  # grips of the band edges, under the lanes


class BandEditor(QWidget):
    #: an edge drag in progress: (band index whose start moves, new start layer)
    edge_previewed = Signal(int, int)
    #: an edge drag finished: (band index, new start layer)
    edge_committed = Signal(int, int)
    #: an edge drag was cancelled (Escape)
    drag_cancelled = Signal()
    #: a cell was clicked: (band index, lane key)
    lane_toggled = Signal(int, str)
    #: right-click: (band index, layer, global position)
    context_requested = Signal(int, int, QPoint)
    #: hovered layer (0-based, -1 when the mouse leaves)
    hovered = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lanes: list[tuple[str, str, QColor]] = []
        self._bands: list[Band] = []
        self._num_layers = 1
        self._blocks: list[tuple[str, int, int]] = []
        self._drag_edge = -1
        self._drag_limits = (0, 0)
        self._drag_origin = 0
        self._drag_layer = 0
        self._press: tuple[int, str] | None = None
        self._hover_layer = -1
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(340, self._height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, self._height())

    def _height(self) -> int:
        return HEADER_BLOCKS + HEADER_TICKS + LANE_HEIGHT * max(1, len(self._lanes)) + GRIP_STRIP + 2

    # ------------------------------------------------------------------ data
    def set_lanes(self, lanes: Sequence[tuple[str, str, QColor]]) -> None:
        self._lanes = [(k, label, QColor(c)) for k, label, c in lanes]
        self.setFixedHeight(self._height())
        self.updateGeometry()
        self.update()

    def set_bands(self, bands: Sequence[Band], num_layers: int,
                  blocks: Sequence[tuple[str, int, int]] = ()) -> None:
        """``bands`` tile ``0..num_layers-1``; ``blocks`` = [(name, start, end)] (double/single)."""
        self._bands = [(int(s), int(e), frozenset(a), str(d)) for s, e, a, d in bands]
        self._num_layers = max(1, int(num_layers))
        self._blocks = [(str(n), int(s), int(e)) for n, s, e in blocks]
        self.update()

    def bands(self) -> list[Band]:
        return list(self._bands)

    # ------------------------------------------------------------------ geometry
    def _columns(self) -> QRectF:
        top = HEADER_BLOCKS + HEADER_TICKS
        return QRectF(LABEL_WIDTH, top, max(10, self.width() - LABEL_WIDTH - MARGIN_RIGHT),
                      LANE_HEIGHT * max(1, len(self._lanes)))

    def layer_x(self, layer: float) -> float:
        """Pixel x of the left edge of ``layer`` (``num_layers`` = right end)."""
        r = self._columns()
        return r.left() + layer / self._num_layers * r.width()

    def edge_position(self, band_index: int) -> QPointF:
        """Pixel position of the grip of the edge where band ``band_index`` starts."""
        return QPointF(self.layer_x(self._bands[band_index][0]),
                       self._columns().bottom() + GRIP_STRIP / 2)

    def cell_position(self, band_index: int, lane_key: str) -> QPointF:
        """Pixel centre of band ``band_index`` in lane ``lane_key``."""
        s, e = self._bands[band_index][:2]
        lane = [k for k, _, _ in self._lanes].index(lane_key)
        r = self._columns()
        return QPointF((self.layer_x(s) + self.layer_x(e)) / 2,
                       r.top() + (lane + 0.5) * LANE_HEIGHT)

    def layer_at(self, x: float) -> int:
        r = self._columns()
        layer = int((x - r.left()) / r.width() * self._num_layers)
        return min(self._num_layers - 1, max(0, layer))

    def _band_at(self, layer: int) -> int:
        for i, (s, e, _, _) in enumerate(self._bands):
            if s <= layer < e:
                return i
        return -1

    def _lane_at(self, y: float) -> str | None:
        r = self._columns()
        if not r.top() <= y < r.bottom():
            return None
        return self._lanes[int((y - r.top()) // LANE_HEIGHT)][0]

    def _edge_at(self, pos: QPointF) -> int:
        """Band index whose start edge is under ``pos`` (inner edges only), else -1."""
        if pos.y() < HEADER_BLOCKS + HEADER_TICKS:
            return -1
        best, best_d = -1, EDGE_GRAB
        for i in range(1, len(self._bands)):
            d = abs(self.layer_x(self._bands[i][0]) - pos.x())
            if d <= best_d:
                best, best_d = i, d
        return best

    def _layer_name(self, layer: int) -> str:
        for name, s, e in self._blocks:
            if s <= layer < e:
                return f"layer {layer + 1} ({name} block {layer - s + 1})"
        return f"layer {layer + 1}"

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if event.button() == Qt.MouseButton.RightButton:
            if self._columns().adjusted(0, -HEADER_TICKS, 0, 0).contains(pos):
                layer = self.layer_at(pos.x())
                self.context_requested.emit(self._band_at(layer), layer,
                                            event.globalPosition().toPoint())
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        edge = self._edge_at(pos)
        if edge > 0:
            self._drag_edge = edge
            self._drag_origin = self._drag_layer = self._bands[edge][0]
            self._drag_limits = (self._bands[edge - 1][0] + 1, self._bands[edge][1] - 1)
            return
        lane = self._lane_at(pos.y())
        if lane is not None and self._columns().contains(pos):
            self._press = (self._band_at(self.layer_at(pos.x())), lane)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if self._drag_edge > 0:
            r = self._columns()
            layer = round((pos.x() - r.left()) / r.width() * self._num_layers)
            layer = min(max(layer, self._drag_limits[0]), self._drag_limits[1])
            if layer != self._drag_layer:
                self._drag_layer = layer
                self.edge_previewed.emit(self._drag_edge, layer)
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"band starts at layer {layer + 1}", self)
            return
        self.setCursor(Qt.CursorShape.SplitHCursor if self._edge_at(pos) > 0
                       else Qt.CursorShape.PointingHandCursor
                       if self._lane_at(pos.y()) and self._columns().contains(pos)
                       else Qt.CursorShape.ArrowCursor)
        inside = self._columns().adjusted(0, -HEADER_TICKS - HEADER_BLOCKS, 0, 0).contains(pos)
        layer = self.layer_at(pos.x()) if inside else -1
        if layer != self._hover_layer:
            self._hover_layer = layer
            self.hovered.emit(layer)
            self.update()
        if layer >= 0:
            band = self._band_at(layer)
            text = self._layer_name(layer)
            if band >= 0:
                s, e, _, desc = self._bands[band]
                text += f"\nband: layers {s + 1}-{e}\n{desc}"
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._drag_edge > 0:
            edge, layer, origin = self._drag_edge, self._drag_layer, self._drag_origin
            self._drag_edge = -1
            if layer != origin:
                self.edge_committed.emit(edge, layer)
            self.update()
            return
        if self._press is not None:
            band, lane = self._press
            self._press = None
            pos = event.position()
            if (self._columns().contains(pos) and self._lane_at(pos.y()) == lane
                    and self._band_at(self.layer_at(pos.x())) == band and band >= 0):
                self.lane_toggled.emit(band, lane)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape and self._drag_edge > 0:
            self._drag_edge = -1
            self.drag_cancelled.emit()
            self.update()
            return
        super().keyPressEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._hover_layer != -1:
            self._hover_layer = -1
            self.hovered.emit(-1)
            self.update()
        super().leaveEvent(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), palette.BACKGROUND)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        p.setFont(font)
        fm = p.fontMetrics()
        r = self._columns()
        col_w = r.width() / self._num_layers

        # block header: double | single
        for i, (name, s, e) in enumerate(self._blocks):
            rect = QRectF(self.layer_x(s), 1, self.layer_x(e) - self.layer_x(s), HEADER_BLOCKS - 3)
            p.fillRect(rect, QColor("#2c3440") if i % 2 == 0 else QColor("#332f3c"))
            p.setPen(palette.TEXT)
            label = f"{name} blocks ({e - s})"
            if fm.horizontalAdvance(label) > rect.width() - 4:
                label = f"{name} ({e - s})"
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        p.setPen(palette.DIM_TEXT)
        p.drawText(QRectF(4, 0, LABEL_WIDTH - 8, HEADER_BLOCKS), Qt.AlignmentFlag.AlignLeft
                   | Qt.AlignmentFlag.AlignVCenter, "layers")

        # layer ticks (1-based), spaced to stay readable
        every = 1
        for k in (1, 2, 5, 10, 20, 50, 100):
            every = k
            if col_w * k >= fm.horizontalAdvance("00") + 6:
                break
        for layer in range(self._num_layers):
            if (layer + 1) % every == 0 or layer == 0:
                x = self.layer_x(layer + 0.5)
                p.setPen(palette.DIM_TEXT)
                p.drawText(QRectF(x - 14, HEADER_BLOCKS, 28, HEADER_TICKS - 1),
                           Qt.AlignmentFlag.AlignCenter, str(layer + 1))

        # lanes
        for li, (key, label, colour) in enumerate(self._lanes):
            y = r.top() + li * LANE_HEIGHT
            p.setPen(colour.lighter(120))
            p.drawText(QRectF(4, y, LABEL_WIDTH - 8, LANE_HEIGHT),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
            p.fillRect(QRectF(r.left(), y + 1, r.width(), LANE_HEIGHT - 2), palette.PLOT)
            for s, e, active, _ in self._bands:
                if key in active:
                    cell = QRectF(self.layer_x(s) + 0.5, y + 2,
                                  self.layer_x(e) - self.layer_x(s) - 1, LANE_HEIGHT - 4)
                    p.fillRect(cell, colour)

        # thin layer separators when they are wide enough to be useful
        if col_w >= 4:
            p.setPen(QPen(QColor(0, 0, 0, 70), 1))
            for layer in range(1, self._num_layers):
                x = self.layer_x(layer)
                p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))

        # hovered layer
        if 0 <= self._hover_layer < self._num_layers and self._drag_edge < 0:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(255, 255, 255, 40))
            p.drawRect(QRectF(self.layer_x(self._hover_layer), r.top(), col_w, r.height()))

        # double/single boundary
        for _, s, _ in self._blocks[1:]:
            x = self.layer_x(s)
            p.setPen(QPen(palette.BOUNDARY, 1.5, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x, 0), QPointF(x, HEADER_BLOCKS))  # the tick row stays readable
            p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))

        # band edges with grips
        for i in range(1, len(self._bands)):
            x = self.layer_x(self._bands[i][0])
            active = i == self._drag_edge
            p.setPen(QPen(palette.SELECTED if active else palette.TEXT, 2 if active else 1.2))
            p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom() + 2))
            p.setBrush(palette.SELECTED if active else palette.TEXT)
            y0 = r.bottom() + 2
            p.drawPolygon(QPolygonF([QPointF(x, y0), QPointF(x - 5, y0 + GRIP_STRIP - 2),
                                     QPointF(x + 5, y0 + GRIP_STRIP - 2)]))
        p.setPen(QPen(palette.AXIS, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(r)
        p.end()
