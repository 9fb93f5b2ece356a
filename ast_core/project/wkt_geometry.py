"""Instance geometry from WKT text, checked before and after shapely sees it.

The text is hostile until proven otherwise, so every step is bounded:

* before parsing: its length, its geometry type (only POLYGON and MULTIPOLYGON; nested
  GEOMETRYCOLLECTIONs crash GEOS's WKT reader), the nesting of its parentheses and its
  vertex count (per instance, and per layout through :class:`GeometryReader`);
* after parsing: 2D, finite coordinates within :data:`MAX_COORDINATE` (so areas stay finite),
  and an outline no longer than :data:`MAX_OUTLINE` pixels (filling a mask takes time and
  memory in proportion to it; :func:`check_drawing_cost` bounds a whole layout's);
* before GEOS checks validity: how many pairs of edges lie close together (their bounding
  boxes overlap). GEOS's validity check and repair take time in proportion to those pairs
  (a star of 50,000 spikes is valid, yet takes GEOS 26 s to check), so past
  :data:`MAX_EDGE_PAIRS` the geometry is refused as too complex;
* an invalid geometry (self-intersecting, overlapping parts) is repaired the way the document
  model repairs every geometry (:func:`ast_core.document.geometry.polygons_only`), after
  counting its self-crossings: repair time grows with them, so past
  :data:`MAX_REPAIR_CROSSINGS` it is refused instead.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon

from ..document import geometry as geo
from .errors import FieldError

#: Vertices of one instance: far above any drawing (a brush stroke is simplified to the canvas grid).
MAX_VERTICES = 100_000
#: Vertices of all distinct geometries of one layout.
MAX_LAYOUT_VERTICES = 1_000_000
#: Characters of one geometry's text (64 per vertex: more than full-precision coordinates need).
MAX_WKT_CHARS = 64 * MAX_VERTICES
#: Largest |x| or |y| in canvas pixels (canvases are at most 4096 wide).
MAX_COORDINATE = 1_000_000.0
#: Length of one geometry's outline, and of all of one layout's, in canvas pixels (a detailed
#: tracing of a 4096 x 4096 photo has a few hundred thousand).
MAX_OUTLINE = 1_000_000.0
MAX_LAYOUT_OUTLINE = 20_000_000.0
#: How many times over the instances' bounding boxes may cover the canvas (a scene of 30 large,
#: overlapping instances covers it 10-20 times; drawing masks takes time in proportion).
MAX_CANVAS_COVER = 64
#: Pairs of edges with overlapping bounding boxes in one geometry, and in one layout
#: (a drawn shape has a few per edge; GEOS needs about 40 ns per pair to check validity).
MAX_EDGE_PAIRS = 2_000_000
MAX_LAYOUT_EDGE_PAIRS = 10_000_000
#: Self-crossings repaired in one geometry, and in one layout (repair takes about 30 us each).
MAX_REPAIR_CROSSINGS = 5_000
MAX_LAYOUT_REPAIR_CROSSINGS = 20_000

_TYPE = re.compile(r"\s*([A-Za-z]*)")
_NESTING = {"POLYGON": 2, "MULTIPOLYGON": 3}
_NOT_PARENS = bytes(b for b in range(256) if b not in b"()")


class GeometryReader:
    """Reads the geometries of one layout under one budget of vertices, edge pairs and repairs.

    Identical texts are parsed once. With ``text_only``, only the checks that need no parsing
    are made and an empty geometry stands in: the render snapshots of a project are read so
    at load (a project may hold thousands) and parsed in full when one is used.
    """

    def __init__(self, text_only: bool = False) -> None:
        self.text_only = text_only
        self.vertices = MAX_LAYOUT_VERTICES
        self.edge_pairs = MAX_LAYOUT_EDGE_PAIRS
        self.crossings = MAX_LAYOUT_REPAIR_CROSSINGS
        self._seen: dict[str, Polygon | MultiPolygon] = {}

    def read(self, text: str, where: str) -> Polygon | MultiPolygon:
        geom = self._seen.get(text)
        if geom is None:
            geom = self._read(text, where)
            self._seen[text] = geom
        return geom

    def _read(self, text: str, where: str) -> Polygon | MultiPolygon:
        kind = _check_text(text, where)
        estimate = text.count(",") + 1  # at least the number of vertices
        if estimate > MAX_VERTICES:
            raise FieldError(where, f"more than {MAX_VERTICES} vertices")
        if self.text_only:
            return geo.empty()
        if estimate > self.vertices:
            raise FieldError(where, f"the layout's geometries have more than {MAX_LAYOUT_VERTICES} vertices")
        geom = _parse(text, where)
        if geom.geom_type.upper() != kind:
            raise FieldError(where, f"must be a POLYGON or MULTIPOLYGON, got {geom.geom_type.upper()}")
        self.vertices -= int(shapely.get_num_coordinates(geom))
        if geom.is_empty:
            return geom
        _check_coordinates(geom, where)
        outline = float(shapely.length(geom))
        if outline > MAX_OUTLINE:
            raise FieldError(where, f"outline longer than {MAX_OUTLINE:.0f} pixels")
        edges = _Edges(geom)
        limit = min(MAX_EDGE_PAIRS, self.edge_pairs)
        if not edges.count_close_pairs(limit):
            if limit < MAX_EDGE_PAIRS:
                raise FieldError(where, f"too complex: the layout's geometries have more than "
                                        f"{MAX_LAYOUT_EDGE_PAIRS} pairs of edges close together")
            raise FieldError(where, f"too complex: more than {MAX_EDGE_PAIRS} pairs of edges lie close together")
        self.edge_pairs -= edges.pair_count
        if shapely.is_valid(geom):
            return geom
        crossings = edges.crossings()
        limit = min(MAX_REPAIR_CROSSINGS, self.crossings)
        if crossings > limit:
            if limit < MAX_REPAIR_CROSSINGS:
                raise FieldError(where, "invalid geometry, and the layout's invalid geometries cross themselves in "
                                        f"more than {MAX_LAYOUT_REPAIR_CROSSINGS} places: too many to repair")
            raise FieldError(where, f"invalid geometry that crosses itself in more than {MAX_REPAIR_CROSSINGS} "
                                    "places: too many to repair")
        self.crossings -= crossings
        return geo.polygons_only(geom)


def check_drawing_cost(geometries: list[Polygon | MultiPolygon], width: int, height: int, where: str) -> None:
    """What drawing a layout's masks takes time in proportion to: the instances' outlines, and
    the canvas areas of their bounding boxes (each mask is filled over its bounding box)."""
    total = float(sum(shapely.length(g) for g in geometries))
    if total > MAX_LAYOUT_OUTLINE:
        raise FieldError(where, f"the instances' outlines are longer than {MAX_LAYOUT_OUTLINE:.0f} pixels together")
    cells = 0.0
    for g in geometries:
        if not g.is_empty:
            x0, y0, x1, y1 = g.bounds
            cells += max(0.0, min(x1 + 1, width) - max(x0, 0)) * max(0.0, min(y1 + 1, height) - max(y0, 0))
    if cells > MAX_CANVAS_COVER * width * height:
        raise FieldError(where, f"the instances' bounding boxes cover the canvas more than {MAX_CANVAS_COVER} times "
                                "over: too much to draw")


def _check_text(text: str, where: str) -> str:
    """The geometry type (POLYGON/MULTIPOLYGON) after checks that need no parsing."""
    if len(text) > MAX_WKT_CHARS:
        raise FieldError(where, f"geometry text longer than {MAX_WKT_CHARS} characters")
    word = _TYPE.match(text).group(1).upper()
    if word not in _NESTING:
        got = word[:30] or repr(text[:20])
        raise FieldError(where, f"must be a POLYGON or MULTIPOLYGON, got {got}")
    if not text.isascii():
        raise FieldError(where, "not valid WKT (non-ASCII character)")
    parens = text.encode("ascii").translate(None, _NOT_PARENS)
    for _ in range(_NESTING[word]):
        parens = parens.replace(b"()", b"")
    if parens:
        raise FieldError(where, f"not valid WKT (parentheses unbalanced or nested deeper than a {word} has)")
    return word


def _parse(text: str, where: str) -> Polygon | MultiPolygon:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NaN coordinates: refused after parsing
            return shapely.from_wkt(text)
    except (GEOSException, ValueError, TypeError, NotImplementedError) as e:
        first = (str(e).splitlines() or [type(e).__name__])[0]
        raise FieldError(where, f"not valid WKT ({first[:120]})") from None


def _check_coordinates(geom, where: str) -> None:
    if shapely.has_z(geom) or (hasattr(shapely, "has_m") and shapely.has_m(geom)):
        raise FieldError(where, "must be 2D (x y), has z or m coordinates")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise FieldError(where, "has non-finite coordinates")
    if np.abs(coords).max() > MAX_COORDINATE:
        raise FieldError(where, f"has coordinates beyond ±{MAX_COORDINATE:.0f} pixels")


class _Edges:
    """The edges of a geometry's rings, and the pairs of them that lie close together."""

    def __init__(self, geom: Polygon | MultiPolygon) -> None:
        rings = shapely.get_rings(shapely.get_parts(geom))
        coords, ring = shapely.get_coordinates(rings, return_index=True)
        same = ring[1:] == ring[:-1]
        self.starts, self.ends, self.ring = coords[:-1][same], coords[1:][same], ring[:-1][same]
        self.pair_count = 0
        self._pairs: tuple[np.ndarray, np.ndarray] | None = None

    def count_close_pairs(self, limit: int) -> bool:
        """Count the pairs of edges whose bounding boxes overlap (``pair_count``, or an upper
        bound of it); False as soon as there are more than ``limit``.

        First a sweep over the edges' x and y extents (sorting only): pairs of boxes that
        overlap also overlap in x and in y, so the smaller of the two counts bounds them.
        That settles drawn shapes; only when it does not are the pairs listed exactly."""
        lo, hi = np.minimum(self.starts, self.ends), np.maximum(self.starts, self.ends)
        bound = min(_overlapping_intervals(lo[:, 0], hi[:, 0]), _overlapping_intervals(lo[:, 1], hi[:, 1]))
        if bound <= limit:
            self.pair_count = bound
            return True
        if not self._list_pairs(limit):
            return False
        self.pair_count = len(self._pairs[0])
        return True

    def _list_pairs(self, limit: int) -> bool:
        """List the pairs of non-adjacent edges whose bounding boxes overlap; False (and stop
        early) past ``limit``. Time and memory stay in proportion to ``limit``: each query
        asks about so few edges that even if every one overlapped all others, the answer
        would fit."""
        n = len(self.starts)
        index = np.arange(n)
        first = np.r_[True, self.ring[1:] != self.ring[:-1]]
        ring_first = np.maximum.accumulate(np.where(first, index, 0))
        last = np.r_[self.ring[1:] != self.ring[:-1], True]
        ring_last = np.minimum.accumulate(np.where(last, index, n)[::-1])[::-1]
        segments = shapely.linestrings(np.stack([self.starts, self.ends], axis=1))
        tree = shapely.STRtree(segments)
        chunk = max(1, min(n, limit // max(n, 1)))
        lefts, rights, total = [], [], 0
        for a in range(0, n, chunk):
            left, right = tree.query(segments[a:a + chunk])
            left = left + a
            keep = right > left
            left, right = left[keep], right[keep]
            adjacent = (self.ring[left] == self.ring[right]) & (
                (right == left + 1) | ((left == ring_first[left]) & (right == ring_last[left])))
            left, right = left[~adjacent], right[~adjacent]
            total += len(left)
            if total > limit:
                return False
            lefts.append(left)
            rights.append(right)
        empty = np.zeros(0, np.int64)
        self._pairs = (np.concatenate(lefts) if lefts else empty, np.concatenate(rights) if rights else empty)
        return True

    def crossings(self) -> int:
        """How many pairs of non-adjacent edges touch or cross (after :meth:`count_close_pairs`)."""
        if self._pairs is None:  # the bound was enough to count: list them now (there are fewer than it)
            self._list_pairs(MAX_EDGE_PAIRS)
        left, right = self._pairs
        p1, q1, p2, q2 = self.starts[left], self.ends[left], self.starts[right], self.ends[right]

        def side(a, b, c):
            return np.sign((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))

        # Bounding boxes overlap, so a pair meets when each edge's ends are not strictly on one side of the other.
        meet = (side(p1, q1, p2) * side(p1, q1, q2) <= 0) & (side(p2, q2, p1) * side(p2, q2, q1) <= 0)
        return int(np.count_nonzero(meet))


def _overlapping_intervals(lo: np.ndarray, hi: np.ndarray) -> int:
    """How many pairs of the closed intervals [lo, hi] overlap (a sort and a binary search)."""
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    later_starts = np.searchsorted(lo, hi, side="right")  # intervals starting before each one ends
    return int((later_starts - np.arange(len(lo)) - 1).sum())
