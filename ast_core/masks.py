"""Layout geometry -> masks on any grid (canvas pixels, latent token grid).

* A cell belongs to a region when the cell's centre lies inside it (even-odd rule,
  so holes are holes); this is exact: a 10x10 px square gives 100 pixels.
* ``soft`` masks hold the fraction of each grid cell that a region covers (area
  coverage, measured by rasterising at a finer resolution and averaging).
* binary masks are ``soft >= threshold`` (0.5 by default: the method's "nearest,
  threshold 0.5" downsampling); on the canvas' own pixel grid they sample pixel centres.
* Instances are exclusive by z-order: a cell covered by two instances belongs to the
  upper one (``MaskSet.instances``). The raw, overlapping masks stay in ``MaskSet.raw``.
* The background is what no visible instance covers.

Array types: binary masks are ``bool`` arrays, soft masks ``float32`` in [0, 1]
(``MaskSet.segments(np.float32)`` gives float masks either way). Work is windowed: each
instance is rasterised only inside its bounding box.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from shapely.geometry.base import BaseGeometry

from .document import geometry as geo
from .document.layout import Layout

#: Largest side of the fine raster used for soft masks.
MAX_FINE_SIDE = 4096


@dataclass
class MaskSet:
    """Masks of a layout's instances on one grid, arrays of shape ``(rows, cols)``.

    ``bool`` when ``soft`` is False, ``float32`` coverage in [0, 1] when it is True.
    """

    ids: list[str]
    instances: np.ndarray  # (K, gh, gw), exclusive by z-order
    raw: np.ndarray  # (K, gh, gw), each instance on its own
    background: np.ndarray  # (gh, gw)
    grid: tuple[int, int]  # (cols, rows)
    soft: bool

    def mask(self, instance_id: str, exclusive: bool = True) -> np.ndarray:
        k = self.ids.index(instance_id)
        return (self.instances if exclusive else self.raw)[k]

    def segments(self, dtype=None) -> np.ndarray:
        """``[background, instance_1, ...]`` stacked: the segment list L of the method.

        ``dtype`` converts (e.g. ``np.float32`` for 0.0/1.0 masks); default: as stored.
        """
        out = np.concatenate([self.background[None], self.instances], axis=0)
        return out if dtype is None else out.astype(dtype)

    def areas(self) -> dict[str, float]:
        """Exclusive area of each instance in grid cells (fractional for soft masks)."""
        return {iid: float(self.instances[k].sum()) for k, iid in enumerate(self.ids)}


def token_grid(width: int, height: int, patch: int = 16) -> tuple[int, int]:
    """Latent token grid (cols, rows) of a DiT with ``patch`` pixels per token side (FLUX/SD3: 16)."""
    return width // patch, height // patch


def _edges(geometry: BaseGeometry, scale_x: float, scale_y: float, origin: tuple[int, int]):
    xs, ys = [], []
    ox, oy = origin
    for poly in geo.polygons(geometry):
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords, dtype=np.float64)
            xs.append(xy[:, 0] * scale_x - ox)
            ys.append(xy[:, 1] * scale_y - oy)
    if not xs:
        return None
    x0 = np.concatenate([x[:-1] for x in xs])
    x1 = np.concatenate([x[1:] for x in xs])
    y0 = np.concatenate([y[:-1] for y in ys])
    y1 = np.concatenate([y[1:] for y in ys])
    return x0, y0, x1, y1


def fill(
    geometry: BaseGeometry, cols: int, rows: int, scale_x: float, scale_y: float, origin: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Binary raster (bool) of ``geometry`` scaled by (scale_x, scale_y): cell centres decide.

    ``origin`` = (col, row) of the raster's top-left cell in the scaled grid, so a
    window around the geometry can be filled instead of the whole grid. Scanline fill:
    every ring edge toggles the parity of the cells right of where it crosses each
    row's centre line; a running parity per row is the even-odd inside test.
    """
    out_shape = (rows, cols)
    edges = _edges(geometry, scale_x, scale_y, origin)
    if edges is None or rows <= 0 or cols <= 0:
        return np.zeros(out_shape, bool)
    x0, y0, x1, y1 = edges
    # Rows whose centre line y = r + 0.5 an edge crosses (half-open in y: no double count at vertices).
    r0 = np.clip(np.ceil(np.minimum(y0, y1) - 0.5), 0, rows).astype(np.int64)
    r1 = np.clip(np.ceil(np.maximum(y0, y1) - 0.5), 0, rows).astype(np.int64)
    n = r1 - r0
    keep = n > 0
    if not keep.any():
        return np.zeros(out_shape, bool)
    x0, y0, x1, y1, r0, n = x0[keep], y0[keep], x1[keep], y1[keep], r0[keep], n[keep]
    e = np.repeat(np.arange(n.size), n)
    r = r0[e] + (np.arange(e.size) - (np.cumsum(n) - n)[e])
    xc = x0[e] + (r + 0.5 - y0[e]) * ((x1 - x0) / (y1 - y0))[e]
    # First cell whose centre is right of the crossing; cols = beyond the row (no effect).
    c = np.clip(np.ceil(xc - 0.5), 0, cols).astype(np.int64)
    w = cols + 1
    toggles = np.zeros(rows * w, np.uint8)
    np.add.at(toggles, r * w + c, 1)  # only the crossings are touched (a few per row)
    toggles = toggles.reshape(rows, w)
    # uint8 wrap-around keeps the parity (256 is even).
    return (np.cumsum(toggles[:, :cols], axis=1, dtype=np.uint8) & 1).astype(bool)


def _window(geometry: BaseGeometry, sx: float, sy: float, k: int, cols: int, rows: int) -> tuple[int, int, int, int]:
    """Grid-cell bounds (c0, r0, c1, r1) of the geometry, clipped to the grid."""
    x0, y0, x1, y1 = geometry.bounds
    c0 = max(0, int(math.floor(x0 * sx / k)))
    r0 = max(0, int(math.floor(y0 * sy / k)))
    c1 = min(cols, int(math.ceil(x1 * sx / k)) + 1)
    r1 = min(rows, int(math.ceil(y1 * sy / k)) + 1)
    return c0, r0, c1, r1


def _supersampling(width: int, height: int, cols: int, rows: int) -> int:
    k = max(2, math.ceil(max(width / cols, height / rows)))
    return max(1, min(k, MAX_FINE_SIDE // max(cols, rows)))


def rasterize(
    layout: Layout,
    grid: tuple[int, int] | None = None,
    soft: bool = False,
    threshold: float = 0.5,
    include_hidden: bool = False,
) -> MaskSet:
    """Masks of the layout's (visible) instances on a ``grid = (cols, rows)``; default: canvas pixels."""
    cols, rows = grid or (layout.width, layout.height)
    if cols <= 0 or rows <= 0:
        raise ValueError(f"mask grid must be positive, got {cols}x{rows}")
    insts = layout.instances if include_hidden else layout.visible_instances()
    ids = [i.id for i in insts]
    pixel_grid = (cols, rows) == (layout.width, layout.height)
    k = 1 if (pixel_grid and not soft) else _supersampling(layout.width, layout.height, cols, rows)
    sx, sy = cols * k / layout.width, rows * k / layout.height
    kind = np.float32 if soft else bool

    raw = np.zeros((len(insts), rows, cols), kind)
    excl = np.zeros((len(insts), rows, cols), kind)
    covered = np.zeros((rows * k, cols * k), bool)
    # Top-most first: each instance keeps only what the ones above left uncovered.
    for idx in range(len(insts) - 1, -1, -1):
        g = insts[idx].geometry
        if g.is_empty:
            continue
        c0, r0, c1, r1 = _window(g, sx, sy, k, cols, rows)
        if c1 <= c0 or r1 <= r0:
            continue
        fine = fill(g, (c1 - c0) * k, (r1 - r0) * k, sx, sy, origin=(c0 * k, r0 * k))
        cov = covered[r0 * k : r1 * k, c0 * k : c1 * k]
        own = fine & ~cov
        cov |= fine
        if k == 1:
            raw[idx, r0:r1, c0:c1] = fine
            excl[idx, r0:r1, c0:c1] = own
        else:
            f, o = _coverage(fine, k), _coverage(own, k)
            raw[idx, r0:r1, c0:c1] = f if soft else f >= threshold
            excl[idx, r0:r1, c0:c1] = o if soft else o >= threshold
    if k == 1:
        background = ~covered
    elif soft:
        background = 1.0 - _coverage(covered, k)
    else:
        background = ~excl.any(axis=0) if len(insts) else np.ones((rows, cols), bool)
    return MaskSet(ids, excl, raw, background, (cols, rows), soft)


def _coverage(fine: np.ndarray, k: int) -> np.ndarray:
    """Fraction (float32) of each k x k block of a boolean raster that is set."""
    h, w = fine.shape[0] // k, fine.shape[1] // k
    # INTER_AREA with a whole-number factor is the exact block mean (and much faster than numpy).
    return cv2.resize(fine.view(np.uint8).astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
