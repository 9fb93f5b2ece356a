"""The scheduler timesteps of a run, computed without loading a model (numpy only).

This is the one timestep rule of the project: the engine asks it with the loaded pipeline's
scheduler configuration, and the schedule editor (which must draw the ``(t/1000)^decay``
curves and the steps x layers heatmap before any weights are loaded, on the GUI thread
without torch) asks it with the model family's configuration. Tests check it against
diffusers' ``FlowMatchEulerDiscreteScheduler`` for every family.

It reproduces ``FlowMatchEulerDiscreteScheduler.set_timesteps`` for the two ways pipelines
call it (:class:`SchedulerConfig.pipeline_sigmas`):

* the pipeline passes ``sigmas = linspace(1, 1/n, n)`` (the FLUX pipelines), shifted either by
  the resolution-dependent ``mu`` (dynamic shifting) or by the static ``shift``;
* the pipeline passes nothing (the SD3 pipelines): ``timesteps = linspace(t(sigma_max),
  t(sigma_min), n)`` of the scheduler's own (already shifted) training sigmas, shifted again.

``timesteps = sigmas * 1000``, first step first.

:func:`steps_to_run` is the one rule for how many steps a render runs ("Model default" = the
model family's own default); :func:`run_timesteps` gives that run's timesteps for a family
and image size. The engine, the studio's worker, its history and its schedule panel all use
them, so they agree on the steps before any weights are loaded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np


@dataclass(frozen=True)
class SchedulerConfig:
    """The parts of a flow-matching scheduler's config that decide the timesteps."""

    shift: float = 1.0
    use_dynamic_shifting: bool = False
    base_shift: float = 0.5
    max_shift: float = 1.15
    base_image_seq_len: int = 256
    max_image_seq_len: int = 4096
    num_train_timesteps: int = 1000
    #: True: the pipeline passes ``linspace(1, 1/n, n)`` sigmas; False: it passes none
    pipeline_sigmas: bool = True

    @staticmethod
    def from_scheduler_config(config: Mapping[str, Any], pipeline_sigmas: bool) -> "SchedulerConfig":
        """From a diffusers scheduler's ``config`` (unknown keys ignored, missing ones default)."""
        d = SchedulerConfig()

        def get(key: str, default):
            value = config.get(key, default)
            return default if value is None else value

        unsupported = [k for k in ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas",
                                   "invert_sigmas", "shift_terminal") if config.get(k)]
        if unsupported or get("time_shift_type", "exponential") != "exponential":
            raise ValueError(f"scheduler: options {unsupported or ['time_shift_type']} are not supported")
        return SchedulerConfig(
            shift=float(get("shift", d.shift)),
            use_dynamic_shifting=bool(get("use_dynamic_shifting", d.use_dynamic_shifting)),
            base_shift=float(get("base_shift", d.base_shift)),
            max_shift=float(get("max_shift", d.max_shift)),
            base_image_seq_len=int(get("base_image_seq_len", d.base_image_seq_len)),
            max_image_seq_len=int(get("max_image_seq_len", d.max_image_seq_len)),
            num_train_timesteps=int(get("num_train_timesteps", d.num_train_timesteps)),
            pipeline_sigmas=pipeline_sigmas,
        )


def image_seq_len(width: int, height: int, pixels_per_token: int = 16) -> int:
    """Image tokens of a ``width x height`` generation (1024^2 -> 4096 at 16 pixels a token)."""
    if width <= 0 or height <= 0:
        raise ValueError(f"size: width and height must be positive, got {width}x{height}")
    return (int(height) // pixels_per_token) * (int(width) // pixels_per_token)


def _mu(config: SchedulerConfig, seq_len: int) -> float:
    m = (config.max_shift - config.base_shift) / (config.max_image_seq_len - config.base_image_seq_len)
    return seq_len * m + (config.base_shift - m * config.base_image_seq_len)


def steps_to_run(steps: int | None, family) -> int:
    """The denoising steps a render runs: ``steps`` when given, else ``family.default_steps``.
    ``family`` is a ``ModelFamily``."""
    if steps is None:
        return int(family.default_steps)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive whole number or None (the model's default), got {steps!r}")
    return steps


def run_timesteps(steps: int | None, family, width: int, height: int,
                  config: SchedulerConfig | None = None) -> np.ndarray:
    """The timesteps of a ``width x height`` render of ``family`` with ``steps`` (None = its
    default), by the family's scheduler configuration or ``config`` (a loaded scheduler's)."""
    seq_len = image_seq_len(width, height, family.pixels_per_token)
    return scheduler_timesteps(steps_to_run(steps, family), seq_len, config or family.scheduler)


def scheduler_timesteps(num_steps: int, seq_len: int, config: SchedulerConfig) -> np.ndarray:
    """Timesteps (0..1000 scale, first step first) of an ``num_steps`` run over ``seq_len`` image tokens."""
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"steps: expected a positive integer, got {num_steps!r}")
    one = np.float32(1.0)
    n_train = config.num_train_timesteps
    if config.pipeline_sigmas:
        # float32 throughout, as the scheduler computes them (keyframes made from the preset's
        # curve then match the engine's values exactly, not just to 1e-7)
        sigmas = np.linspace(1.0, 1.0 / num_steps, num_steps).astype(np.float32)
    else:
        train = (np.linspace(1, n_train, n_train, dtype=np.float32)[::-1] / np.float32(n_train))
        if not config.use_dynamic_shifting:
            k = np.float32(config.shift)
            train = k * train / (one + (k - one) * train)
        sigma_max, sigma_min = float(train[0]), float(train[-1])
        sigmas = np.linspace(sigma_max * n_train, sigma_min * n_train, num_steps) / n_train
    if config.use_dynamic_shifting:
        e = math.exp(_mu(config, seq_len))
        if sigmas.dtype == np.float32:
            e = np.float32(e)
        sigmas = e / (e + (1 / sigmas - 1))
    else:
        k = config.shift
        if sigmas.dtype == np.float32:
            k = np.float32(k)
        sigmas = k * sigmas / (1 + (k - 1) * sigmas)
    return (sigmas.astype(np.float32) * np.float32(n_train)).astype(np.float64)
