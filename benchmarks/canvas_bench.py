"""Canvas: time of one brush-stroke commit (model op + canvas update) on a busy layout.

30 instances of a few hundred vertices each; a stroke of 40 points over several of them.
Prints the median over repeated strokes of (a) the model operation alone (building the
command: shapely union) and (b) the full commit as the brush tool does it on release
(command built, pushed on the undo stack, scene item rebuilt, the changed region repainted),
and (c) a full repaint of the view. Target <= 16 ms.

    QT_QPA_PLATFORM=offscreen python benchmarks/canvas_bench.py
"""
from __future__ import annotations

import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def busy_layout(n: int = 30, vertices: int = 300):
    from shapely.geometry import Polygon

    from ast_core.document import Instance, Layout, next_colour

    layout = Layout(1344, 768, "a busy scene")
    for k in range(n):
        cx, cy = 80 + (k % 6) * 230, 90 + (k // 6) * 150
        pts = []
        for j in range(vertices):
            a = 2 * math.pi * j / vertices
            r = 70 + 12 * math.sin(7 * a + k)
            pts.append((cx + r * math.cos(a), cy + 0.8 * r * math.sin(a)))
        layout.add_instance(Instance(f"Blob {k}", f"blob {k}", next_colour(layout.used_colours()), Polygon(pts)))
    return layout


def measure(repeats: int = 25) -> dict:
    from PySide6.QtWidgets import QApplication

    from ast_studio.canvas import CanvasView
    from ast_studio.canvas.tools import brush_command, smooth_stroke
    from ast_studio.document import Document

    app = QApplication.instance() or QApplication([])
    doc = Document()
    doc.layout.replace_all(busy_layout())
    view = CanvasView(doc)
    view.resize(1200, 800)
    view.show()
    app.processEvents()
    target = doc.layout.instances[14]
    doc.select(target.id)
    radius = 12.0
    model_ms, commit_ms, full_ms = [], [], []
    counts = [len(i.geometry.exterior.coords) for i in doc.layout.instances]
    for r in range(repeats):
        y = 250 + 5 * r
        raw = [(300 + 15 * i, y + 20 * math.sin(i / 3)) for i in range(40)]
        pts = smooth_stroke(raw, radius)
        t0 = time.perf_counter()
        cmd = brush_command(doc, pts, radius)
        t1 = time.perf_counter()
        doc.undo_stack.push(cmd)
        app.processEvents()  # the scene's update of the changed region, painted
        t2 = time.perf_counter()
        view.viewport().repaint()
        t3 = time.perf_counter()
        model_ms.append((t1 - t0) * 1000)
        commit_ms.append((t2 - t0) * 1000)
        full_ms.append((t3 - t2) * 1000)
        doc.undo_stack.undo()  # keep the layout the same size for every repeat
        app.processEvents()
    view.close()
    view.deleteLater()
    app.processEvents()
    return {
        "instances": len(doc.layout.instances), "vertices_min": min(counts), "vertices_max": max(counts),
        "model_ms": statistics.median(model_ms), "commit_ms": statistics.median(commit_ms),
        "commit_ms_max": max(commit_ms), "full_repaint_ms": statistics.median(full_ms),
    }


if __name__ == "__main__":
    r = measure()
    print(f"{r['instances']} instances of {r['vertices_min']}-{r['vertices_max']} vertices")
    print(f"stroke commit, model op only:          {r['model_ms']:.2f} ms (median)")
    print(f"stroke commit, model + canvas repaint: {r['commit_ms']:.2f} ms (median), {r['commit_ms_max']:.2f} ms max")
    print(f"full canvas repaint (e.g. zoom/scroll): {r['full_repaint_ms']:.2f} ms (median)")
    print(f"canvas share of the commit:            {r['commit_ms'] / max(r['model_ms'], 1e-9):.2f}x the model op")
    print(f"target 16 ms: {'met' if r['commit_ms'] <= 16 else 'MISSED'}")
