"""Pictures on the canvas: the background to trace against and the result of a render.

Both are drawn inside the canvas page, centred, keeping their aspect ratio (a render of this
canvas fills it exactly). Stacking, bottom to top: the page's checkerboard, the background
picture, the result when it goes *under* the layout, the instances, the result when it goes
*over* the layout, the tools' overlays.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

BACKGROUND_Z = -0.6
RESULT_UNDER_Z = -0.3


def fitted_rect(image_size: tuple[int, int], canvas: QRectF) -> QRectF:
    """The largest rect of the image's aspect ratio inside ``canvas``, centred."""
    w, h = image_size
    if w <= 0 or h <= 0:
        return QRectF(canvas)
    scale = min(canvas.width() / w, canvas.height() / h)
    rw, rh = w * scale, h * scale
    return QRectF(canvas.center().x() - rw / 2, canvas.center().y() - rh / 2, rw, rh)


class PictureItem(QGraphicsItem):
    """One picture fitted into the canvas page, at the item's opacity; ignores the mouse."""

    def __init__(self, z: float) -> None:
        super().__init__()
        self.image: QImage | None = None
        self._canvas = QRectF(0, 0, 1024, 1024)
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        # scaled once per zoom level, not on every brush-stroke repaint above it
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setVisible(False)

    def set_image(self, image: QImage | None) -> None:
        self.image = None if image is None or image.isNull() else image
        self.update()

    def set_canvas_size(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._canvas = QRectF(0, 0, width, height)

    def picture_rect(self) -> QRectF:
        if self.image is None:
            return QRectF()
        return fitted_rect((self.image.width(), self.image.height()), self._canvas)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return QRectF(self._canvas)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self.image is None:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(self.picture_rect(), self.image)
