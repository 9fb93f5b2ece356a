"""Layout geometry -> masks on any grid (canvas pixels, latent token grid).

* ``soft`` masks hold the fraction of each grid cell that a region covers (area
  coverage, measured by rasterising at a finer resolution and averaging).
* binary masks are ``soft >= threshold`` (0.5 by default: the method's "nearest,
  threshold 0.5" downsampling); on the canvas' own pixel grid they sample pixel centres.
* Instances are exclusive by z-order: a cell covered by two instances belongs to the
  upper one (``MaskSet.instances``). The raw, overlapping masks stay in ``MaskSet.raw``.
* The background is what no visible instance covers.
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
_SHIFT = 4  # cv2 sub-pixel bits


@dataclass
class MaskSet:
    """Masks of a layout's instances on one grid; arrays are ``float32`` of shape ``(rows, cols)``."""

    ids: list[str]
    instances: np.ndarray  # (K, gh, gw), exclusive by z-order
    raw: np.ndarray  # (K, gh, gw), each instance on its own
    background: np.ndarray  # (gh, gw)
    grid: tuple[int, int]  # (cols, rows)
    soft: bool

    def mask(self, instance_id: str, exclusive: bool = True) -> np.ndarray:
        k = self.ids.index(instance_id)
        return (self.instances if exclusive else self.raw)[k]

    def segments(self) -> np.ndarray:
        """``[background, instance_1, ...]`` stacked: the segment list L of the method."""
        return np.concatenate([self.background[None], self.instances], axis=0)


def token_grid(width: int, height: int, patch: int = 16) -> tuple[int, int]:
    """Latent token grid (cols, rows) of a DiT with ``patch`` pixels per token side (FLUX/SD3: 16)."""
    return width // patch, height // patch


def fill(
    geometry: BaseGeometry, cols: int, rows: int, scale_x: float, scale_y: float, origin: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Binary raster (uint8 0/1) of ``geometry`` scaled by (scale_x, scale_y); cell centres decide.

    ``origin`` = (col, row) of the raster's top-left cell in the scaled grid, so a
    window around the geometry can be filled instead of the whole grid.
    """
    out = np.zeros((rows, cols), np.uint8)
    rings = []
    one = 1 << _SHIFT
    ox, oy = origin
    for poly in geo.polygons(geometry):
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords, dtype=np.float64)
            # cv2 puts cell centres on integer coordinates: shift by half a cell.
            pts = np.empty_like(xy)
            pts[:, 0] = (xy[:, 0] * scale_x - 0.5 - ox) * one
            pts[:, 1] = (xy[:, 1] * scale_y - 0.5 - oy) * one
            rings.append(np.round(pts).astype(np.int32))
    if rings:
        cv2.fillPoly(out, rings, 1, lineType=cv2.LINE_8, shift=_SHIFT)
    return out


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
    fc, fr = cols * k, rows * k
    sx, sy = fc / layout.width, fr / layout.height

    raw = np.zeros((len(insts), rows, cols), np.float32)
    excl = np.zeros_like(raw)
    covered = np.zeros((fr, fc), np.uint8)
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
        own = fine & (1 - cov)
        cov |= fine
        raw[idx, r0:r1, c0:c1] = _block_mean(fine, k)
        excl[idx, r0:r1, c0:c1] = _block_mean(own, k)
    background = 1.0 - _block_mean(covered, k)
    if not soft and k > 1:
        raw = (raw >= threshold).astype(np.float32)
        excl = (excl >= threshold).astype(np.float32)
        background = (1.0 - excl.sum(0).clip(0, 1)).astype(np.float32) if len(insts) else np.ones((rows, cols), np.float32)
    return MaskSet(ids, excl, raw, background.astype(np.float32), (cols, rows), soft)


def _block_mean(fine: np.ndarray, k: int) -> np.ndarray:
    """Fraction of each k x k block that is set (area coverage)."""
    f = fine.astype(np.float32)
    if k == 1:
        return f
    return cv2.resize(f, (fine.shape[1] // k, fine.shape[0] // k), interpolation=cv2.INTER_AREA)
