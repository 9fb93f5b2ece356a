"""The canvas view: zoom, pan, the brush cursor, and mouse/keys forwarded to the current tool.

It also shows the result of a render on the canvas (a view setting, not part of the
project): :meth:`set_result_image` gives it the picture (the Preview pane's), and
:meth:`show_result` / :meth:`set_result_over` / :meth:`set_result_opacity` say how.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsItem, QGraphicsView

from shapely.geometry import Point

from ..document import Document
from .picture_layers import RESULT_UNDER_Z
from .scene import FILL_ALPHA, OVERLAY_Z, SHEER_FILL_ALPHA, CanvasScene
from .tools import TOOL_CLASSES, Tool

MIN_ZOOM, MAX_ZOOM = 0.05, 32.0
BRUSH_SIZES = (2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)  # diameters in canvas px


class CursorLabel(QGraphicsItem):
    """What the tool under the cursor will act on ("erase: Blue cloud"), at a constant screen
    size beside the brush circle."""

    def __init__(self, parent: "BrushCursor") -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.text = ""
        self.colour = QColor("white")
        self._font = QFont()
        self._font.setPointSizeF(8.5)
        self._font.setBold(True)
        self._rect = QRectF()

    def set_text(self, text: str, colour: QColor) -> None:
        self.prepareGeometryChange()
        self.text, self.colour = text, QColor(colour)
        fm = QFontMetricsF(self._font)
        self._rect = QRectF(0, 0, fm.horizontalAdvance(text) + 12, fm.height() + 4) if text else QRectF()
        self.setVisible(bool(text))
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.colour, 1.5))
        painter.setBrush(QColor(24, 26, 29, 215))
        painter.drawRoundedRect(self._rect, 6, 6)
        painter.setPen(QColor("#f2f3f5"))
        painter.setFont(self._font)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class BrushCursor(QGraphicsItem):
    """A circle the size of the brush, dark and light so it shows on any colour; a tool can add
    a coloured ring and a label saying what it acts on (the eraser: which instance)."""

    def __init__(self) -> None:
        super().__init__()
        self.radius = 10.0
        self.ring: QColor | None = None
        self.setZValue(OVERLAY_Z + 1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.label = CursorLabel(self)
        self.label.setVisible(False)
        self._place_label()

    def set_radius(self, r: float) -> None:
        self.prepareGeometryChange()
        self.radius = r
        self._place_label()

    def set_target(self, text: str, colour: QColor | None) -> None:
        """The label beside the circle ("" for none) and the colour of an inner ring (None: none)."""
        self.ring = None if colour is None else QColor(colour)
        self.label.set_text(text, colour if colour is not None else QColor("white"))
        self.update()

    def _place_label(self) -> None:
        offset = self.radius * 0.72  # the lower right of the circle, in canvas pixels
        self.label.setPos(offset + 2, offset + 2)

    def boundingRect(self) -> QRectF:
        r = self.radius + 4
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        r = self.radius
        for colour, width in ((QColor(0, 0, 0, 200), 2.5), (QColor(255, 255, 255), 1.0)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawEllipse(QPointF(0, 0), r, r)
        if self.ring is not None:
            pen = QPen(self.ring, 2.0, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawEllipse(QPointF(0, 0), r * 0.85, r * 0.85)


class CanvasView(QGraphicsView):
    tool_changed = Signal(str)
    hint_changed = Signal(str)
    message = Signal(str)
    cursor_moved = Signal(object)  # QPointF in canvas pixels, or None when outside the view
    zoom_changed = Signal(float)
    brush_size_changed = Signal(int)
    #: the result view changed: (shown, over the layout, opacity 0-1)
    result_view_changed = Signal(bool, bool, float)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.setScene(CanvasScene(document, self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # pan with space-drag / middle button; scroll bars would only clutter the canvas
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setBackgroundBrush(QColor("#26282b"))
        self.brush_radius = 12.0
        self.erase_all = False
        self.cursor_item = BrushCursor()
        self.cursor_item.setVisible(False)
        self.scene().addItem(self.cursor_item)
        self.tools: dict[str, Tool] = {cls.name: cls(self) for cls in TOOL_CLASSES}
        self.tool: Tool = self.tools["brush"]
        self._space = False
        self._pan_from: QPointF | None = None
        self._fitted_once = False
        self._fitted_rect = None  # the canvas rectangle the view was last fitted to
        self._auto_fit = True  # the page follows the view's size until the user zooms or pans
        self._mouse_in = False  # the mouse moved over the view since it last left
        self.result_shown = False
        self.result_over = True
        self.result_opacity = 1.0
        self.set_tool("brush")
        document.selection_changed.connect(lambda _id: self.refresh_hint())
        document.replaced.connect(self._on_replaced)
        document.layout.events.connect(self._on_layout_event)

    # ----------------------------------------------------------------- tools
    def set_tool(self, name: str) -> None:
        if name not in self.tools:
            raise ValueError(f"unknown tool {name!r}; tools are {sorted(self.tools)}")
        if self.tool.name != name:
            self.tool.deactivate()
        self.tool = self.tools[name]
        self.tool.activate()
        self.cursor_item.setVisible(self.tool.shows_brush_cursor and self._mouse_in)
        self.viewport().setCursor(self._tool_cursor())
        self.tool_changed.emit(name)
        self.refresh_hint()

    def _tool_cursor(self):
        if self._space or self._pan_from is not None:
            return Qt.CursorShape.ClosedHandCursor if self._pan_from is not None else Qt.CursorShape.OpenHandCursor
        return Qt.CursorShape.BlankCursor if self.tool.shows_brush_cursor else self.tool.cursor

    def refresh_hint(self) -> None:
        self.hint_changed.emit(self.tool.hint())
        target = self.tool.cursor_target()
        self.cursor_item.set_target(*(target if target is not None else ("", None)))

    def show_message(self, text: str) -> None:
        self.message.emit(text)

    def set_brush_diameter(self, diameter: float) -> None:
        diameter = max(BRUSH_SIZES[0], min(BRUSH_SIZES[-1], float(diameter)))
        self.brush_radius = diameter / 2
        self.cursor_item.set_radius(self.brush_radius)
        self.brush_size_changed.emit(int(diameter))
        self.refresh_hint()

    def step_brush_size(self, direction: int) -> None:
        d = self.brush_radius * 2
        if direction > 0:
            bigger = [s for s in BRUSH_SIZES if s > d + 1e-6]
            self.set_brush_diameter(bigger[0] if bigger else BRUSH_SIZES[-1])
        else:
            smaller = [s for s in BRUSH_SIZES if s < d - 1e-6]
            self.set_brush_diameter(smaller[-1] if smaller else BRUSH_SIZES[0])

    def set_erase_all(self, on: bool) -> None:
        self.erase_all = bool(on)
        self.refresh_hint()

    # ---------------------------------------------------------------- result
    def set_result_image(self, image) -> None:
        """The picture the result view shows (a QImage, or None: nothing rendered yet)."""
        self.scene().result_item.set_image(image)
        if self.result_shown and self.scene().result_item.image is None:
            self.show_result(False)
        else:
            self._apply_result_view()

    def has_result(self) -> bool:
        return self.scene().result_item.image is not None

    def show_result(self, on: bool) -> bool:
        """Show the result on the canvas (True) or the layout alone; False when there is no result."""
        if on and not self.has_result():
            self.show_message("No render to show yet: press Generate (Ctrl+Return), or pick one in the History.")
            on = False
        changed = on != self.result_shown
        self.result_shown = bool(on)
        self._apply_result_view()
        if changed:
            self.show_message("Showing the result on the canvas (R shows the layout)" if on
                              else "Showing the layout (R shows the result)")
        return self.result_shown

    def set_result_over(self, over: bool) -> None:
        self.result_over = bool(over)
        self._apply_result_view()

    def set_result_opacity(self, opacity: float) -> None:
        self.result_opacity = max(0.0, min(1.0, float(opacity)))
        self._apply_result_view()

    def _apply_result_view(self) -> None:
        scene, item = self.scene(), self.scene().result_item
        shown = self.result_shown and item.image is not None
        item.setVisible(shown)
        item.setZValue(OVERLAY_Z - 1 if self.result_over else RESULT_UNDER_Z)
        item.setOpacity(self.result_opacity)
        scene.set_fill_alpha(SHEER_FILL_ALPHA if shown and not self.result_over else FILL_ALPHA)
        self.result_view_changed.emit(self.result_shown, self.result_over, self.result_opacity)

    # ---------------------------------------------------------------- queries
    def instance_at(self, pos: QPointF):
        """The top-most visible instance under ``pos`` (canvas pixels), within 3 screen px."""
        tolerance = 3.0 / max(self.zoom(), 1e-6)
        p = Point(pos.x(), pos.y())
        for inst in reversed(self.document.layout.instances):
            if inst.visible and not inst.is_empty and inst.geometry.distance(p) <= tolerance:
                return inst
        return None

    def zoom(self) -> float:
        return self.transform().m11()

    # ------------------------------------------------------------------- zoom
    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self.setTransform(QTransform.fromScale(factor, factor))
        self._auto_fit = False
        self.zoom_changed.emit(factor)

    def zoom_by(self, ratio: float) -> None:
        self.set_zoom(self.zoom() * ratio)

    def zoom_in(self) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoom_by(1.25)
        self.setTransformationAnchor(anchor)

    def zoom_out(self) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoom_by(1 / 1.25)
        self.setTransformationAnchor(anchor)

    def fit(self) -> None:
        self._fitted_rect = self.scene().canvas_rect()
        rect = self._fitted_rect.adjusted(-24, -24, 24, 24)
        vp = self.viewport().rect()
        if vp.width() < 10 or vp.height() < 10:
            return
        self.set_zoom(min(vp.width() / rect.width(), vp.height() / rect.height()))
        self.centerOn(rect.center())
        self._auto_fit = True

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def _on_replaced(self) -> None:
        for tool in self.tools.values():
            tool.cancel()
        self.fit()
        self.refresh_hint()

    def _on_layout_event(self, event) -> None:
        if event.kind == "size_changed" or (event.kind == "reset" and self.scene().canvas_rect() != self._fitted_rect):
            self.fit()  # a new size (also by a whole new layout: restored from a render, imported, undone)
        if event.kind in ("instance_added", "instance_removed", "instance_changed", "reset"):
            self.refresh_hint()  # the hints name the selected instance: a rename shows at once

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._fitted_once:
            self._fitted_once = True
            self.fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._auto_fit and self._fitted_once:
            self.fit()  # panels settling or the window resized: the whole page stays in view

    # ------------------------------------------------------------------ input
    def wheelEvent(self, event) -> None:
        """Zoom keeping the canvas point under the cursor where it is."""
        steps = event.angleDelta().y() / 120.0
        if steps:
            pos = event.position().toPoint()
            anchor = self.mapToScene(pos)
            self.zoom_by(1.15 ** steps)
            moved = self.mapFromScene(anchor) - pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        event.accept()

    def _scene_pos(self, event) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def mousePressEvent(self, event) -> None:
        self.setFocus()
        if self._space or event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.viewport().setCursor(self._tool_cursor())
            return
        self.tool.press(self._scene_pos(event), event)

    def mouseMoveEvent(self, event) -> None:
        self._mouse_in = True
        pos = self._scene_pos(event)
        self.cursor_moved.emit(pos)
        self.cursor_item.setPos(pos)
        self.cursor_item.setVisible(self.tool.shows_brush_cursor and not self._space)
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self._auto_fit = False
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            return
        self.tool.move(pos, event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(self._tool_cursor())
            return
        self.tool.release(self._scene_pos(event), event)

    def mouseDoubleClickEvent(self, event) -> None:
        if self._space or event.button() != Qt.MouseButton.LeftButton:
            return
        self.tool.double_click(self._scene_pos(event), event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.cursor_item.setVisible(False)
            self.viewport().setCursor(self._tool_cursor())
            return
        if self.tool.key(event):
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._pan_from = None
            self.viewport().setCursor(self._tool_cursor())
            return
        super().keyReleaseEvent(event)

    def enterEvent(self, event) -> None:
        super().enterEvent(event)
        # the circle appears with the first move, where the mouse is (not where it was last)

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self._mouse_in = False
        self.cursor_item.setVisible(False)
        self.cursor_moved.emit(None)
