"""Step curves: how strongly a modulation kind acts on each denoising step.

Two shapes, both plain immutable values:

* :class:`PowerCurve` -- the method's default ``(t/1000) ** decay`` while the 1-based step
  is ``<= modulated_steps`` and ``0`` afterwards; ``t`` is the scheduler's timestep of the
  step (0..1000 scale).
* :class:`KeyframeCurve` -- a piecewise-linear curve through keyframes ``(x, y)`` where ``x``
  is the normalised denoising progress in ``[0, 1]`` (step ``i`` of ``n`` sits at
  ``i / (n - 1)``), so the curve survives a change of the step count. Outside the first/last
  keyframe the value is held constant.

``PowerCurve.to_keyframes(timesteps)`` turns the default curve into keyframes that reproduce
it exactly at every step of that run, so the schedule editor can start from the preset.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np


def _number(value: Any, where: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{where}: must be finite, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{where}: must be >= {minimum:g}, got {value:g}")
    return value


def _integer(value: Any, where: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{where}: expected an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{where}: must be >= {minimum}, got {value}")
    return int(value)


def step_progress(num_steps: int) -> np.ndarray:
    """Normalised progress ``x`` of each step of an ``num_steps`` run (first 0, last 1)."""
    if num_steps <= 0:
        return np.zeros(0, dtype=np.float64)
    if num_steps == 1:
        return np.zeros(1, dtype=np.float64)
    return np.arange(num_steps, dtype=np.float64) / (num_steps - 1)


def _timesteps_array(timesteps: Sequence[float]) -> np.ndarray:
    t = np.asarray([float(v) for v in timesteps], dtype=np.float64)
    if t.ndim != 1:
        raise ValueError("timesteps: expected a flat list of numbers")
    if not np.all(np.isfinite(t)):
        raise ValueError("timesteps: must be finite numbers on the 0..1000 scale")
    return t


@dataclass(frozen=True)
class PowerCurve:
    """``(t/1000) ** decay`` on steps ``1..modulated_steps``, ``0`` afterwards.

    With ``modulated_fraction`` set, the modulated steps are that share of the run's steps,
    rounded up (``0.5``: the first half, as for FLUX.1-schnell's 4 steps -> 2), whatever the
    step count; ``modulated_steps`` is then ignored.
    """

    decay: float = 3.0
    modulated_steps: int = 16
    modulated_fraction: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "decay", _number(self.decay, "decay", minimum=0.0))
        object.__setattr__(
            self, "modulated_steps", _integer(self.modulated_steps, "modulated_steps")
        )
        if self.modulated_fraction is not None:
            f = _number(self.modulated_fraction, "modulated_fraction", minimum=0.0)
            if f > 1.0:
                raise ValueError(f"modulated_fraction: must be within [0, 1], got {f:g}")
            object.__setattr__(self, "modulated_fraction", f)

    def modulated_count(self, num_steps: int) -> int:
        """How many of ``num_steps`` steps are modulated."""
        if self.modulated_fraction is None:
            return min(self.modulated_steps, num_steps)
        return min(num_steps, math.ceil(self.modulated_fraction * num_steps - 1e-9))

    def values(self, timesteps: Sequence[float]) -> np.ndarray:
        """Strength of each step of a run whose scheduler timesteps are ``timesteps``."""
        t = _timesteps_array(timesteps)
        out = np.power(np.clip(t, 0.0, None) / 1000.0, self.decay)
        out[self.modulated_count(len(out)):] = 0.0
        return out

    def to_keyframes(self, timesteps: Sequence[float]) -> "KeyframeCurve":
        """Keyframes reproducing this curve exactly at every step of ``timesteps``.

        Points on a straight line between their neighbours are dropped (so the flat zero
        tail after the modulated steps is just its two end points).
        """
        values = self.values(timesteps)
        if len(values) == 0:
            return KeyframeCurve(((0.0, 0.0),))
        x = step_progress(len(values))
        return KeyframeCurve.simplified(list(zip(x.tolist(), values.tolist())))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "power", "decay": self.decay,
                               "modulated_steps": self.modulated_steps}
        if self.modulated_fraction is not None:
            out["modulated_fraction"] = self.modulated_fraction
        return out


@dataclass(frozen=True)
class KeyframeCurve:
    """Piecewise-linear strength over normalised progress; ``points`` sorted by ``x``."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        pts = _validate_points(self.points, "points")
        object.__setattr__(self, "points", pts)

    @staticmethod
    def simplified(points: Sequence[Sequence[float]], tol: float = 1e-12) -> "KeyframeCurve":
        """Build a curve, dropping interior points that lie on the line through neighbours."""
        pts = list(_validate_points(points, "points"))
        kept = [pts[0]]
        for i in range(1, len(pts) - 1):
            (x0, y0), (x1, y1), (x2, y2) = kept[-1], pts[i], pts[i + 1]
            on_line = abs(y0 + (y2 - y0) * (x1 - x0) / (x2 - x0) - y1) <= tol
            if not on_line:
                kept.append(pts[i])
        if len(pts) > 1:
            kept.append(pts[-1])
        return KeyframeCurve(tuple(kept))

    def values(self, timesteps: Sequence[float]) -> np.ndarray:
        """Strength of each step; only the number of steps matters for keyframes."""
        x = step_progress(len(_timesteps_array(timesteps)))
        xs = np.array([p[0] for p in self.points])
        ys = np.array([p[1] for p in self.points])
        return np.interp(x, xs, ys)

    def value_at(self, x: float) -> float:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return float(np.interp(float(x), xs, ys))

    # --- editing helpers (return new curves; the Schedule stores the result) ---
    def with_point(self, x: float, y: float) -> "KeyframeCurve":
        """Add a keyframe (replacing one at the same ``x``)."""
        x = _number(x, "x", minimum=0.0)
        pts = [p for p in self.points if p[0] != x] + [(x, y)]
        return KeyframeCurve(tuple(sorted(pts)))

    def moved(self, index: int, x: float, y: float) -> "KeyframeCurve":
        """Move keyframe ``index`` to ``(x, y)``; ``x`` is clamped between its neighbours."""
        self._check_index(index)
        lo = self.points[index - 1][0] if index > 0 else 0.0
        hi = self.points[index + 1][0] if index + 1 < len(self.points) else 1.0
        x = min(max(float(x), lo), hi)
        pts = list(self.points)
        pts[index] = (x, y)
        # a point dragged onto its neighbour replaces it
        merged: list[tuple[float, float]] = []
        for i, p in enumerate(pts):
            if merged and merged[-1][0] == p[0]:
                if i == index:
                    merged[-1] = p
                continue
            merged.append(p)
        return KeyframeCurve(tuple(merged))

    def without(self, index: int) -> "KeyframeCurve":
        """Remove keyframe ``index`` (the last remaining keyframe cannot be removed)."""
        self._check_index(index)
        if len(self.points) == 1:
            raise ValueError("points: a keyframe curve needs at least one keyframe")
        return KeyframeCurve(self.points[:index] + self.points[index + 1:])

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self.points):
            raise ValueError(f"points[{index}]: no such keyframe (curve has {len(self.points)})")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "keyframes", "points": [[x, y] for x, y in self.points]}


Curve = PowerCurve | KeyframeCurve


def _validate_points(points: Any, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(points, (list, tuple)) or len(points) == 0:
        raise ValueError(f"{where}: expected a non-empty list of [x, y] keyframes")
    out: list[tuple[float, float]] = []
    for i, p in enumerate(points):
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise ValueError(f"{where}[{i}]: expected [x, y], got {p!r}")
        x = _number(p[0], f"{where}[{i}].x", minimum=0.0)
        if x > 1.0:
            raise ValueError(f"{where}[{i}].x: must be within [0, 1] (step progress), got {x:g}")
        y = _number(p[1], f"{where}[{i}].y", minimum=0.0)
        if out and x <= out[-1][0]:
            raise ValueError(
                f"{where}[{i}].x: keyframes must be sorted by strictly increasing x "
                f"({x:g} after {out[-1][0]:g})"
            )
        out.append((x, y))
    return tuple(out)


def curve_from_dict(data: Any, where: str = "curve") -> Curve:
    """Parse a curve written by ``to_dict``; errors name the field (``where``)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    kind = data.get("type")
    if kind == "power":
        extra = set(data) - {"type", "decay", "modulated_steps", "modulated_fraction"}
        if extra:
            raise ValueError(f"{where}: unknown field(s) {sorted(extra)}")
        for key in ("decay", "modulated_steps"):
            if key not in data:
                raise ValueError(f"{where}.{key}: missing")
        try:
            return PowerCurve(data["decay"], data["modulated_steps"], data.get("modulated_fraction"))
        except ValueError as exc:
            raise ValueError(f"{where}.{exc}") from None
    if kind == "keyframes":
        extra = set(data) - {"type", "points"}
        if extra:
            raise ValueError(f"{where}: unknown field(s) {sorted(extra)}")
        if "points" not in data:
            raise ValueError(f"{where}.points: missing")
        try:
            return KeyframeCurve(tuple(tuple(p) if isinstance(p, list) else p
                                       for p in data["points"]))
        except ValueError as exc:
            raise ValueError(f"{where}.{exc}") from None
        except TypeError:
            raise ValueError(f"{where}.points: expected a list of [x, y] keyframes") from None
    raise ValueError(f"{where}.type: expected 'power' or 'keyframes', got {kind!r}")
