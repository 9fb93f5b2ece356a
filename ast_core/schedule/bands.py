"""Layer bands: which modulations act on which transformer layers.

Layers are numbered ``0 .. num_layers-1`` in execution order (FLUX: the 19 double blocks,
then the 38 single blocks; the method page's ``l = 1..57`` is ``layer + 1``). A band covers
the half-open range ``[start, end)``; a schedule's bands tile every layer exactly once, in
order, so dragging a band edge is moving one boundary between two neighbours.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

KINDS = ("i2i", "t2t", "i2t")
"""Modulation kinds: image->image, text->text, image(query)->text(key)."""

I2T_MAPS = ("instance", "background", "attribute")
"""I2T maps, in canonical (JSON) order."""

IMAGE_ROW_FACTORS = ("a_img", "a_inst")
"""Row size factors for image query rows (I2I and I2T). Text rows always use ``a_txt``."""


@dataclass(frozen=True)
class LayerPlan:
    """What acts on one layer: the processors read this (plus a step strength)."""

    i2i: bool = False
    t2t: bool = False
    i2t_maps: frozenset[str] = frozenset()
    i2t_row_factor: str = "a_inst"
    i2i_row_factor: str = "a_img"

    @property
    def i2t(self) -> bool:
        return bool(self.i2t_maps)

    def acts(self, kind: str) -> bool:
        """Whether modulation ``kind`` ('i2i', 't2t' or 'i2t') acts on this layer."""
        if kind == "i2i":
            return self.i2i
        if kind == "t2t":
            return self.t2t
        if kind == "i2t":
            return self.i2t
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")

    @property
    def any(self) -> bool:
        return self.i2i or self.t2t or self.i2t


@dataclass(frozen=True)
class LayerBand:
    """Layers ``[start, end)`` share one :class:`LayerPlan`."""

    start: int
    end: int
    i2i: bool = False
    t2t: bool = False
    i2t_maps: frozenset[str] = frozenset()
    i2t_row_factor: str = "a_inst"
    i2i_row_factor: str = "a_img"

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"{name}: expected an integer layer index, got {v!r}")
        if self.start < 0:
            raise ValueError(f"start: must be >= 0, got {self.start}")
        if self.end <= self.start:
            raise ValueError(f"end: must be > start ({self.start}), got {self.end}")
        for name in ("i2i", "t2t"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected true/false, got {getattr(self, name)!r}")
        maps = self.i2t_maps
        if isinstance(maps, str) or not isinstance(maps, (set, frozenset, list, tuple)):
            raise ValueError(f"i2t_maps: expected a list of {list(I2T_MAPS)}, got {maps!r}")
        bad = [m for m in maps if m not in I2T_MAPS]
        if bad:
            raise ValueError(f"i2t_maps: unknown map(s) {bad}; expected some of {list(I2T_MAPS)}")
        object.__setattr__(self, "i2t_maps", frozenset(maps))
        if self.i2t_row_factor not in IMAGE_ROW_FACTORS:
            raise ValueError(
                f"i2t_row_factor: expected one of {list(IMAGE_ROW_FACTORS)}, "
                f"got {self.i2t_row_factor!r}"
            )
        if self.i2i_row_factor not in IMAGE_ROW_FACTORS:
            raise ValueError(
                f"i2i_row_factor: expected one of {list(IMAGE_ROW_FACTORS)}, "
                f"got {self.i2i_row_factor!r}"
            )

    @property
    def plan(self) -> LayerPlan:
        return LayerPlan(self.i2i, self.t2t, self.i2t_maps, self.i2t_row_factor,
                         self.i2i_row_factor)

    @staticmethod
    def from_plan(start: int, end: int, plan: LayerPlan) -> "LayerBand":
        return LayerBand(start, end, plan.i2i, plan.t2t, plan.i2t_maps, plan.i2t_row_factor,
                         plan.i2i_row_factor)

    def with_range(self, start: int, end: int) -> "LayerBand":
        return replace(self, start=start, end=end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "i2i": self.i2i,
            "i2i_row_factor": self.i2i_row_factor,
            "t2t": self.t2t,
            "i2t_maps": [m for m in I2T_MAPS if m in self.i2t_maps],
            "i2t_row_factor": self.i2t_row_factor,
        }


_BAND_FIELDS = {"start", "end", "i2i", "i2i_row_factor", "t2t", "i2t_maps", "i2t_row_factor"}


def band_from_dict(data: Any, where: str) -> LayerBand:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    extra = set(data) - _BAND_FIELDS
    if extra:
        raise ValueError(f"{where}: unknown field(s) {sorted(extra)}")
    for key in ("start", "end"):
        if key not in data:
            raise ValueError(f"{where}.{key}: missing")
    try:
        return LayerBand(
            start=data["start"],
            end=data["end"],
            i2i=data.get("i2i", False),
            t2t=data.get("t2t", False),
            i2t_maps=data.get("i2t_maps", []),
            i2t_row_factor=data.get("i2t_row_factor", "a_inst"),
            i2i_row_factor=data.get("i2i_row_factor", "a_img"),
        )
    except ValueError as exc:
        raise ValueError(f"{where}.{exc}") from None


def check_tiling(bands: tuple[LayerBand, ...], num_layers: int, where: str = "bands") -> None:
    """Bands must cover ``0..num_layers-1`` exactly once, in order."""
    if not bands:
        raise ValueError(f"{where}: at least one band is needed to cover {num_layers} layers")
    expected = 0
    for i, band in enumerate(bands):
        if band.start != expected:
            what = "overlaps the previous band" if band.start < expected else "leaves a gap"
            raise ValueError(
                f"{where}[{i}].start: {what} (expected {expected}, got {band.start}); "
                "bands must cover the layers contiguously in order"
            )
        expected = band.end
    if expected != num_layers:
        raise ValueError(
            f"{where}[{len(bands) - 1}].end: the last band must end at the layer count "
            f"{num_layers}, got {expected}"
        )


def merge_equal_neighbours(bands: list[LayerBand]) -> tuple[LayerBand, ...]:
    """Join adjacent bands with identical plans (keeps the JSON short and edges meaningful)."""
    out: list[LayerBand] = []
    for band in bands:
        if out and out[-1].plan == band.plan and out[-1].end == band.start:
            out[-1] = out[-1].with_range(out[-1].start, band.end)
        else:
            out.append(band)
    return tuple(out)
