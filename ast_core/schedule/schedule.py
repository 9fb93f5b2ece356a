"""The step-layer schedule: where (layer) and when (step) each AST modulation acts.

Effective coefficient of modulation ``kind`` on step ``s`` and layer ``l``::

    weight[kind] * curve[kind](s) * (1 if the band of l says kind acts else 0)

The attention processors multiply it by the row size factor named in the layer plan.
A :class:`Schedule` is plain Python: edits go through setters that validate and emit
``schedule.changed`` (a :class:`~ast_core.document.events.Signal`) with a
:class:`ScheduleEvent`; curves and bands are immutable values, so an undo command just
stores the old value and sets it back.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

import numpy as np

from ast_core.document.events import Signal

from .bands import (
    KINDS,
    LayerBand,
    LayerPlan,
    band_from_dict,
    check_tiling,
    merge_equal_neighbours,
)
from .curves import Curve, KeyframeCurve, PowerCurve, _number, curve_from_dict
from . import structure as layer_structure
from .structure import Structure

#: 2: ``layers`` is a list of ``{kind, count}`` runs (1: FLUX's ``{double, single}`` counts).
FORMAT_VERSION = 2


@dataclass(frozen=True)
class ScheduleEvent:
    """One change of a Schedule.

    ``kind`` is one of "weight", "curve" (``key`` = modulation kind), "size_regularisation",
    "bands", "reset" (everything may have changed, e.g. a preset was applied).
    """

    kind: str
    key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {list(KINDS)}, got {kind!r}")
    return kind


class Schedule:
    """Per-kind weights and step curves, size regularisation, and layer bands."""

    def __init__(
        self,
        *,
        layers: Iterable[Sequence[Any]],
        bands: Iterable[LayerBand],
        weights: dict[str, float] | None = None,
        curves: dict[str, Curve] | None = None,
        sizereg_image: float = 1.0,
        sizereg_text: float = 4.0,
        preset: str = "",
    ) -> None:
        self.changed = Signal()
        self._structure = layer_structure.structure(layers)
        weights = dict(weights or {"i2i": 3.5, "t2t": 3.5, "i2t": 5.0})
        curves = dict(curves or {k: PowerCurve() for k in KINDS})
        for name, table in (("weights", weights), ("curves", curves)):
            missing = [k for k in KINDS if k not in table]
            extra = [k for k in table if k not in KINDS]
            if missing or extra:
                raise ValueError(
                    f"{name}: expected exactly the kinds {list(KINDS)}"
                    + (f"; missing {missing}" if missing else "")
                    + (f"; unknown {extra}" if extra else "")
                )
        self._weights = {k: _number(weights[k], f"weights.{k}", minimum=0.0) for k in KINDS}
        for k in KINDS:
            if not isinstance(curves[k], (PowerCurve, KeyframeCurve)):
                raise ValueError(f"curves.{k}: expected a PowerCurve or KeyframeCurve")
        self._curves: dict[str, Curve] = {k: curves[k] for k in KINDS}
        self._sizereg_image = _number(sizereg_image, "size_regularisation.image", minimum=0.0)
        self._sizereg_text = _number(sizereg_text, "size_regularisation.text", minimum=0.0)
        bands = tuple(bands)
        check_tiling(bands, self.num_layers)
        self._bands = bands
        if not isinstance(preset, str):
            raise ValueError(f"preset: expected a name, got {preset!r}")
        self._preset = preset

    # ------------------------------------------------------------------ structure
    @property
    def structure(self) -> Structure:
        """The runs of layer kinds this schedule is written for (see ``schedule.structure``)."""
        return self._structure

    @property
    def num_layers(self) -> int:
        return layer_structure.num_layers(self._structure)

    @property
    def preset(self) -> str:
        """Name of the preset this schedule started from ("" if built by hand)."""
        return self._preset

    def layer_kind(self, layer: int) -> str:
        """'joint' (text and image weights apart) or 'single' (one stream)."""
        self._check_layer(layer)
        return layer_structure.layer_kind(self._structure, int(layer))

    def kind_boundaries(self) -> list[tuple[str, int, int]]:
        """``[(kind, start, end), ...]`` for each run of one layer kind."""
        return layer_structure.runs(self._structure)

    def _check_layer(self, layer: int) -> None:
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
            raise ValueError(f"layer: expected an integer, got {layer!r}")
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"layer: {layer} is outside 0..{self.num_layers - 1}")

    # ------------------------------------------------------------------ reading
    @property
    def weights(self) -> dict[str, float]:
        return dict(self._weights)

    def weight(self, kind: str) -> float:
        return self._weights[_check_kind(kind)]

    @property
    def curves(self) -> dict[str, Curve]:
        return dict(self._curves)

    def curve(self, kind: str) -> Curve:
        return self._curves[_check_kind(kind)]

    @property
    def sizereg_image(self) -> float:
        return self._sizereg_image

    @property
    def sizereg_text(self) -> float:
        return self._sizereg_text

    @property
    def bands(self) -> tuple[LayerBand, ...]:
        return self._bands

    def band_index_at(self, layer: int) -> int:
        self._check_layer(layer)
        for i, band in enumerate(self._bands):
            if band.start <= layer < band.end:
                return i
        raise AssertionError("bands tile all layers")  # pragma: no cover

    def layer_plan(self, layer: int) -> LayerPlan:
        """Which modulations act on ``layer`` and with which row factors."""
        return self._bands[self.band_index_at(layer)].plan

    def layer_plans(self) -> list[LayerPlan]:
        plans: list[LayerPlan] = []
        for band in self._bands:
            plans.extend([band.plan] * (band.end - band.start))
        return plans

    def step_strengths(self, timesteps: Sequence[float]) -> dict[str, np.ndarray]:
        """Per kind, ``weight * curve(step)`` for every step of the run ([steps] float64)."""
        return {k: self._weights[k] * self._curves[k].values(timesteps) for k in KINDS}

    def step_strength(self, kind: str, step: int, timesteps: Sequence[float]) -> float:
        """``weight * curve`` of ``kind`` on 0-based ``step`` of the run."""
        values = self.step_strengths(timesteps)[_check_kind(kind)]
        if not 0 <= step < len(values):
            raise ValueError(f"step: {step} is outside 0..{len(values) - 1}")
        return float(values[step])

    def layer_mask(self, kind: str) -> np.ndarray:
        """[layers] 1.0 where ``kind`` acts, else 0.0."""
        _check_kind(kind)
        return np.array([1.0 if p.acts(kind) else 0.0 for p in self.layer_plans()])

    def coefficient_table(self, kind: str, timesteps: Sequence[float]) -> np.ndarray:
        """[steps, layers] effective coefficient of ``kind`` (before the row size factor)."""
        strength = self.step_strengths(timesteps)[_check_kind(kind)]
        return np.outer(strength, self.layer_mask(kind))

    def is_active(self, step: int, layer: int, timesteps: Sequence[float]) -> bool:
        """True if any modulation has a non-zero coefficient on this step and layer."""
        plan = self.layer_plan(layer)
        return any(plan.acts(k) and self.step_strength(k, step, timesteps) != 0.0 for k in KINDS)

    # ------------------------------------------------------------------ editing
    def set_weight(self, kind: str, value: float) -> None:
        _check_kind(kind)
        value = _number(value, f"weights.{kind}", minimum=0.0)
        if value != self._weights[kind]:
            self._weights[kind] = value
            self.changed.emit(ScheduleEvent("weight", kind))

    def set_curve(self, kind: str, curve: Curve) -> None:
        _check_kind(kind)
        if not isinstance(curve, (PowerCurve, KeyframeCurve)):
            raise ValueError(f"curves.{kind}: expected a PowerCurve or KeyframeCurve")
        if curve != self._curves[kind]:
            self._curves[kind] = curve
            self.changed.emit(ScheduleEvent("curve", kind))

    def set_size_regularisation(self, image: float | None = None,
                                text: float | None = None) -> None:
        new_image = self._sizereg_image if image is None else _number(
            image, "size_regularisation.image", minimum=0.0)
        new_text = self._sizereg_text if text is None else _number(
            text, "size_regularisation.text", minimum=0.0)
        if (new_image, new_text) != (self._sizereg_image, self._sizereg_text):
            self._sizereg_image, self._sizereg_text = new_image, new_text
            self.changed.emit(ScheduleEvent("size_regularisation"))

    def set_bands(self, bands: Iterable[LayerBand]) -> None:
        """Replace all bands (must tile the layers); adjacent equal bands are kept apart."""
        bands = tuple(bands)
        for i, b in enumerate(bands):
            if not isinstance(b, LayerBand):
                raise ValueError(f"bands[{i}]: expected a LayerBand, got {b!r}")
        check_tiling(bands, self.num_layers)
        if bands != self._bands:
            self._bands = bands
            self.changed.emit(ScheduleEvent("bands"))

    def set_band(self, index: int, **changes: Any) -> None:
        """Change the plan of band ``index`` (i2i, t2t, i2t_maps, i2t_row_factor, ...)."""
        self._check_band(index)
        if "start" in changes or "end" in changes:
            raise ValueError("bands: use move_band_edge() to change a band's range")
        try:
            band = replace(self._bands[index], **changes)
        except TypeError as exc:
            raise ValueError(f"bands[{index}]: {exc}") from None
        except ValueError as exc:
            raise ValueError(f"bands[{index}].{exc}") from None
        bands = list(self._bands)
        bands[index] = band
        self.set_bands(bands)

    def move_band_edge(self, index: int, layer: int) -> None:
        """Move the boundary between band ``index-1`` and band ``index`` to ``layer``.

        The boundary stays strictly inside the two neighbours (no band becomes empty).
        """
        if not 1 <= index < len(self._bands):
            raise ValueError(f"bands[{index}]: only inner edges (1..{len(self._bands) - 1}) move")
        prev, cur = self._bands[index - 1], self._bands[index]
        layer = int(layer)
        if not prev.start < layer < cur.end:
            raise ValueError(
                f"bands[{index}].start: edge must stay within {prev.start + 1}..{cur.end - 1}, "
                f"got {layer}"
            )
        bands = list(self._bands)
        bands[index - 1] = prev.with_range(prev.start, layer)
        bands[index] = cur.with_range(layer, cur.end)
        self.set_bands(bands)

    def split_band(self, layer: int) -> None:
        """Split the band containing ``layer`` so a new band starts at ``layer``."""
        i = self.band_index_at(layer)
        band = self._bands[i]
        if band.start == layer:
            return
        bands = list(self._bands)
        bands[i:i + 1] = [band.with_range(band.start, layer), band.with_range(layer, band.end)]
        self.set_bands(bands)

    def remove_band(self, index: int) -> None:
        """Remove band ``index``; its layers join the previous band (or the next one)."""
        self._check_band(index)
        if len(self._bands) == 1:
            raise ValueError("bands: the only band cannot be removed")
        bands = list(self._bands)
        gone = bands.pop(index)
        if index > 0:
            bands[index - 1] = bands[index - 1].with_range(bands[index - 1].start, gone.end)
        else:
            bands[0] = bands[0].with_range(gone.start, bands[0].end)
        self.set_bands(bands)

    def _check_band(self, index: int) -> None:
        if not 0 <= index < len(self._bands):
            raise ValueError(f"bands[{index}]: no such band (schedule has {len(self._bands)})")

    def assign(self, other: "Schedule") -> None:
        """Take every value of ``other`` (reset to preset, load, undo of a big change)."""
        if not isinstance(other, Schedule):
            raise ValueError(f"schedule: expected a Schedule, got {other!r}")
        if other.to_dict() == self.to_dict():
            return
        self._structure = other._structure
        self._weights = dict(other._weights)
        self._curves = dict(other._curves)
        self._sizereg_image, self._sizereg_text = other._sizereg_image, other._sizereg_text
        self._bands = other._bands
        self._preset = other._preset
        self.changed.emit(ScheduleEvent("reset"))

    def copy(self) -> "Schedule":
        """An independent copy (no subscribers)."""
        return Schedule.from_dict(self.to_dict())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Schedule(preset={self._preset!r}, {layer_structure.describe(self._structure)}, "
                f"bands={len(self._bands)}, weights={self._weights})")

    # ------------------------------------------------------------------ other depths
    def for_structure(self, layers: Iterable[Sequence[Any]]) -> "Schedule":
        """This schedule mapped to a model with another layer structure (relative depth).

        See :func:`ast_core.schedule.structure.source_layer` for the rule.
        """
        target = layer_structure.structure(layers)
        if target == self._structure:
            return self.copy()
        src_plans = self.layer_plans()
        total = layer_structure.num_layers(target)
        bands = [LayerBand.from_plan(j, j + 1, src_plans[
            layer_structure.source_layer(target, self._structure, j)]) for j in range(total)]
        return Schedule(
            layers=target,
            bands=merge_equal_neighbours(bands),
            weights=self._weights,
            curves=self._curves,
            sizereg_image=self._sizereg_image,
            sizereg_text=self._sizereg_text,
            preset=self._preset,
        )

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """Stable, diff-friendly JSON-ready dict (fixed key order, one band per entry)."""
        return {
            "format_version": FORMAT_VERSION,
            "preset": self._preset,
            "layers": layer_structure.to_json(self._structure),
            "weights": {k: self._weights[k] for k in KINDS},
            "curves": {k: self._curves[k].to_dict() for k in KINDS},
            "size_regularisation": {"image": self._sizereg_image, "text": self._sizereg_text},
            "bands": [b.to_dict() for b in self._bands],
        }

    @staticmethod
    def from_dict(data: Any) -> "Schedule":
        """Parse ``to_dict`` output; raises ValueError("schedule.<field>: <problem>")."""
        try:
            return _from_dict(data)
        except ValueError as exc:
            raise ValueError(f"schedule.{exc}") from None


_TOP_FIELDS = ("format_version", "preset", "layers", "weights", "curves",
               "size_regularisation", "bands")


def _section(data: dict, key: str, fields: Sequence[str]) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key}: expected an object with {list(fields)}, got {value!r}")
    extra = [k for k in value if k not in fields]
    if extra:
        raise ValueError(f"{key}: unknown field(s) {extra}")
    for f in fields:
        if f not in value:
            raise ValueError(f"{key}.{f}: missing")
    return value


def _from_dict(data: Any) -> Schedule:
    if not isinstance(data, dict):
        raise ValueError(f"(root): expected an object, got {type(data).__name__}")
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"format_version: expected an integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"format_version: {version} is newer than this version of AST Studio understands "
            f"({FORMAT_VERSION}); update the application"
        )
    if version < 1:
        raise ValueError(f"format_version: must be >= 1, got {version}")
    extra = [k for k in data if k not in _TOP_FIELDS]
    if extra:
        raise ValueError(f"(root): unknown field(s) {extra}")
    if "layers" not in data:
        raise ValueError("layers: missing")
    if version == 1 and not isinstance(data["layers"], dict):
        raise ValueError("layers: format 1 expects an object with double and single counts")
    layers = layer_structure.from_json(data["layers"])
    weights = _section(data, "weights", KINDS)
    curves_data = _section(data, "curves", KINDS)
    sizereg = _section(data, "size_regularisation", ("image", "text"))
    bands_data = data.get("bands")
    if not isinstance(bands_data, list):
        raise ValueError(f"bands: expected a list of bands, got {bands_data!r}")
    preset = data.get("preset", "")
    if not isinstance(preset, str):
        raise ValueError(f"preset: expected a string, got {preset!r}")
    curves = {k: curve_from_dict(curves_data[k], f"curves.{k}") for k in KINDS}
    bands = [band_from_dict(b, f"bands[{i}]") for i, b in enumerate(bands_data)]
    for k in KINDS:
        _number(weights[k], f"weights.{k}", minimum=0.0)
    return Schedule(
        layers=layers,
        bands=bands,
        weights={k: weights[k] for k in KINDS},
        curves=curves,
        sizereg_image=_number(sizereg["image"], "size_regularisation.image", minimum=0.0),
        sizereg_text=_number(sizereg["text"], "size_regularisation.text", minimum=0.0),
        preset=preset,
    )

