"""Shapely geometry -> QPainterPath (holes and multipolygons drawn right with odd-even fill)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath, QPolygonF, Qt

from ast_core.document import geometry as geo


def _ring(coords) -> QPolygonF:
    arr = np.asarray(coords, dtype=float)
    return QPolygonF([QPointF(x, y) for x, y in arr[:, :2]])


def path_from_geometry(geometry) -> QPainterPath:
    """One path holding every polygon's exterior and holes as closed sub-paths."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for poly in geo.polygons(geometry):
        path.addPolygon(_ring(poly.exterior.coords))
        path.closeSubpath()
        for hole in poly.interiors:
            path.addPolygon(_ring(hole.coords))
            path.closeSubpath()
    return path


def polyline_path(points) -> QPainterPath:
    path = QPainterPath()
    if points:
        path.moveTo(QPointF(*points[0]))
        for p in points[1:]:
            path.lineTo(QPointF(*p))
    return path
