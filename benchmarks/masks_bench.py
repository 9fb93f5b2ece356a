"""Time layout -> masks for 20 instances at 1024x1024 (target: <= 50 ms each).

Realistic layouts: 20 instances, half brush strokes (a wandering polyline of ~30
points buffered by a 20-60 px brush: a few hundred vertices) and half hand-drawn
polygons (a few hundred vertices), overlapping. Prints the median of several runs for
binary masks on the pixel grid, soft masks on the 64x64 token grid, soft masks on the
pixel grid, binary on the token grid, and the vertex count. Not a test.

    .venv/bin/python benchmarks/masks_bench.py [--runs N] [--seed S]
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ast_core.document import Layout  # noqa: E402
from ast_core.masks import rasterize, token_grid  # noqa: E402


def realistic_layout(n: int = 20, size: int = 1024, seed: int = 0) -> Layout:
    rng = np.random.default_rng(seed)
    layout = Layout(size, size, "a scene", "a background")
    for k in range(n):
        inst = layout.add_instance(prompt=f"thing {k}")
        cx, cy = rng.uniform(0.15, 0.85, 2) * size
        if k % 2 == 0:  # brush strokes: a wandering polyline buffered by the brush
            pts, angle = [(cx, cy)], rng.uniform(0, 2 * math.pi)
            for _ in range(30):
                angle += rng.normal(0, 0.5)
                x, y = pts[-1]
                pts.append((float(np.clip(x + 12 * math.cos(angle), 0, size)),
                            float(np.clip(y + 12 * math.sin(angle), 0, size))))
            layout.paint_stroke(inst.id, pts, float(rng.uniform(20, 60)))
        else:  # a hand-drawn blob: a noisy closed curve of 300 vertices
            t = np.linspace(0, 2 * math.pi, 300, endpoint=False)
            r = size * rng.uniform(0.06, 0.2) * (1 + 0.25 * np.sin(3 * t + rng.uniform(0, 6)) + rng.normal(0, 0.02, t.size))
            pts = np.c_[cx + r * np.cos(t), cy + r * np.sin(t)]
            layout.paint_polygon(inst.id, [tuple(p) for p in pts])
    return layout


def reference_fill(layout: Layout) -> list[np.ndarray]:
    """The naive baseline: one full-canvas cv2.fillPoly per instance."""
    out = []
    for inst in layout.instances:
        canvas = np.zeros((layout.height, layout.width), np.uint8)
        rings = [np.round(np.asarray(r.coords)).astype(np.int32) for p in getattr(inst.geometry, "geoms", [inst.geometry])
                 for r in (p.exterior, *p.interiors)]
        cv2.fillPoly(canvas, rings, 1)
        out.append(canvas)
    return out


def timed(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    layout = realistic_layout(seed=args.seed)
    grid = token_grid(layout.width, layout.height)
    verts = int(sum(shapely.get_num_coordinates(i.geometry) for i in layout.instances))
    print(f"layout: {len(layout.instances)} instances, {layout.width}x{layout.height}, {verts} vertices in all")
    cases = [
        ("binary, pixel grid 1024x1024", lambda: rasterize(layout)),
        (f"soft, token grid {grid[0]}x{grid[1]}", lambda: rasterize(layout, grid=grid, soft=True)),
        (f"binary, token grid {grid[0]}x{grid[1]}", lambda: rasterize(layout, grid=grid)),
        ("soft, pixel grid 1024x1024", lambda: rasterize(layout, soft=True)),
    ]
    base = timed(lambda: reference_fill(layout), args.runs)
    print(f"median of {args.runs} runs (target <= 50 ms); ratio = time / plain cv2.fillPoly of every instance "
          f"on its own 1024x1024 canvas ({base:.1f} ms, same run; no exclusivity, over-fills edges):")
    for label, fn in cases:
        ms = timed(fn, args.runs)
        print(f"  {label:<32} {ms:7.1f} ms  x{ms / base:4.2f}  {'ok' if ms <= 50 else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
