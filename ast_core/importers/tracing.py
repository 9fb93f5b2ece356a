"""Raster region -> vector polygons, traced with OpenCV and cleaned with shapely.

``cv2.findContours`` (with the two-level hierarchy, so holes are kept) gives each
region's boundary through the centres of its edge pixels; a half-pixel mitred buffer
moves it out to the pixel edges, so the polygon's area matches the pixel count. The
result is simplified (default tolerance: 1 pixel) to keep the vertex count sensible.
"""
from __future__ import annotations

import cv2
import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from ..document import geometry as geo

SIMPLIFY_TOLERANCE = 1.0


def _ring_shape(points: np.ndarray):
    pts = points.reshape(-1, 2).astype(np.float64)
    if len(pts) == 1:
        return Point(pts[0])
    if len(pts) == 2:
        return LineString(pts)
    poly = Polygon(pts)
    if poly.area < 1e-9:  # a one-pixel-wide line: the contour goes out and back
        return LineString(np.vstack([pts, pts[:1]]))
    return poly


def trace(mask: np.ndarray, tolerance: float = SIMPLIFY_TOLERANCE) -> Polygon | MultiPolygon:
    """Polygons (in pixel coordinates, y down) covering the non-zero pixels of ``mask``."""
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    if not m.any():
        return geo.empty()
    m = (m > 0).astype(np.uint8)
    contours, hierarchy = cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return geo.empty()
    hier = hierarchy[0]
    pieces = []
    for i, c in enumerate(contours):
        if hier[i][3] != -1:  # a hole: handled with its outer contour
            continue
        outer = _ring_shape(c)
        holes = []
        child = hier[i][2]
        while child != -1:
            hole = _ring_shape(contours[child])
            if isinstance(hole, Polygon):
                holes.append(hole)
            child = hier[child][0]
        pieces.append((outer, holes))
    shapes = []
    for outer, holes in pieces:
        # Pixel centres -> pixel edges: grow by half a pixel, then move to pixel corners.
        shape = outer.buffer(0.5, cap_style="square", join_style="mitre", mitre_limit=2.0)
        for h in holes:
            # A hole's contour runs through the region's own pixels around it: the hole
            # proper is that ring shrunk by half a pixel.
            inner = h.buffer(-0.5, join_style="mitre", mitre_limit=2.0)
            if not inner.is_empty:
                shape = shape.difference(inner)
        shapes.append(shape)
    merged = shapely.union_all(shapes) if len(shapes) > 1 else shapes[0]
    merged = shapely.affinity.translate(merged, 0.5, 0.5)
    if tolerance > 0:
        merged = merged.simplify(tolerance, preserve_topology=True)
    return geo.polygons_only(merged)
