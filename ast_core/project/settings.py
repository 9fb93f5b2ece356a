"""A project's settings, typed: what ``settings.json`` holds, as live objects.

* :class:`RenderSettings` -- the generation settings the artist picks for the project (steps and
  guidance, each a number or the model's default; seed and its mode, method);
* :class:`ProjectSettings` -- those, the project's LoRAs, each method's own parameters, and any
  key this version does not know (kept as it was, so a newer file survives a save here).

Reading is forgiving: a missing or bad value falls back to its default with a warning (kept in
``ProjectSettings.warnings`` and logged), so a project written by a newer version or edited by
hand still opens. Only :mod:`ast_core.project` turns these objects into JSON. Edits go through
setters, which validate and emit ``changed`` (a :class:`~ast_core.document.events.Signal`) with
the name of the part that changed ("generation", "loras", "method_parameters").
"""
from __future__ import annotations

import copy
import logging
import math
import random
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..document.events import Signal
from ..methods import METHODS, MethodParameterError, method

log = logging.getLogger(__name__)

GENERATION = "generation"
LORAS = "loras"
METHOD_PARAMETERS = "method_parameters"
SEED_MODES = ("fixed", "random", "increment")
MAX_SEED = 2**31 - 1  # fits a QSpinBox
STEP_RANGE = (1, 200)
GUIDANCE_RANGE = (0.0, 30.0)


@dataclass(frozen=True)
class RenderSettings:
    #: None = the configured model's own default (ast_core.schedule.timesteps.steps_to_run)
    steps: int | None = None
    #: None = the model family's default (3.5 for FLUX.1-dev, 0 for schnell and SD3.5 Large Turbo,
    #: 4.5 for SD3.5 Medium); the engine resolves it (``GenerationSettings.resolved``)
    guidance: float | None = None
    seed: int = 0
    seed_mode: str = "fixed"
    method: str = "ast"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_changes(self, **changes: Any) -> "RenderSettings":
        unknown = set(changes) - set(self.to_dict())
        if unknown:
            raise ValueError(f"generation settings: unknown field(s) {sorted(unknown)}")
        return replace(self, **changes)

    def seed_for_run(self, rng: random.Random | None = None) -> int:
        """The seed the next render uses (a fresh one in "random" mode)."""
        if self.seed_mode == "random":
            return (rng or random.SystemRandom()).randint(0, MAX_SEED)
        return self.seed

    def after_run(self, used_seed: int) -> "RenderSettings":
        """Settings after a finished render: "increment" moves on to the next seed; "fixed" and
        "random" stay as they are (the seed a render used is in its history entry)."""
        if self.seed_mode == "increment":
            return replace(self, seed=(used_seed + 1) % (MAX_SEED + 1))
        return self

    def engine_settings(self, width: int, height: int, seed: int,
                        method_parameters: dict | None = None) -> dict[str, Any]:
        """Keyword arguments of the engine's ``GenerationSettings`` for one run."""
        return {"width": int(width), "height": int(height), "steps": self.steps,
                "guidance": self.guidance, "seed": int(seed), "method": self.method,
                "method_parameters": dict(method_parameters or {})}

    @staticmethod
    def from_dict(data: Any, warnings: list[str] | None = None) -> "RenderSettings":
        """Forgiving: each missing or bad value takes its default (with a warning)."""
        warnings = warnings if warnings is not None else []
        d = data if isinstance(data, dict) else {}
        if not isinstance(data, dict) and data is not None:
            _warn(warnings, f"generation={data!r} is not an object; using defaults")
        defaults = RenderSettings()
        return RenderSettings(
            steps=None if d.get("steps") is None else _int(d, "steps", *STEP_RANGE, defaults.steps, warnings),
            guidance=None if d.get("guidance") is None else _float(d, "guidance", *GUIDANCE_RANGE, defaults.guidance,
                                                                   warnings),
            seed=_int(d, "seed", 0, MAX_SEED, defaults.seed, warnings),
            seed_mode=_choice(d, "seed_mode", SEED_MODES, defaults.seed_mode, warnings),
            method=_choice(d, "method", tuple(METHODS), defaults.method, warnings),
        )


class ProjectSettings:
    """The settings part of a project (see the module docstring)."""

    def __init__(self, generation: RenderSettings | None = None, loras: tuple = (),
                 method_parameters: dict[str, dict] | None = None, other: dict[str, Any] | None = None) -> None:
        self.changed = Signal()
        self._generation = generation or RenderSettings()
        self._loras = tuple(loras)
        self._method_parameters = {k: dict(v) for k, v in (method_parameters or {}).items()}
        self._other = copy.deepcopy(other or {})
        #: what reading the stored settings had to fall back on (one line each)
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ reading
    @property
    def generation(self) -> RenderSettings:
        return self._generation

    @property
    def loras(self) -> tuple:
        """The project's LoRAs (``ast_core.models.options.LoraChoice`` values)."""
        return self._loras

    def method_parameters(self, name: str) -> dict[str, Any]:
        """Method ``name``'s parameters as the project stores them (checked, defaults filled)."""
        stored = self._method_parameters.get(name, {})
        try:
            return method(name).check_parameters(stored)
        except MethodParameterError as e:
            log.warning("project settings: %s; using the method's defaults", e)
            return method(name).default_parameters()

    @property
    def other(self) -> dict[str, Any]:
        """Keys of settings.json this version does not know (a copy)."""
        return copy.deepcopy(self._other)

    # ------------------------------------------------------------------ editing
    def set_generation(self, value: RenderSettings) -> None:
        if not isinstance(value, RenderSettings):
            raise ValueError(f"generation: expected RenderSettings, got {value!r}")
        if value != self._generation:
            self._generation = value
            self.changed.emit(GENERATION)

    def set_loras(self, loras) -> None:
        from ..models.options import LoraChoice

        loras = tuple(loras)
        for lora in loras:
            if not isinstance(lora, LoraChoice):
                raise ValueError(f"loras: expected LoraChoice values, got {lora!r}")
            lora.validate()
        if loras != self._loras:
            self._loras = loras
            self.changed.emit(LORAS)

    def set_method_parameters(self, name: str, values: dict[str, Any]) -> None:
        checked = method(name).check_parameters(values)  # MethodParameterError names a bad value
        if checked != self._method_parameters.get(name):
            self._method_parameters[name] = checked
            self.changed.emit(METHOD_PARAMETERS)

    def assign(self, other: "ProjectSettings") -> None:
        """Take every value of ``other`` (one change event per part that differs)."""
        before = self.to_dict()
        self._generation, self._loras = other._generation, other._loras
        self._method_parameters = copy.deepcopy(other._method_parameters)
        self._other = copy.deepcopy(other._other)
        after = self.to_dict()
        for part in (GENERATION, LORAS, METHOD_PARAMETERS):
            if before.get(part) != after.get(part):
                self.changed.emit(part)

    def copy(self) -> "ProjectSettings":
        out = ProjectSettings(self._generation, self._loras, self._method_parameters, self._other)
        out.warnings = list(self.warnings)
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProjectSettings) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ProjectSettings({self.to_dict()!r})"

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        out = copy.deepcopy(self._other)
        out[GENERATION] = self._generation.to_dict()
        if self._loras:
            out[LORAS] = [lora.to_dict() for lora in self._loras]
        if self._method_parameters:
            out[METHOD_PARAMETERS] = copy.deepcopy(self._method_parameters)
        return out

    @staticmethod
    def from_dict(data: Any) -> "ProjectSettings":
        """Forgiving: bad values fall back to defaults, with a line in ``warnings`` for each."""
        from ..models.options import OptionError, loras_from_settings

        warnings: list[str] = []
        if not isinstance(data, dict):
            _warn(warnings, f"settings={type(data).__name__} is not an object; using defaults")
            data = {}
        other = {k: copy.deepcopy(v) for k, v in data.items() if k not in (GENERATION, LORAS, METHOD_PARAMETERS)}
        generation_data = data.get(GENERATION)
        if generation_data is not None and not isinstance(generation_data, dict):
            _warn(warnings, f"generation={generation_data!r} is not an object; using defaults")
            generation_data = None
        generation_data = dict(generation_data or {})
        seed = other.pop("seed", None)  # importers store the demo's seed at the top level
        if "seed" not in generation_data and isinstance(seed, int) and not isinstance(seed, bool):
            generation_data["seed"] = seed
        elif seed is not None:
            other["seed"] = seed
        generation = RenderSettings.from_dict(generation_data, warnings)
        try:
            loras = loras_from_settings(data)
        except OptionError as e:
            _warn(warnings, f"{e}; the project renders without LoRAs")
            loras = ()
        params: dict[str, dict] = {}
        stored = data.get(METHOD_PARAMETERS)
        if stored is not None and not isinstance(stored, dict):
            _warn(warnings, f"method_parameters={stored!r} is not an object; using the methods' defaults")
            stored = {}
        for name, values in (stored or {}).items():
            if not isinstance(values, dict):
                _warn(warnings, f"method_parameters.{name}={values!r} is not an object; dropped")
            elif name not in METHODS:
                params[name] = copy.deepcopy(values)  # a method of a newer version: kept as it is
            else:
                try:
                    params[name] = method(name).check_parameters(values)
                except MethodParameterError as e:
                    _warn(warnings, f"{e}; using the method's defaults")
        out = ProjectSettings(generation, loras, params, other)
        out.warnings = warnings
        return out


def _warn(warnings: list[str], text: str) -> None:
    log.debug("project settings: %s", text)
    warnings.append(text)


def _int(d: dict, key: str, lo: int, hi: int, default: int | None, warnings: list[str]) -> int | None:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or int(v) != v \
            or not lo <= v <= hi:
        _warn(warnings, f"generation.{key}={v!r} is not a whole number in {lo}..{hi}; using {default!r}")
        return default
    return int(v)


def _float(d: dict, key: str, lo: float, hi: float, default: float | None, warnings: list[str]) -> float | None:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        _warn(warnings, f"generation.{key}={v!r} is not a number in {lo:g}..{hi:g}; using {default!r}")
        return default
    return float(v)


def _choice(d: dict, key: str, choices: tuple, default: str, warnings: list[str]) -> str:
    v = d.get(key, default)
    if v not in choices:
        _warn(warnings, f"generation.{key}={v!r} is not one of {', '.join(choices)}; using {default!r}")
        return default
    return v
