"""Per-step reporting, cancelling and the method's step clock inside the denoising loop.

The pipeline's own step callback drives everything: it tells the control method that a step
finished, reports the step and checks the cancel flag. The transformer's input latents are
recorded by a forward pre-hook (the first batch half: with a guidance batch both halves hold
the same latents), so the clean-image prediction of step ``i`` is exact for the flow-matching
Euler step, whatever the guidance: with ``x_next = x_t + (sigma_next - sigma) v``,
``x0 = x_t - sigma v = x_t + sigma (x_next - x_t) / (sigma - sigma_next)``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import torch

from ..progress import DECODING, Stage, StageCallback, report


class Cancelled(Exception):
    """The generation was cancelled; ``step`` steps of the image in progress had finished.

    ``result`` holds the images that were finished before (a ``GenerationResult``; None when
    there were none): a run of several images keeps what it made."""

    def __init__(self, step: int, total: int, result=None) -> None:
        super().__init__(f"generation cancelled after step {step} of {total}")
        self.step = step
        self.total = total
        self.result = result


@dataclass
class StepInfo:
    step: int  # 1-based number of the step just finished
    total: int
    timestep: float  # the scheduler's timestep of that step (0..1000)
    sigma: float
    latents: torch.Tensor  # x after the step, [B, C, H/8, W/8] float32 on the CPU ("normalised" latents)
    x0: torch.Tensor  # clean-latent prediction of the step, same shape
    image: int = 1  # 1-based image of the run this step belongs to
    images: int = 1  # images the run makes


CancelFlag = threading.Event | Callable[[], bool] | None


def is_cancelled(cancel: CancelFlag) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event) or hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


class StepWatcher:
    """The pipeline's step callback: method clock, per-step report, cancel."""

    def __init__(self, model, total: int, width: int, height: int,
                 on_step: Callable[[StepInfo], None] | None, cancel: CancelFlag,
                 step_finished: Callable[[int], None] | None = None, *, image: int = 1, images: int = 1,
                 on_stage: StageCallback = None) -> None:
        self.pipe = model.pipeline
        self.architecture = model.architecture
        self.total = total
        self.width, self.height = width, height
        self.on_step = on_step
        self.cancel = cancel
        self.step_finished = step_finished
        self.image, self.images = image, images
        self.on_stage = on_stage
        self.steps_done = 0
        self.timesteps: list[float] = []
        self._x_t: torch.Tensor | None = None
        self._batch = 0
        self._handle = None

    def __enter__(self) -> "StepWatcher":
        if self.on_step is not None:
            self._handle = self.pipe.transformer.register_forward_pre_hook(self._capture, with_kwargs=True)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _capture(self, module, args, kwargs) -> None:
        x = kwargs.get("hidden_states", args[0] if args else None)
        if x is not None and self._x_t is None:
            self._x_t = x.detach()

    def callback(self, pipe, i: int, t, callback_kwargs: dict) -> dict:
        self.steps_done = i + 1
        self.timesteps.append(float(t))
        if self.step_finished is not None:
            self.step_finished(i)
        if self.on_step is not None:
            latents = callback_kwargs["latents"]
            sigma = float(pipe.scheduler.sigmas[i])
            sigma_next = float(pipe.scheduler.sigmas[i + 1])
            x_next = latents.detach().float()
            x_t = self._x_t[: x_next.shape[0]].float() if self._x_t is not None else x_next
            x0 = x_t + (x_next - x_t) * (sigma / (sigma - sigma_next)) if sigma != sigma_next else x_next
            self._x_t = None  # the next forward records the next step's input
            vsf = pipe.vae_scale_factor
            unpack = self.architecture.unpack_latents
            self.on_step(StepInfo(
                step=i + 1, total=self.total, timestep=float(t), sigma=sigma,
                latents=unpack(x_next.cpu(), self.width, self.height, vsf),
                x0=unpack(x0.cpu(), self.width, self.height, vsf),
                image=self.image, images=self.images,
            ))
        if is_cancelled(self.cancel) and i + 1 < self.total:
            raise Cancelled(i + 1, self.total)
        if i + 1 == self.total:  # the pipeline decodes the latents next
            of = f" {self.image}/{self.images}" if self.images > 1 else ""
            report(self.on_stage, Stage(DECODING, f"Decoding image{of}", image=self.image, images=self.images))
        return {}
