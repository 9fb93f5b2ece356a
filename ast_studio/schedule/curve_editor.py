"""A keyframe curve editor: strength over the denoising steps of one run.

Generic over a list of keyframes ``(x, y)``: ``x`` is the normalised progress in ``[0, 1]``
(step ``i`` of ``n`` sits at ``i / (n - 1)``, labelled ``i + 1``), ``y >= 0`` the strength.
The widget also draws the per-step samples the engine actually uses (dots) and, faintly,
other curves for comparison. It holds no schedule: edits leave as signals.

Mouse: double-click adds a keyframe, drag moves one (snapped to steps; Shift = free),
right-click or Delete removes the selected one; arrow keys nudge the selected one (a step
left/right, 0.05 up/down, Shift: 0.01). A drag emits ``points_previewed`` while
moving and one ``points_committed`` on release.
"""
from __future__ import annotations

import math
from typing import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from . import palette

Point = tuple[float, float]
HIT_RADIUS = 8.0
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 38, 10, 16, 30


class CurveEditor(QWidget):
    #: points while a drag is in progress (list of (x, y))
    points_previewed = Signal(list)
    #: the finished edit: (points, undo text)
    points_committed = Signal(list, str)
    #: an arrow-key nudge of the selected keyframe: (points, keyframe index)
    points_nudged = Signal(list, int)
    #: the drag was cancelled (Escape): the owner restores the model's curve
    drag_cancelled = Signal()
    #: selected keyframe index (-1: none)
    selection_changed = Signal(int)
    #: hovered step (0-based, -1 when the mouse leaves) and that step's sample value
    hovered = Signal(int, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[Point] = [(0.0, 0.0)]
        self._samples: list[float] = []
        self._ghosts: list[tuple[QColor, list[float]]] = []
        self._steps = 1
        self._colour = QColor(palette.KIND_COLOURS["i2i"])
        self._weight = 1.0
        self._selected = -1
        self._drag_index = -1
        self._drag_origin: list[Point] = []
        self._drag_top = 1.0
        self._hover_step = -1
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumSize(220, 130)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setToolTip("")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(340, 170)

    # ------------------------------------------------------------------ data
    def set_data(self, points: Sequence[Sequence[float]], samples: Sequence[float], steps: int,
                 colour: QColor | None = None, weight: float = 1.0) -> None:
        """Show ``points`` (keyframes) and the per-step ``samples`` of an ``steps`` run."""
        self._points = [(float(x), float(y)) for x, y in points]
        self._samples = [float(v) for v in samples]
        self._steps = max(1, int(steps))
        if colour is not None:
            self._colour = QColor(colour)
        self._weight = float(weight)
        if self._drag_index < 0 and self._selected >= len(self._points):
            self._set_selected(len(self._points) - 1)
        self.update()

    def set_ghosts(self, ghosts: Sequence[tuple[QColor, Sequence[float]]]) -> None:
        """Other curves drawn faintly behind (colour, per-step samples)."""
        self._ghosts = [(QColor(c), [float(v) for v in s]) for c, s in ghosts]
        self.update()

    def points(self) -> list[Point]:
        return list(self._points)

    def selected_index(self) -> int:
        return self._selected

    def select(self, index: int) -> None:
        self._set_selected(index if 0 <= index < len(self._points) else -1)

    def _set_selected(self, index: int) -> None:
        if index != self._selected:
            self._selected = index
            self.selection_changed.emit(index)
            self.update()

    # ------------------------------------------------------------------ geometry
    def plot_rect(self) -> QRectF:
        return QRectF(MARGIN_LEFT, MARGIN_TOP, max(10, self.width() - MARGIN_LEFT - MARGIN_RIGHT),
                      max(10, self.height() - MARGIN_TOP - MARGIN_BOTTOM))

    def _top(self) -> float:
        if self._drag_index >= 0:
            return self._drag_top
        values = [y for _, y in self._points] + self._samples
        for _, s in self._ghosts:
            values += s
        top = max([1.0] + values)
        if top <= 1.0:
            return 1.1
        step = palette.nice_step(top, 4)
        return (math.floor(top / step + 1e-9) + 1) * step

    def step_x(self, step: int) -> float:
        """Normalised progress of 0-based ``step``."""
        return step / (self._steps - 1) if self._steps > 1 else 0.0

    def to_pixel(self, x: float, y: float) -> QPointF:
        r = self.plot_rect()
        return QPointF(r.left() + x * r.width(), r.bottom() - y / self._top() * r.height())

    def from_pixel(self, p: QPointF) -> Point:
        r = self.plot_rect()
        x = (p.x() - r.left()) / r.width()
        y = (r.bottom() - p.y()) / r.height() * self._top()
        return min(1.0, max(0.0, x)), max(0.0, y)

    def keyframe_position(self, index: int) -> QPointF:
        """Pixel position of keyframe ``index`` (for tests and tooltips)."""
        x, y = self._points[index]
        return self.to_pixel(x, y)

    def _hit(self, pos: QPointF) -> int:
        best, best_d = -1, HIT_RADIUS
        for i, (x, y) in enumerate(self._points):
            p = self.to_pixel(x, y)
            d = ((p.x() - pos.x()) ** 2 + (p.y() - pos.y()) ** 2) ** 0.5
            if d <= best_d:
                best, best_d = i, d
        return best

    def _snap(self, x: float) -> float:
        if self._steps <= 1:
            return 0.0
        return round(x * (self._steps - 1)) / (self._steps - 1)

    def _step_at(self, pos: QPointF) -> int:
        r = self.plot_rect()
        if not r.adjusted(-4, -4, 4, 4).contains(pos):
            return -1
        x = (pos.x() - r.left()) / r.width()
        return min(self._steps - 1, max(0, round(x * (self._steps - 1))))

    # ------------------------------------------------------------------ editing
    def _moved(self, origin: list[Point], index: int, x: float, y: float, free: bool) -> list[Point]:
        lo = origin[index - 1][0] if index > 0 else None
        hi = origin[index + 1][0] if index + 1 < len(origin) else None
        if free or self._steps <= 1:
            eps = 1e-4
            x = max(x, lo + eps) if lo is not None else max(x, 0.0)
            x = min(x, hi - eps) if hi is not None else min(x, 1.0)
        else:
            n = self._steps - 1
            k_lo = math.floor(lo * n + 1e-6) + 1 if lo is not None else 0
            k_hi = math.ceil(hi * n - 1e-6) - 1 if hi is not None else n
            if k_lo > k_hi:
                x = origin[index][0]  # no free step between the neighbours
            else:
                x = min(max(round(x * n), k_lo), k_hi) / n
        pts = list(origin)
        pts[index] = (x, max(0.0, y))
        return pts

    def add_point(self, x: float, y: float) -> None:
        """Add (or replace at the same x) a keyframe and commit it."""
        pts = [p for p in self._points if abs(p[0] - x) > 1e-9] + [(x, max(0.0, y))]
        pts.sort()
        self._points = pts
        self._selected = -1
        self._set_selected(pts.index((x, max(0.0, y))))
        self.points_committed.emit(list(pts), "Add keyframe")

    def nudge(self, index: int, steps: int, dy: float) -> None:
        """Move keyframe ``index`` by whole steps and/or ``dy`` strength (arrow keys)."""
        x, y = self._points[index]
        n = max(1, self._steps - 1)
        target = (round(x * n) + steps) / n if steps else x
        pts = self._moved(self._points, index, target, y + dy, free=not steps)
        if pts != self._points:
            self._points = pts
            self.update()
            self.points_nudged.emit(list(pts), index)

    def remove_point(self, index: int) -> None:
        if not 0 <= index < len(self._points) or len(self._points) <= 1:
            return
        pts = self._points[:index] + self._points[index + 1:]
        self._points = pts
        self._selected = -1
        self.selection_changed.emit(-1)
        self.points_committed.emit(list(pts), "Remove keyframe")

    def mousePressEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        hit = self._hit(pos)
        if event.button() == Qt.MouseButton.RightButton:
            if hit >= 0:
                self.remove_point(hit)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._set_selected(hit)
        if hit >= 0:
            self._drag_top = self._top()
            self._drag_index = hit
            self._drag_origin = list(self._points)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if self._drag_index >= 0:
            x, y = self.from_pixel(pos)
            free = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            pts = self._moved(self._drag_origin, self._drag_index, x, y, free)
            if pts != self._points:
                self._points = pts
                self.points_previewed.emit(list(pts))
                self.update()
            self._show_tip(pos, self._drag_index)
            return
        step = self._step_at(pos)
        hit = self._hit(pos)
        self.setCursor(Qt.CursorShape.OpenHandCursor if hit >= 0 else Qt.CursorShape.CrossCursor)
        if step != self._hover_step:
            self._hover_step = step
            self.hovered.emit(step, self._samples[step] if 0 <= step < len(self._samples) else 0.0)
            self.update()
        if hit >= 0:
            self._show_tip(pos, hit)
        elif step >= 0 and step < len(self._samples):
            v = self._samples[step]
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"step {step + 1}/{self._steps}: strength {v:.3f} "
                              f"-> coefficient {v * self._weight:.3f} (w {self._weight:g})", self)
        else:
            QToolTip.hideText()

    def _show_tip(self, pos: QPointF, index: int) -> None:
        x, y = self._points[index]
        step = 1 + x * (self._steps - 1)
        QToolTip.showText(self.mapToGlobal(pos.toPoint()),
                          f"keyframe at step {step:.4g}: strength {y:.3f}", self)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._drag_index >= 0:
            moved = self._points != self._drag_origin
            self._drag_index = -1
            self._drag_origin = []
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            if moved:
                self.points_committed.emit(list(self._points), "Move keyframe")
            self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        if self._hit(pos) >= 0 or not self.plot_rect().adjusted(-4, -4, 4, 4).contains(pos):
            return
        x, y = self.from_pixel(pos)
        free = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.add_point(x if free else self._snap(x), y)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selected >= 0:
            self.remove_point(self._selected)
            return
        nudge = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
                 Qt.Key.Key_Up: (0, 1), Qt.Key.Key_Down: (0, -1)}.get(event.key())
        if nudge is not None and self._selected >= 0 and self._drag_index < 0:
            fine = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.nudge(self._selected, nudge[0], nudge[1] * (0.01 if fine else 0.05))
            return
        if event.key() == Qt.Key.Key_Escape and self._drag_index >= 0:
            self._points = self._drag_origin
            self._drag_index = -1
            self.drag_cancelled.emit()
            self.update()
            return
        super().keyPressEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._hover_step != -1:
            self._hover_step = -1
            self.hovered.emit(-1, 0.0)
            self.update()
        super().leaveEvent(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), palette.BACKGROUND)
        r = self.plot_rect()
        p.fillRect(r, palette.PLOT)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        p.setFont(font)
        fm = p.fontMetrics()
        top = self._top()
        n = self._steps

        # horizontal grid + strength labels
        tick = palette.nice_step(top, 4)
        v = 0.0
        while v <= top + 1e-9:
            y = self.to_pixel(0, v).y()
            p.setPen(QPen(palette.GRID, 1))
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
            p.setPen(palette.DIM_TEXT)
            label = f"{v:g}"
            p.drawText(QRectF(0, y - 8, MARGIN_LEFT - 5, 16),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            v += tick

        # vertical grid at steps, labels spaced so they never collide
        label_every = 1
        px_per_step = r.width() / max(1, n - 1)
        widest = fm.horizontalAdvance(str(n)) + 8
        for k in (1, 2, 4, 5, 10, 20, 25, 50, 100):
            label_every = k
            if px_per_step * k >= widest:
                break
        labelled_steps = {0, n - 1} | {i for i in range(n) if (i + 1) % label_every == 0}
        # keep labels apart from the first and last ones
        labelled_steps = {i for i in labelled_steps if i in (0, n - 1)
                          or (i * px_per_step >= widest and (n - 1 - i) * px_per_step >= widest)}
        for i in range(n):
            x = self.to_pixel(self.step_x(i), 0).x()
            labelled = i in labelled_steps
            if px_per_step >= 5 or labelled:
                p.setPen(QPen(palette.GRID.lighter(115) if labelled else palette.GRID, 1))
                p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
            if labelled:
                p.setPen(palette.DIM_TEXT)
                p.drawText(QRectF(x - 20, r.bottom() + 2, 40, 14), Qt.AlignmentFlag.AlignCenter,
                           str(i + 1))
        p.setPen(palette.DIM_TEXT)
        p.drawText(QRectF(r.left(), r.bottom() + 15, r.width(), 14),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   f"denoising step (of {n})")
        p.drawText(QRectF(r.left() + 4, 0, r.width(), MARGIN_TOP),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   f"strength   (coefficient = w {self._weight:g} × strength)")

        # hovered step
        if 0 <= self._hover_step < n and self._drag_index < 0:
            x = self.to_pixel(self.step_x(self._hover_step), 0).x()
            p.setPen(QPen(palette.AXIS, 1, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))

        p.setClipRect(r.adjusted(-6, -6, 6, 1))
        # other kinds, faint
        for colour, samples in self._ghosts:
            faint = QColor(colour)
            faint.setAlpha(90)
            p.setPen(QPen(faint, 1.2, Qt.PenStyle.DashLine))
            self._draw_samples_line(p, samples)

        # the curve through the keyframes (held flat beyond the ends)
        path = QPainterPath()
        pts = self._points
        path.moveTo(self.to_pixel(0.0, pts[0][1]))
        for x, y in pts:
            path.lineTo(self.to_pixel(x, y))
        path.lineTo(self.to_pixel(1.0, pts[-1][1]))
        fill = QPainterPath(path)
        fill.lineTo(self.to_pixel(1.0, 0.0))
        fill.lineTo(self.to_pixel(0.0, 0.0))
        fill.closeSubpath()
        shade = QColor(self._colour)
        shade.setAlpha(40)
        p.fillPath(fill, shade)
        p.setPen(QPen(self._colour, 2))
        p.drawPath(path)

        # per-step samples: what the engine uses
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._colour.lighter(140))
        for i, v in enumerate(self._samples[:n]):
            p.drawEllipse(self.to_pixel(self.step_x(i), v), 2.0, 2.0)

        # keyframe handles
        for i, (x, y) in enumerate(pts):
            c = self.to_pixel(x, y)
            if i == self._selected:
                p.setPen(QPen(self._colour, 2))
                p.setBrush(palette.SELECTED)
                p.drawEllipse(c, 6.0, 6.0)
            else:
                p.setPen(QPen(palette.SELECTED, 1.5))
                p.setBrush(self._colour)
                p.drawEllipse(c, 4.5, 4.5)
        p.setClipping(False)
        p.setPen(QPen(palette.AXIS, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(r)
        p.end()

    def _draw_samples_line(self, p: QPainter, samples: list[float]) -> None:
        if not samples:
            return
        path = QPainterPath()
        for i, v in enumerate(samples[: self._steps]):
            pt = self.to_pixel(self.step_x(i), v)
            if i == 0:
                path.moveTo(pt)
            else:
                path.lineTo(pt)
        p.drawPath(path)
