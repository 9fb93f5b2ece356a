"""The Qt binding keeps Python's reference counts right: calls that return nothing do not
consume a reference to None (PySide6 6.12.0 on Python 3.11 does, and the studio aborts
with "Fatal Python error: none_dealloc" after a few brush strokes)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QLabel

from ast_studio.canvas.shapes import polyline_path

from none_references import NONE_IS_IMMORTAL, NoneReferences

CALLS = 1000


@pytest.mark.skipif(NONE_IS_IMMORTAL, reason="None is immortal on this Python (3.12+): nothing to lose")
def test_void_qt_calls_keep_none_alive(qapp):
    path = QPainterPath()
    item = QGraphicsPathItem()
    label = QLabel()
    pen = QPen(QColor("#e6194b"), 3.0)
    watch = NoneReferences()
    for i in range(CALLS):
        path.lineTo(QPointF(i, i))  # what the brush preview does on every mouse move
        item.setPen(pen)
        label.setText(str(i))
    polyline_path([(float(i), float(i)) for i in range(CALLS)])
    lost = watch.lost()
    NoneReferences.give_back(lost)
    assert lost < 10, f"{4 * CALLS} void Qt calls lost {lost} references to None"
