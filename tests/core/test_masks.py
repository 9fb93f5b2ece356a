"""Masks: exact areas, exclusivity by z-order, background, soft coverage, token grid."""
from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from ast_core.document import Instance, Layout
from ast_core.masks import fill, rasterize, token_grid


def blob(cx, cy, r, n=300, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    rr = r * (1 + 0.25 * np.sin(3 * t + seed) + rng.normal(0, 0.02, n))
    return shapely.Polygon(np.c_[cx + rr * np.cos(t), cy + rr * np.sin(t)])


def scene(size=512, n=8, seed=3) -> Layout:
    rng = np.random.default_rng(seed)
    layout = Layout(size, size, "scene", "bg")
    for k in range(n):
        cx, cy = rng.uniform(0.2, 0.8, 2) * size
        if k % 2:
            g = blob(cx, cy, size * rng.uniform(0.05, 0.15), seed=k)
        else:
            pts = [(cx + 60 * math.cos(a), cy + 40 * math.sin(2 * a)) for a in np.linspace(0, 4, 20)]
            g = shapely.LineString(pts).buffer(rng.uniform(8, 25))
        if k == 3:
            g = g.difference(shapely.Point(cx, cy).buffer(10))  # a hole
        layout.add_instance(Instance(name=f"i{k}", prompt=f"thing {k}", geometry=g))
    return layout


def test_axis_aligned_shapes_are_exact():
    assert fill(shapely.box(0, 0, 10, 10), 40, 40, 1, 1).sum() == 100
    assert fill(shapely.box(2.3, 2.3, 7.7, 7.7), 40, 40, 1, 1).sum() == 36  # centres 2.5 .. 7.5
    ring = shapely.box(0, 0, 10, 10).difference(shapely.box(3, 3, 7, 7))
    m = fill(ring, 20, 20, 1, 1)
    assert m.sum() == 84 and not m[5, 5] and m[1, 1]
    assert fill(shapely.box(-5, -5, 5, 5), 10, 10, 1, 1).sum() == 25  # clipped to the grid


def test_binary_areas_match_shapely_areas():
    layout = scene()
    ms = rasterize(layout)
    assert ms.instances.dtype == bool and ms.background.dtype == bool
    for k, inst in enumerate(layout.instances):
        area = inst.geometry.intersection(shapely.box(0, 0, layout.width, layout.height)).area
        px = ms.raw[k].sum()
        # Centre sampling errs by a fraction of a pixel along the outline, in both directions.
        assert abs(px - area) <= 0.005 * area + 2, (inst.name, px, area)


def test_exclusive_by_z_order_and_background_is_uncovered():
    layout = scene()
    ms = rasterize(layout)
    stack = ms.segments(np.int32)
    assert (stack.sum(0) == 1).all()  # every pixel belongs to exactly one segment
    union = shapely.union_all([i.geometry for i in layout.instances])
    assert abs(ms.background.sum() - (layout.width * layout.height - union.area)) < 0.01 * union.area
    # Where two instances overlap, the upper one owns the pixel.
    for k in range(len(ms.ids)):
        above = ms.raw[k + 1 :].any(0) if k + 1 < len(ms.ids) else np.zeros_like(ms.background)
        assert (ms.instances[k] == (ms.raw[k] & ~above)).all()
    # Exclusive areas match shapely's differences.
    for k, inst in enumerate(layout.instances):
        upper = shapely.union_all([i.geometry for i in layout.instances[k + 1 :]]) if k + 1 < len(ms.ids) else None
        own = inst.geometry.difference(upper) if upper is not None else inst.geometry
        assert abs(ms.instances[k].sum() - own.area) <= 0.03 * own.area + 40, inst.name


def test_hidden_and_empty_instances():
    layout = Layout(64, 64)
    a = layout.add_instance(geometry=shapely.box(0, 0, 32, 64))
    b = layout.add_instance(geometry=shapely.box(16, 0, 48, 64), visible=False)
    e = layout.add_instance()
    ms = rasterize(layout)
    assert ms.ids == [a.id, e.id] and ms.mask(a.id).sum() == 32 * 64 and ms.mask(e.id).sum() == 0
    assert ms.background.sum() == 32 * 64
    ms = rasterize(layout, include_hidden=True)
    assert ms.mask(a.id).sum() == 16 * 64 and ms.mask(a.id, exclusive=False).sum() == 32 * 64
    assert ms.mask(b.id).sum() == 32 * 64


@pytest.mark.parametrize("size", [(1024, 1024), (1280, 768)])
def test_soft_token_grid_holds_area_coverage(size):
    w, h = size
    layout = Layout(w, h)
    g = blob(w / 2, h / 2, 200, seed=1)
    inst = layout.add_instance(geometry=g)
    under = layout.add_instance(geometry=shapely.box(0, 0, w / 2 + 8, h), index=0)
    grid = token_grid(w, h)
    assert grid == (w // 16, h // 16)
    ms = rasterize(layout, grid=grid, soft=True)
    assert ms.instances.dtype == np.float32 and ms.instances.shape == (2, grid[1], grid[0])
    cell = (w / grid[0]) * (h / grid[1])
    assert ms.mask(inst.id).sum() * cell == pytest.approx(g.area, rel=0.01)
    assert ms.mask(under.id).sum() * cell == pytest.approx(under.geometry.difference(g).area, rel=0.01)
    assert np.allclose(ms.segments().sum(0), 1.0, atol=1e-5)
    # Binary token masks: a cell goes to whoever covers at least half of it.
    mb = rasterize(layout, grid=grid)
    assert mb.instances.dtype == bool
    assert (mb.mask(inst.id) == (ms.mask(inst.id) >= 0.5)).all()
    assert not (mb.segments(np.int32).sum(0) > 1).any()


def test_soft_pixel_grid_is_fractional_on_edges():
    layout = Layout(64, 64)
    inst = layout.add_instance(geometry=shapely.box(10.5, 10, 20, 20))
    ms = rasterize(layout, soft=True)
    m = ms.mask(inst.id)
    assert m[15, 10] == pytest.approx(0.5) and m[15, 15] == 1.0 and m[15, 25] == 0.0
    assert m.sum() == pytest.approx(95.0)


def test_rejects_empty_grid():
    with pytest.raises(ValueError):
        rasterize(Layout(64, 64), grid=(0, 4))
