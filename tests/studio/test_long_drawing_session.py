"""An hour of drawing, compressed: hundreds of brush and eraser strokes through real mouse
events on the main window, with brush-size changes, undo and redo, new instances and
selection changes. The session must stay alive (none_keeps_its_references guards every
test: a binding that loses references to None would have aborted a real session here),
and every stroke must stay one undo step that undoes and redoes exactly."""
from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from editing_support import drag, open_window
from none_references import NoneReferences

STROKES = 400
INSTANCES = 8


def wiggle(cx: float, cy: float, k: int, n: int = 12) -> list[tuple[float, float]]:
    """A short curved stroke around (cx, cy), different for every k."""
    angle = k * 0.7
    return [(cx + 60 * math.cos(angle) * i / n + 8 * math.sin(i + k),
             cy + 60 * math.sin(angle) * i / n + 8 * math.cos(i * 0.5 + k)) for i in range(n + 1)]


def test_hundreds_of_strokes_keep_the_session_alive_and_exact(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, size=(1100, 760))
    view, doc, stack = window.canvas, window.document, window.document.undo_stack
    centres = [(140 + 250 * (i % 4), 220 + 520 * (i // 4)) for i in range(INSTANCES)]
    started = time.perf_counter()
    none = NoneReferences()
    steps = 0
    for k in range(STROKES):
        which = k % INSTANCES
        if k < INSTANCES:
            QTest.keyClick(view, Qt.Key.Key_Escape)  # nothing selected: the stroke makes a new instance
        else:
            doc.select(doc.layout.instances[which].id)
        if k % 25 == 7:
            QTest.keyClick(view, Qt.Key.Key_BracketRight if k % 50 == 7 else Qt.Key.Key_BracketLeft)
        eraser = k >= INSTANCES and k % 9 == 0
        view.set_tool("eraser" if eraser else "brush")
        before = stack.count()
        drag(view, wiggle(*centres[which], k))
        if stack.count() == before + 1:
            steps += 1
        assert stack.count() <= before + 1  # one gesture, at most one undo step
        if k % 10 == 9:  # fail before a leaking binding could abort the process
            assert not (problem := none.problem(f"stroke {k + 1}")), problem
        if k % 40 == 39:  # now and then the artist takes a stroke back and redoes it
            geometry = {i.id: i.geometry for i in doc.layout.instances}
            stack.undo()
            stack.redo()
            assert all(i.geometry.equals(geometry[i.id]) for i in doc.layout.instances)
    seconds = time.perf_counter() - started
    print(f"\n{STROKES} strokes through mouse events in {seconds:.1f} s "
          f"({1000 * seconds / STROKES:.0f} ms per stroke, {steps} undo steps)")
    assert len(doc.layout.instances) == INSTANCES
    assert steps >= STROKES * 0.9 and stack.count() == steps
    final = [(i.id, i.geometry) for i in doc.layout.instances]

    while stack.canUndo():
        stack.undo()
    assert doc.layout.instances == [] and not doc.is_modified
    while stack.canRedo():
        stack.redo()
    assert [i.id for i in doc.layout.instances] == [iid for iid, _ in final]
    assert all(i.geometry.equals(g) for i, (_, g) in zip(doc.layout.instances, final))
    # the scene still follows the model after all that
    for inst in doc.layout.instances:
        item = view.scene().items_by_id[inst.id]
        bounds = item.path().boundingRect()
        assert abs(bounds.left() - inst.geometry.bounds[0]) < 1.5
