"""The project's generation settings: steps, guidance, seed and its mode, method.

Stored in the project's settings dict under ``"generation"`` (so ``settings.json`` in the
``.astproj``). Reading is forgiving: a missing or bad value falls back to its default
with a log line (a project written by a newer version, or edited by hand, still opens).
The image size is not stored here: it is the canvas size (``layout.width/height``).
"""
from __future__ import annotations

import logging
import math
import random
from dataclasses import asdict, dataclass, replace
from typing import Any

from ast_core.methods import method_names

log = logging.getLogger(__name__)

KEY = "generation"
SEED_MODES = ("fixed", "random", "increment")
METHODS = tuple(method_names())  # the engine's registry
MAX_SEED = 2**31 - 1  # fits a QSpinBox
STEP_RANGE = (1, 200)
GUIDANCE_RANGE = (0.0, 30.0)


@dataclass(frozen=True)
class RenderSettings:
    #: None = the configured model's own default (ast_core.schedule.timesteps.steps_to_run)
    steps: int | None = None
    guidance: float = 3.5
    seed: int = 0
    seed_mode: str = "fixed"
    method: str = "ast"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_changes(self, **changes: Any) -> "RenderSettings":
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

    def engine_settings(self, width: int, height: int, seed: int) -> dict[str, Any]:
        """Keyword arguments of the engine's ``GenerationSettings`` for one run."""
        return {"width": int(width), "height": int(height), "steps": self.steps,
                "guidance": self.guidance, "seed": int(seed), "method": self.method}


DEFAULTS = RenderSettings()

def _int(d: dict, key: str, lo: int, hi: int, default: int | None) -> int | None:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or int(v) != v \
            or not lo <= v <= hi:
        log.warning("project settings: generation.%s=%r is not a whole number in %d..%d; using %r",
                    key, v, lo, hi, default)
        return default
    return int(v)


def _float(d: dict, key: str, lo: float, hi: float, default: float) -> float:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        log.warning("project settings: generation.%s=%r is not a number in %g..%g; using %r",
                    key, v, lo, hi, default)
        return default
    return float(v)


def _choice(d: dict, key: str, choices: tuple, default: str) -> str:
    v = d.get(key, default)
    if v not in choices:
        log.warning("project settings: generation.%s=%r is not one of %s; using %r",
                    key, v, ", ".join(choices), default)
        return default
    return v


def render_settings_from_project(settings: dict | None) -> RenderSettings:
    """The generation settings stored in a project's settings dict (defaults if absent)."""
    d = (settings or {}).get(KEY, {})
    if not isinstance(d, dict):
        log.warning("project settings: generation=%r is not an object; using defaults", d)
        d = {}
    return RenderSettings(
        steps=None if d.get("steps") is None else _int(d, "steps", *STEP_RANGE, DEFAULTS.steps),
        guidance=_float(d, "guidance", *GUIDANCE_RANGE, DEFAULTS.guidance),
        seed=_int(d, "seed", 0, MAX_SEED, DEFAULTS.seed),
        seed_mode=_choice(d, "seed_mode", SEED_MODES, DEFAULTS.seed_mode),
        method=_choice(d, "method", METHODS, DEFAULTS.method),
    )


def project_settings_with(settings: dict | None, render: RenderSettings) -> dict:
    """A copy of a project's settings dict holding ``render`` (other keys kept)."""
    out = dict(settings or {})
    out[KEY] = render.to_dict()
    return out
