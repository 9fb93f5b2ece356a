"""The scheduler timesteps of a FLUX run, computed without loading a model (numpy only).

The schedule editor needs the ``t_s`` of every step to draw the default ``(t/1000)^decay``
curve and the steps x layers coefficient heatmap before any weights are loaded. This
reproduces what diffusers' ``FluxPipeline`` does with ``FlowMatchEulerDiscreteScheduler``:
``sigmas = linspace(1, 1/n, n)``, then (FLUX.1-dev) the resolution-dependent exponential
shift with ``mu = calculate_shift(image_seq_len)``, or (FLUX.1-schnell) the static shift;
``timesteps = sigmas * 1000``. The engine uses the real scheduler's timesteps.

:func:`steps_to_run` is the one rule for how many steps a render runs ("Model default"
= the model family's own default); :func:`run_timesteps` gives that run's timesteps for a
family (its shift) and image size. The engine, the studio's worker, its history and its
schedule panel all use them, so they agree on the steps before any weights are loaded.
"""
from __future__ import annotations

import math

import numpy as np

BASE_IMAGE_SEQ_LEN = 256
MAX_IMAGE_SEQ_LEN = 4096
BASE_SHIFT = 0.5
MAX_SHIFT = 1.15


def image_seq_len(width: int, height: int, pixels_per_token: int = 16) -> int:
    """Image tokens of a ``width x height`` FLUX generation (1024^2 -> 4096)."""
    if width <= 0 or height <= 0:
        raise ValueError(f"size: width and height must be positive, got {width}x{height}")
    return (int(height) // pixels_per_token) * (int(width) // pixels_per_token)


def steps_to_run(steps: int | None, family) -> int:
    """The denoising steps a render runs: ``steps`` when given, else ``family.default_steps``
    (FLUX.1-dev 28, FLUX.1-schnell 4, tiny-flux 4). ``family`` is a ``ModelFamily``."""
    if steps is None:
        return int(family.default_steps)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive whole number or None (the model's default), got {steps!r}")
    return steps


def run_timesteps(steps: int | None, family, width: int, height: int) -> np.ndarray:
    """The timesteps of a ``width x height`` render of ``family`` with ``steps`` (None = its default)."""
    n = steps_to_run(steps, family)
    seq_len = image_seq_len(width, height, family.pixels_per_token)
    shift = getattr(family, "timestep_shift", None)
    if shift is None:
        return flux_timesteps(n, seq_len)
    return flux_timesteps(n, seq_len, dynamic_shift=False, shift=float(shift))


def flux_timesteps(num_steps: int, seq_len: int = MAX_IMAGE_SEQ_LEN, *,
                   dynamic_shift: bool = True, shift: float = 1.0) -> np.ndarray:
    """Timesteps (0..1000 scale, first step first) of an ``num_steps`` FLUX run.

    ``dynamic_shift=True`` is FLUX.1-dev's scheduler (shift from the image token count
    ``seq_len``); ``False`` applies the static ``shift`` (FLUX.1-schnell: 1.0).
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"steps: expected a positive integer, got {num_steps!r}")
    # float32 throughout, as the scheduler computes them (so keyframes made from the preset's
    # curve match the engine's values exactly, not just to 1e-7)
    sigmas = np.linspace(1.0, 1.0 / num_steps, num_steps).astype(np.float32)
    one = np.float32(1.0)
    if dynamic_shift:
        m = (MAX_SHIFT - BASE_SHIFT) / (MAX_IMAGE_SEQ_LEN - BASE_IMAGE_SEQ_LEN)
        mu = seq_len * m + (BASE_SHIFT - m * BASE_IMAGE_SEQ_LEN)
        e = np.float32(math.exp(mu))
        sigmas = (e / (e + (one / sigmas - one))).astype(np.float32)
    else:
        k = np.float32(shift)
        sigmas = (k * sigmas / (one + (k - one) * sigmas)).astype(np.float32)
    return (sigmas * np.float32(1000.0)).astype(np.float64)
