"""Toolbar and panel icons, drawn with QPainter so they match the theme at any size."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

INK = QColor("#d8dbe0")
ACCENT = QColor("#4f9dff")
SIZE = 64


def _pen(width: float = 4.5, colour: QColor = INK) -> QPen:
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _brush(p: QPainter) -> None:
    p.setPen(_pen())
    handle = QPainterPath()
    handle.moveTo(52, 8)
    handle.lineTo(30, 34)
    p.drawPath(handle)
    p.setBrush(ACCENT)
    p.setPen(_pen(3))
    tip = QPainterPath()
    tip.moveTo(30, 30)
    tip.cubicTo(20, 28, 14, 36, 14, 44)
    tip.cubicTo(14, 50, 10, 54, 6, 56)
    tip.cubicTo(22, 60, 36, 52, 34, 38)
    tip.closeSubpath()
    p.drawPath(tip)


def _polygon(p: QPainter) -> None:
    pts = [QPointF(10, 50), QPointF(18, 12), QPointF(46, 20), QPointF(54, 48), QPointF(30, 56)]
    fill = QColor(ACCENT)
    fill.setAlpha(90)
    p.setBrush(fill)
    p.setPen(_pen(3.5))
    p.drawPolygon(QPolygonF(pts))
    p.setBrush(INK)
    p.setPen(Qt.PenStyle.NoPen)
    for pt in pts:
        p.drawEllipse(pt, 5, 5)


def _eraser(p: QPainter) -> None:
    p.setPen(_pen(3.5))
    body = QPolygonF([QPointF(8, 42), QPointF(34, 14), QPointF(56, 34), QPointF(34, 56), QPointF(22, 56)])
    p.setBrush(QColor("#e5868f"))
    p.drawPolygon(body)
    p.drawLine(QPointF(20, 30), QPointF(42, 50))
    p.drawLine(QPointF(30, 58), QPointF(58, 58))


def _select(p: QPainter) -> None:
    arrow = QPolygonF([QPointF(16, 6), QPointF(16, 50), QPointF(27, 40), QPointF(35, 58), QPointF(43, 54),
                       QPointF(35, 37), QPointF(50, 37)])
    p.setBrush(INK)
    p.setPen(_pen(2.5, QColor("#1b1d20")))
    p.drawPolygon(arrow)


def _magnifier(p: QPainter, sign: str) -> None:
    p.setPen(_pen(5))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QPointF(27, 27), 17, 17)
    p.drawLine(QPointF(40, 40), QPointF(56, 56))
    p.setPen(_pen(4, ACCENT))
    p.drawLine(QPointF(19, 27), QPointF(35, 27))
    if sign == "+":
        p.drawLine(QPointF(27, 19), QPointF(27, 35))


def _fit(p: QPainter) -> None:
    p.setPen(_pen(4.5))
    for (x, y, dx, dy) in ((8, 8, 1, 1), (56, 8, -1, 1), (8, 56, 1, -1), (56, 56, -1, -1)):
        p.drawLine(QPointF(x, y), QPointF(x + 14 * dx, y))
        p.drawLine(QPointF(x, y), QPointF(x, y + 14 * dy))
    p.setBrush(ACCENT)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(22, 22, 20, 20), 3, 3)


def _page(p: QPainter) -> None:
    p.setPen(_pen(4))
    p.setBrush(Qt.BrushStyle.NoBrush)
    page = QPainterPath()
    page.moveTo(14, 6)
    page.lineTo(38, 6)
    page.lineTo(52, 20)
    page.lineTo(52, 58)
    page.lineTo(14, 58)
    page.closeSubpath()
    p.drawPath(page)
    p.drawPolyline(QPolygonF([QPointF(38, 6), QPointF(38, 20), QPointF(52, 20)]))


def _new(p: QPainter) -> None:
    _page(p)
    p.setPen(_pen(4, ACCENT))
    p.drawLine(QPointF(33, 30), QPointF(33, 48))
    p.drawLine(QPointF(24, 39), QPointF(42, 39))


def _open(p: QPainter) -> None:
    p.setPen(_pen(4))
    p.setBrush(Qt.BrushStyle.NoBrush)
    back = QPolygonF([QPointF(6, 52), QPointF(6, 12), QPointF(24, 12), QPointF(30, 18), QPointF(50, 18),
                      QPointF(50, 26)])
    p.drawPolyline(back)
    p.setBrush(QColor(ACCENT.red(), ACCENT.green(), ACCENT.blue(), 120))
    p.drawPolygon(QPolygonF([QPointF(6, 52), QPointF(16, 28), QPointF(60, 28), QPointF(50, 52)]))


def _save(p: QPainter) -> None:
    p.setPen(_pen(4))
    p.setBrush(Qt.BrushStyle.NoBrush)
    body = QPainterPath()
    body.moveTo(8, 8)
    body.lineTo(46, 8)
    body.lineTo(56, 18)
    body.lineTo(56, 56)
    body.lineTo(8, 56)
    body.closeSubpath()
    p.drawPath(body)
    p.drawRect(QRectF(18, 8, 24, 14))
    p.setBrush(ACCENT)
    p.drawRoundedRect(QRectF(16, 34, 32, 22), 2, 2)


def _undo(p: QPainter, mirror: bool = False) -> None:
    if mirror:
        p.translate(SIZE, 0)
        p.scale(-1, 1)
    p.setPen(_pen(5))
    p.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath()
    path.moveTo(16, 26)
    path.lineTo(40, 26)
    path.cubicTo(58, 26, 58, 54, 40, 54)
    path.lineTo(26, 54)
    p.drawPath(path)
    p.setBrush(INK)
    p.setPen(_pen(2))
    p.drawPolygon(QPolygonF([QPointF(6, 26), QPointF(20, 14), QPointF(20, 38)]))


def _plus(p: QPainter) -> None:
    p.setPen(_pen(6))
    p.drawLine(QPointF(32, 12), QPointF(32, 52))
    p.drawLine(QPointF(12, 32), QPointF(52, 32))


def _minus(p: QPainter) -> None:
    p.setPen(_pen(6))
    p.drawLine(QPointF(12, 32), QPointF(52, 32))


def _duplicate(p: QPainter) -> None:
    p.setPen(_pen(4))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(8, 8, 32, 32), 4, 4)
    p.setBrush(QColor(ACCENT.red(), ACCENT.green(), ACCENT.blue(), 140))
    p.drawRoundedRect(QRectF(24, 24, 32, 32), 4, 4)


def _arrow(p: QPainter, up: bool) -> None:
    if not up:
        p.translate(0, SIZE)
        p.scale(1, -1)
    p.setPen(_pen(5.5))
    p.drawLine(QPointF(32, 54), QPointF(32, 12))
    p.drawPolyline(QPolygonF([QPointF(14, 30), QPointF(32, 12), QPointF(50, 30)]))


def _eye(p: QPainter, open_: bool) -> None:
    p.setPen(_pen(4))
    p.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath()
    path.moveTo(6, 32)
    path.quadTo(32, 6, 58, 32)
    path.quadTo(32, 58, 6, 32)
    p.drawPath(path)
    if open_:
        p.setBrush(INK)
        p.drawEllipse(QPointF(32, 32), 8, 8)
    else:
        p.drawLine(QPointF(10, 54), QPointF(54, 10))


def _lock(p: QPainter, closed: bool) -> None:
    p.setPen(_pen(4.5))
    p.setBrush(Qt.BrushStyle.NoBrush)
    shackle = QPainterPath()
    if closed:
        shackle.moveTo(20, 30)
        shackle.lineTo(20, 20)
        shackle.arcTo(QRectF(20, 6, 24, 28), 180, -180)
        shackle.lineTo(44, 30)
    else:
        shackle.moveTo(20, 30)
        shackle.lineTo(20, 16)
        shackle.arcTo(QRectF(20, 2, 24, 28), 180, -160)
    p.drawPath(shackle)
    p.setBrush(INK if closed else QBrush(Qt.BrushStyle.NoBrush))
    p.drawRoundedRect(QRectF(12, 30, 40, 26), 4, 4)


def _warning(p: QPainter) -> None:
    p.setPen(_pen(3, QColor("#2a2100")))
    p.setBrush(QColor("#f2c744"))
    p.drawPolygon(QPolygonF([QPointF(32, 4), QPointF(60, 56), QPointF(4, 56)]))
    p.setPen(_pen(6, QColor("#2a2100")))
    p.drawLine(QPointF(32, 22), QPointF(32, 38))
    p.drawPoint(QPointF(32, 48))


def _append(p: QPainter) -> None:
    p.setPen(_pen(4))
    for y in (14, 26, 38):
        p.drawLine(QPointF(8, y), QPointF(44, y))
    p.setPen(_pen(5, ACCENT))
    p.drawLine(QPointF(46, 40), QPointF(46, 60))
    p.drawLine(QPointF(36, 50), QPointF(56, 50))


def _new_instance(p: QPainter) -> None:
    """A shape being drawn, with a plus: a new instance."""
    fill = QColor(ACCENT)
    fill.setAlpha(90)
    p.setBrush(fill)
    p.setPen(_pen(3.5))
    p.drawPolygon(QPolygonF([QPointF(6, 40), QPointF(12, 12), QPointF(38, 8), QPointF(42, 34), QPointF(22, 48)]))
    p.setPen(_pen(6, ACCENT))
    p.drawLine(QPointF(48, 36), QPointF(48, 60))
    p.drawLine(QPointF(36, 48), QPointF(60, 48))


def _picture(p: QPainter) -> None:
    """A framed landscape: a rendered picture."""
    p.setPen(_pen(4))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(6, 10, 52, 44), 5, 5)
    p.setBrush(ACCENT)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawPolygon(QPolygonF([QPointF(10, 50), QPointF(26, 28), QPointF(36, 40), QPointF(44, 32), QPointF(54, 50)]))
    p.setBrush(INK)
    p.drawEllipse(QPointF(44, 21), 5, 5)


def _enlarge(p: QPainter) -> None:
    p.setPen(_pen(4.5))
    for (x, y), (dx, dy) in (((8, 8), (1, 1)), ((56, 8), (-1, 1)), ((8, 56), (1, -1)), ((56, 56), (-1, -1))):
        p.drawLine(QPointF(x, y), QPointF(x + 16 * dx, y))
        p.drawLine(QPointF(x, y), QPointF(x, y + 16 * dy))
        p.drawLine(QPointF(x, y), QPointF(x + 12 * dx, y + 12 * dy))


_PAINTERS = {
    "brush": _brush, "polygon": _polygon, "eraser": _eraser, "select": _select,
    "zoom-in": lambda p: _magnifier(p, "+"), "zoom-out": lambda p: _magnifier(p, "-"), "fit": _fit,
    "new": _new, "open": _open, "save": _save, "undo": _undo, "redo": lambda p: _undo(p, True),
    "add": _plus, "remove": _minus, "duplicate": _duplicate,
    "raise": lambda p: _arrow(p, True), "lower": lambda p: _arrow(p, False),
    "visible": lambda p: _eye(p, True), "hidden": lambda p: _eye(p, False),
    "locked": lambda p: _lock(p, True), "unlocked": lambda p: _lock(p, False),
    "warning": _warning, "append": _append, "new-instance": _new_instance, "picture": _picture,
    "enlarge": _enlarge,
}

NAMES = tuple(_PAINTERS)


def pixmap(name: str, size: int = 32) -> QPixmap:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / SIZE, size / SIZE)
    _PAINTERS[name](p)
    p.end()
    return pix


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """A named icon (see ``NAMES``); unknown names raise KeyError."""
    if name not in _PAINTERS:
        raise KeyError(f"no icon named {name!r}; icons are {', '.join(NAMES)}")
    ic = QIcon()
    for s in (16, 24, 32, 48, 64):
        ic.addPixmap(pixmap(name, s))
    return ic
