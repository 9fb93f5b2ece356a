"""Per-step reporting and cancelling inside the FLUX denoising loop.

The transformer's velocity ``v`` is captured by a forward hook (with the latents it was
given), so the clean-image prediction of step ``i`` is exact:
``x0 = x_t - sigma_t * v`` (flow matching: ``x_t = (1 - sigma) x0 + sigma * noise``).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import torch


class Cancelled(Exception):
    """The generation was cancelled; ``step`` steps had finished."""

    def __init__(self, step: int, total: int) -> None:
        super().__init__(f"generation cancelled after step {step} of {total}")
        self.step = step
        self.total = total


@dataclass
class StepInfo:
    step: int  # 1-based number of the step just finished
    total: int
    timestep: float  # the scheduler's timestep of that step (0..1000)
    sigma: float
    latents: torch.Tensor  # x after the step, [B, C, H/8, W/8] float32 on the CPU ("normalised" latents)
    x0: torch.Tensor  # clean-latent prediction of the step, same shape


CancelFlag = threading.Event | Callable[[], bool] | None


def is_cancelled(cancel: CancelFlag) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event) or hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def unpack(latents: torch.Tensor, height: int, width: int, vae_scale_factor: int) -> torch.Tensor:
    """FLUX packed latents [B, (h/2)(w/2), C*4] -> [B, C, h, w] (h = H / vae_scale_factor)."""
    b, n, c4 = latents.shape
    h = 2 * (height // (vae_scale_factor * 2))
    w = 2 * (width // (vae_scale_factor * 2))
    x = latents.view(b, h // 2, w // 2, c4 // 4, 2, 2).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, c4 // 4, h, w)


class StepWatcher:
    """Hooks the transformer to capture (x_t, v); the pipeline callback reports and checks cancel."""

    def __init__(self, pipe, total: int, width: int, height: int,
                 on_step: Callable[[StepInfo], None] | None, cancel: CancelFlag) -> None:
        self.pipe = pipe
        self.total = total
        self.width, self.height = width, height
        self.on_step = on_step
        self.cancel = cancel
        self.steps_done = 0
        self.timesteps: list[float] = []
        self._x_t: torch.Tensor | None = None
        self._v: torch.Tensor | None = None
        self._handle = None

    def __enter__(self) -> "StepWatcher":
        if self.on_step is not None:
            self._handle = self.pipe.transformer.register_forward_hook(self._capture, with_kwargs=True)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _capture(self, module, args, kwargs, output) -> None:
        x = kwargs.get("hidden_states", args[0] if args else None)
        v = output[0] if isinstance(output, (tuple, list)) else getattr(output, "sample", output)
        self._x_t, self._v = x.detach(), v.detach()

    def callback(self, pipe, i: int, t, callback_kwargs: dict) -> dict:
        self.steps_done = i + 1
        self.timesteps.append(float(t))
        if self.on_step is not None:
            sigma = float(pipe.scheduler.sigmas[i])
            latents = callback_kwargs["latents"]
            x0 = self._x_t.float() - sigma * self._v.float() if self._v is not None else latents.float()
            vsf = pipe.vae_scale_factor
            self.on_step(StepInfo(
                step=i + 1, total=self.total, timestep=float(t), sigma=sigma,
                latents=unpack(latents.detach().float().cpu(), self.height, self.width, vsf),
                x0=unpack(x0.cpu(), self.height, self.width, vsf),
            ))
        if is_cancelled(self.cancel) and i + 1 < self.total:
            raise Cancelled(i + 1, self.total)
        return {}
