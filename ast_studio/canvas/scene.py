"""The canvas scene: one graphics item per instance, kept in step with the Layout's events.

Items are views only: they are rebuilt from the model (never edited by tools). Each
event updates just the item it names; z-values follow the order of ``layout.instances``.
Two pictures can join them (:mod:`.picture_layers`): the project's background (from
``document.background``) and the result of a render (a view setting of the canvas).
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene

from ..document import Document
from .picture_layers import BACKGROUND_Z, RESULT_UNDER_Z, PictureItem
from .shapes import path_from_geometry

FILL_ALPHA = 120
#: instance fills while a result is shown under the layout: the picture shows through
SHEER_FILL_ALPHA = 40
MARGIN = 2000  # scene space around the canvas, so the view can pan past its edges
OVERLAY_Z = 1_000_000


def checker_pixmap(cell: int = 16, light: str = "#f7f7f7", dark: str = "#e9e9e9") -> QPixmap:
    pix = QPixmap(cell * 2, cell * 2)
    pix.fill(QColor(light))
    p = QPainter(pix)
    p.fillRect(0, 0, cell, cell, QColor(dark))
    p.fillRect(cell, cell, cell, cell, QColor(dark))
    p.end()
    return pix


class CanvasItem(QGraphicsItem):
    """The canvas page: a light checkerboard (the background region) with a soft shadow."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self._rect = QRectF(0, 0, width, height)
        self._brush = QBrush(checker_pixmap())
        self.setZValue(-1)

    def set_size(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(0, 0, width, height)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-12, -12, 12, 12)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        for i, alpha in enumerate((40, 28, 18, 10)):
            painter.fillRect(self._rect.adjusted(-i, -i + 2, i + 1, i + 3), QColor(0, 0, 0, alpha))
        painter.fillRect(self._rect, self._brush)


class NameLabel(QGraphicsItem):
    """An instance's name on the canvas: constant screen size, dark pill, coloured edge."""

    def __init__(self, parent: "InstanceItem") -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.text = ""
        self.colour = QColor("white")
        self._rect = QRectF()
        self._font = QFont()
        self._font.setPointSizeF(8.5)
        self._font.setBold(True)

    def set_text(self, text: str, colour: str) -> None:
        if (text, QColor(colour)) == (self.text, self.colour):
            return
        self.prepareGeometryChange()
        self.text, self.colour = text, QColor(colour)
        width = QFontMetricsF(self._font).horizontalAdvance(text)
        height = QFontMetricsF(self._font).height()
        self._rect = QRectF(-width / 2 - 6, -height / 2 - 2, width + 12, height + 4)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.colour, 1.5))
        painter.setBrush(QColor(24, 26, 29, 200))
        painter.drawRoundedRect(self._rect, 6, 6)
        painter.setPen(QColor("#f2f3f5"))
        painter.setFont(self._font)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class InstanceItem(QGraphicsPathItem):
    def __init__(self, instance, fill_alpha: int = FILL_ALPHA) -> None:
        super().__init__()
        self.instance_id = instance.id
        self.selected = False
        self.fill_alpha = fill_alpha
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        # Unchanged instances are blitted from a pixmap: a full repaint with 30 detailed
        # instances drops from ~25 ms to ~4 ms (benchmarks/canvas_bench.py).
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.label = NameLabel(self)
        self.refresh(instance, geometry=True)

    def refresh(self, instance, geometry: bool = False) -> None:
        if geometry:
            self.setPath(path_from_geometry(instance.geometry))
            if not instance.geometry.is_empty:
                spot = instance.geometry.representative_point()
                self.label.setPos(spot.x, spot.y)
        self.label.set_text(instance.name, instance.color)
        self.label.setVisible(not instance.geometry.is_empty)
        colour = QColor(instance.color)
        fill = QColor(colour)
        fill.setAlpha(self.fill_alpha)
        self.setBrush(QBrush(fill))
        edge = colour.darker(140)
        pen = QPen(edge, 1.2)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setVisible(instance.visible)
        self.setToolTip(f"{instance.name}: {instance.prompt}" if instance.prompt else instance.name)

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        super().paint(painter, option, widget)
        if self.selected:
            dark = QPen(QColor(20, 20, 20, 220), 3.5)
            dark.setCosmetic(True)
            painter.strokePath(self.path(), dark)
            light = QPen(QColor(255, 255, 255), 1.6, Qt.PenStyle.DashLine)
            light.setCosmetic(True)
            painter.strokePath(self.path(), light)

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-3, -3, 3, 3)


class CanvasScene(QGraphicsScene):
    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.layout = document.layout
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.canvas_item = CanvasItem(self.layout.width, self.layout.height)
        self.addItem(self.canvas_item)
        self.background_item = PictureItem(BACKGROUND_Z)
        self.result_item = PictureItem(RESULT_UNDER_Z)
        self.addItem(self.background_item)
        self.addItem(self.result_item)
        self.background_problem = ""  # why the project's background picture cannot be shown
        self.fill_alpha = FILL_ALPHA
        self.items_by_id: dict[str, InstanceItem] = {}
        self.names_shown = True
        self.rebuild()
        self.layout.events.connect(self._on_event)
        document.selection_changed.connect(self._on_selection)
        document.part_changed.connect(self._on_part_changed)
        self._show_background()

    # ------------------------------------------------------------- model -> items
    def rebuild(self) -> None:
        for item in self.items_by_id.values():
            self.removeItem(item)
        self.items_by_id = {}
        for inst in self.layout.instances:
            self._add_item(inst)
        self._restack()
        self._resize()
        self._on_selection(self.document.selected_id)

    def show_names(self, on: bool) -> None:
        """Instance names on the canvas (View ▸ Show instance names)."""
        self.names_shown = bool(on)
        for item in self.items_by_id.values():
            item.label.setVisible(self.names_shown and not self.layout.instance(item.instance_id).is_empty)

    def set_fill_alpha(self, alpha: int) -> None:
        """How opaque the instances' fills are (lighter while a result shows under the layout)."""
        if alpha == self.fill_alpha:
            return
        self.fill_alpha = alpha
        for iid, item in self.items_by_id.items():
            item.fill_alpha = alpha
            item.refresh(self.layout.instance(iid))
            item.label.setVisible(item.label.isVisible() and self.names_shown)

    # ------------------------------------------------------------------ pictures
    def _on_part_changed(self, name: str) -> None:
        if name == "background":
            self._show_background()

    def _show_background(self) -> None:
        """Show ``document.background`` (decoded here: the reader only checked its structure)."""
        from PySide6.QtGui import QImage

        background = self.document.background
        item = self.background_item
        if background is None:
            item.set_image(None)
            item.setVisible(False)
            self.background_problem = ""
            return
        image = QImage.fromData(background.image_png, "PNG")
        self.background_problem = "" if not image.isNull() else \
            f"the background picture ({background.name or 'unnamed'}) cannot be decoded"
        item.set_image(image)
        item.setOpacity(background.opacity)
        item.setVisible(background.visible and not image.isNull())

    def _add_item(self, inst) -> None:
        item = InstanceItem(inst, self.fill_alpha)
        item.label.setVisible(item.label.isVisible() and self.names_shown)
        self.items_by_id[inst.id] = item
        self.addItem(item)

    def _restack(self) -> None:
        for z, inst in enumerate(self.layout.instances):
            self.items_by_id[inst.id].setZValue(z + 1)

    def _resize(self) -> None:
        w, h = self.layout.width, self.layout.height
        self.canvas_item.set_size(w, h)
        self.background_item.set_canvas_size(w, h)
        self.result_item.set_canvas_size(w, h)
        self.setSceneRect(QRectF(-MARGIN, -MARGIN, w + 2 * MARGIN, h + 2 * MARGIN))

    def _on_event(self, event) -> None:
        kind, iid = event.kind, event.instance_id
        if kind == "instance_added":
            self._add_item(self.layout.instance(iid))
            self._restack()
        elif kind == "instance_removed":
            item = self.items_by_id.pop(iid, None)
            if item is not None:
                self.removeItem(item)
            self._restack()
        elif kind in ("geometry_changed", "instance_changed"):
            item = self.items_by_id[iid]
            item.refresh(self.layout.instance(iid), geometry=kind == "geometry_changed")
            item.label.setVisible(item.label.isVisible() and self.names_shown)
        elif kind == "order_changed":
            self._restack()
        elif kind == "size_changed":
            self._resize()
        elif kind == "reset":
            self.rebuild()

    def _on_selection(self, selected_id) -> None:
        for iid, item in self.items_by_id.items():
            item.set_selected(iid == selected_id)

    # ------------------------------------------------------------------ queries
    def canvas_rect(self) -> QRectF:
        return QRectF(0, 0, self.layout.width, self.layout.height)

    def render_canvas(self, max_side: int = 256):
        """The canvas (instances on the checkerboard) as a QImage at most ``max_side`` wide/high."""
        from PySide6.QtGui import QImage

        w, h = self.layout.width, self.layout.height
        scale = min(1.0, max_side / max(w, h))
        image = QImage(max(1, round(w * scale)), max(1, round(h * scale)), QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        selected = self.document.selected_id
        names = self.names_shown
        self.show_names(False)
        self._on_selection(None)
        hidden = [i for i in self.items() if (i.zValue() >= OVERLAY_Z or isinstance(i, PictureItem))
                  and i.isVisible()]
        for i in hidden:
            i.setVisible(False)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.render(painter, QRectF(image.rect()), self.canvas_rect())
        painter.end()
        for i in hidden:
            i.setVisible(True)
        self._on_selection(selected)
        self.show_names(names)
        return image
