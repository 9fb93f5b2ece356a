"""Shapely geometry in canvas pixels: strokes, polygons, validity, simplification."""
from __future__ import annotations

from typing import Iterable, Sequence

import shapely
import shapely.affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

Points = Sequence[tuple[float, float]]

#: Pieces smaller than this (square pixels) are dropped after an edit.
MIN_AREA = 0.5


def empty() -> MultiPolygon:
    return MultiPolygon()


def polygons_only(geom: BaseGeometry | None) -> Polygon | MultiPolygon:
    """Return a valid Polygon/MultiPolygon holding just the areal parts of ``geom``.

    An invalid geometry is repaired with GEOS's "structure" method: the area a ring encloses
    is kept (a bow tie gives two triangles, a loop drawn over itself stays filled), and it
    runs in a fraction of the time of the default "linework" method on tangled rings.
    """
    if geom is None or geom.is_empty:
        return empty()
    if not geom.is_valid:
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if isinstance(geom, (Polygon, MultiPolygon)):
        # Valid already: the parts cannot overlap, so no union is needed (one can take seconds).
        parts = [p for p in polygons(geom) if p.area >= MIN_AREA]
        if len(parts) <= 1:
            return parts[0] if parts else empty()
        return geom if len(parts) == len(geom.geoms) else MultiPolygon(parts)
    parts: list[Polygon] = []
    stack = [geom]
    while stack:
        g = stack.pop()
        if isinstance(g, Polygon):
            if not g.is_empty and g.area >= MIN_AREA:
                parts.append(g)
        elif hasattr(g, "geoms"):
            stack.extend(g.geoms)
    if not parts:
        return empty()
    if len(parts) == 1:
        return parts[0]
    merged = shapely.union_all(parts)
    return merged if isinstance(merged, (Polygon, MultiPolygon)) else polygons_only(merged)


def stroke_polygon(points: Points, radius: float, resolution: int = 8) -> Polygon | MultiPolygon:
    """The area a round brush of ``radius`` covers along the polyline ``points``."""
    if radius <= 0:
        raise ValueError(f"brush radius must be positive, got {radius}")
    pts = [(float(x), float(y)) for x, y in points]
    if not pts:
        return empty()
    if len(pts) == 1 or all(p == pts[0] for p in pts):
        shape = Point(pts[0]).buffer(radius, quad_segs=resolution)
    else:
        shape = LineString(pts).buffer(radius, quad_segs=resolution, cap_style="round", join_style="round")
    return polygons_only(shape)


def polygon_from_points(points: Points) -> Polygon | MultiPolygon:
    """A polygon from clicked vertices; self-intersections are repaired, not rejected."""
    pts = [(float(x), float(y)) for x, y in points]
    if len(pts) < 3:
        raise ValueError(f"a polygon needs at least 3 vertices, got {len(pts)}")
    return polygons_only(Polygon(pts))


def clip_to_canvas(geom: BaseGeometry, width: int, height: int) -> Polygon | MultiPolygon:
    return polygons_only(geom.intersection(shapely.box(0, 0, width, height)))


def union(a: BaseGeometry, b: BaseGeometry) -> Polygon | MultiPolygon:
    if a.is_empty:
        return polygons_only(b)
    if b.is_empty:
        return polygons_only(a)
    return polygons_only(a.union(b))


def difference(a: BaseGeometry, b: BaseGeometry) -> Polygon | MultiPolygon:
    if a.is_empty or b.is_empty:
        return polygons_only(a)
    return polygons_only(a.difference(b))


def translate(geom: BaseGeometry, dx: float, dy: float) -> Polygon | MultiPolygon:
    return polygons_only(shapely.affinity.translate(geom, dx, dy)) if not geom.is_empty else empty()


def scale(geom: BaseGeometry, sx: float, sy: float) -> Polygon | MultiPolygon:
    """``geom`` stretched by ``sx`` and ``sy`` about the canvas origin (a resized canvas)."""
    return polygons_only(shapely.affinity.scale(geom, sx, sy, origin=(0, 0))) if not geom.is_empty else empty()


def simplify(geom: BaseGeometry, tolerance: float) -> Polygon | MultiPolygon:
    return polygons_only(geom.simplify(tolerance, preserve_topology=True))


def vertex_count(geom: BaseGeometry) -> int:
    return int(shapely.get_num_coordinates(geom))


def polygons(geom: BaseGeometry) -> Iterable[Polygon]:
    if isinstance(geom, Polygon):
        if not geom.is_empty:
            yield geom
    elif isinstance(geom, MultiPolygon):
        yield from geom.geoms
