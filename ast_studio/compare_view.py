"""A picture at full size with zoom and pan, optionally compared with a second one.

Modes: one picture; side by side (two halves panned and zoomed together); swipe (a divider
you drag: the first picture left of it, the second right); blend (the second over the first
at an opacity). The second picture is drawn at the first one's size, so renders of one layout
line up pixel for pixel.

Mouse: drag pans (in swipe mode, dragging the divider moves it), the wheel zooms at the
cursor, a double-click switches between fit and 100%. Keys: + / - zoom, 0 fit, 1 100%,
arrow keys pan.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SINGLE, SIDE_BY_SIDE, SWIPE, BLEND = "single", "side by side", "swipe", "blend"
MODES = (SINGLE, SIDE_BY_SIDE, SWIPE, BLEND)
MIN_ZOOM, MAX_ZOOM = 0.02, 32.0
BACKDROP = QColor("#161719")
GAP = 6  # pixels between the two halves side by side


class CompareView(QWidget):
    #: the zoom changed (screen pixels per picture pixel)
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 150)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setToolTip("Drag to pan, wheel to zoom, double-click: fit / 100%. Swipe: drag the divider.")
        self.a: QImage | None = None
        self.b: QImage | None = None
        self.labels = ("", "")
        self.mode = SINGLE
        self.zoom = 1.0
        self.centre = QPointF(0, 0)  # the picture point at the middle of each viewport
        self.split = 0.5  # swipe divider, as a share of the width
        self.blend = 0.5  # the second picture's opacity in blend mode
        self.fitted = True  # follows the window's size until the user zooms or pans
        self._drag: tuple[str, QPointF] | None = None

    # ------------------------------------------------------------------ content
    def set_pictures(self, a: QImage | None, b: QImage | None = None, labels: tuple[str, str] = ("", "")) -> None:
        size_changed = self.a is None or a is None or a.size() != self.a.size()
        self.a, self.b, self.labels = a, b, labels
        if self.b is None and self.mode != SINGLE:
            self.mode = SINGLE
        if size_changed or self.fitted:
            self.fit()
        self.update()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
        self.mode = mode if self.b is not None else SINGLE
        if self.fitted:
            self.fit()
        self.update()

    def set_blend(self, opacity: float) -> None:
        self.blend = max(0.0, min(1.0, float(opacity)))
        self.update()

    def set_split(self, share: float) -> None:
        self.split = max(0.0, min(1.0, float(share)))
        self.update()

    # ------------------------------------------------------------------ geometry
    def viewports(self) -> list[QRectF]:
        """Where pictures are drawn: the whole widget, or two halves side by side."""
        r = QRectF(self.rect())
        if self.mode == SIDE_BY_SIDE:
            half = (r.width() - GAP) / 2
            return [QRectF(r.left(), r.top(), half, r.height()), QRectF(r.left() + half + GAP, r.top(), half, r.height())]
        return [r]

    def picture_rect(self, viewport: QRectF) -> QRectF:
        """Where picture A's pixels land in ``viewport`` (B is drawn into the same rect)."""
        if self.a is None:
            return QRectF()
        w, h = self.a.width() * self.zoom, self.a.height() * self.zoom
        c = viewport.center()
        return QRectF(c.x() - self.centre.x() * self.zoom, c.y() - self.centre.y() * self.zoom, w, h)

    def to_picture(self, pos: QPointF) -> QPointF:
        """A widget point -> picture A's pixel coordinates."""
        viewport = next((v for v in self.viewports() if v.contains(pos)), self.viewports()[0])
        rect = self.picture_rect(viewport)
        return QPointF((pos.x() - rect.left()) / self.zoom, (pos.y() - rect.top()) / self.zoom)

    def fit(self) -> None:
        if self.a is None:
            return
        vp = self.viewports()[0]
        if vp.width() < 10 or vp.height() < 10:
            self.fitted = True
            return
        self._set_zoom(min(vp.width() / self.a.width(), vp.height() / self.a.height()) * 0.98)
        self.centre = QPointF(self.a.width() / 2, self.a.height() / 2)
        self.fitted = True
        self.update()

    def actual_size(self) -> None:
        self.zoom_at(1.0, None)

    def zoom_at(self, zoom: float, anchor: QPointF | None) -> None:
        """Zoom keeping the picture point under ``anchor`` (a widget point; None: the middle) in place."""
        if self.a is None:
            return
        vp = self.viewports()[0]
        anchor = anchor if anchor is not None else vp.center()
        before = self.to_picture(anchor)
        self._set_zoom(zoom)
        after = self.to_picture(anchor)
        self.centre += before - after
        self.fitted = False
        self.update()

    def _set_zoom(self, zoom: float) -> None:
        self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self.zoom_changed.emit(self.zoom)

    def pan(self, dx: float, dy: float) -> None:
        """Move the pictures by (dx, dy) screen pixels."""
        self.centre -= QPointF(dx / self.zoom, dy / self.zoom)
        self.fitted = False
        self.update()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.fillRect(self.rect(), BACKDROP)
        if self.a is None:
            p.setPen(QColor("#8a9099"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "This render's picture cannot be decoded")
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 2.0)
        viewports = self.viewports()
        if self.mode == SIDE_BY_SIDE and self.b is not None:
            for vp, image, label in zip(viewports, (self.a, self.b), self.labels):
                p.save()
                p.setClipRect(vp)
                p.drawImage(self.picture_rect(vp), image)
                self._label(p, vp.intersected(self.picture_rect(vp)), label)
                p.restore()
        else:
            vp = viewports[0]
            target = self.picture_rect(vp)
            p.drawImage(target, self.a)
            if self.mode == BLEND and self.b is not None:
                p.setOpacity(self.blend)
                p.drawImage(target, self.b)
                p.setOpacity(1.0)
            elif self.mode == SWIPE and self.b is not None:
                x = vp.left() + vp.width() * self.split
                p.save()
                p.setClipRect(QRectF(x, vp.top(), vp.right() - x, vp.height()))
                p.drawImage(target, self.b)
                p.restore()
                p.setPen(QPen(QColor(0, 0, 0, 170), 4))
                p.drawLine(QPointF(x, vp.top()), QPointF(x, vp.bottom()))
                p.setPen(QPen(QColor("#ffffff"), 2))
                p.drawLine(QPointF(x, vp.top()), QPointF(x, vp.bottom()))
                p.setBrush(QColor("#ffffff"))
                p.drawEllipse(QPointF(x, vp.center().y()), 7, 7)
                self._label(p, QRectF(vp.left(), vp.top(), x - vp.left(), vp.height()).intersected(target),
                            self.labels[0])
                self._label(p, QRectF(x, vp.top(), vp.right() - x, vp.height()).intersected(target), self.labels[1])
            if self.mode == SINGLE:
                self._label(p, vp.intersected(target), self.labels[0])
        p.end()

    def _label(self, p: QPainter, area: QRectF, text: str) -> None:
        if not text or area.width() < 60:
            return
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        fm = p.fontMetrics()
        width = min(fm.horizontalAdvance(text) + 14, int(area.width()) - 12)
        box = QRectF(area.left() + 8, area.top() + 8, width, fm.height() + 6)
        p.fillRect(box, QColor(0, 0, 0, 170))
        p.setPen(QColor("#f2f3f5"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, fm.elidedText(text, Qt.TextElideMode.ElideRight, width - 10))

    # ------------------------------------------------------------------ input
    def _near_divider(self, pos: QPointF) -> bool:
        if self.mode != SWIPE or self.b is None:
            return False
        vp = self.viewports()[0]
        return abs(pos.x() - (vp.left() + vp.width() * self.split)) <= 10

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            kind = "split" if self._near_divider(event.position()) and event.button() == Qt.MouseButton.LeftButton \
                else "pan"
            self._drag = (kind, event.position())
            self.setCursor(Qt.CursorShape.SplitHCursor if kind == "split" else Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if self._drag is None:
            self.setCursor(Qt.CursorShape.SplitHCursor if self._near_divider(pos) else Qt.CursorShape.OpenHandCursor)
            return
        kind, last = self._drag
        if kind == "split":
            vp = self.viewports()[0]
            self.set_split((pos.x() - vp.left()) / max(1.0, vp.width()))
        else:
            self.pan(pos.x() - last.x(), pos.y() - last.y())
        self._drag = (kind, pos)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._drag = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if self.fitted:
            self.zoom_at(1.0, event.position())
        else:
            self.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_at(self.zoom * 1.15 ** steps, event.position())
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_at(self.zoom * 1.25, None)
        elif key == Qt.Key.Key_Minus:
            self.zoom_at(self.zoom / 1.25, None)
        elif key == Qt.Key.Key_0:
            self.fit()
        elif key == Qt.Key.Key_1:
            self.actual_size()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down):
            step = 80
            dx = {Qt.Key.Key_Left: step, Qt.Key.Key_Right: -step}.get(key, 0)
            dy = {Qt.Key.Key_Up: step, Qt.Key.Key_Down: -step}.get(key, 0)
            self.pan(dx, dy)
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.fitted:
            self.fit()
