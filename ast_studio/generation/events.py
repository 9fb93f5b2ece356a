"""What the generation worker tells the GUI, and what the GUI asks it to do.

Plain dataclasses, no Qt and no torch: the worker emits them through one queued signal
(``GenerationWorker.event``), the panels match on their type. Images travel as numpy
``uint8`` arrays ``[H, W, 3]`` (RGB); the GUI turns them into ``QImage``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Error kinds, so the GUI can say what to do about each.
OUT_OF_MEMORY = "out_of_memory"
MODEL = "model"  # the model cannot be found / loaded (missing folder, missing parts)
PROMPT = "prompt"  # an instance's text is not in the base prompt
SETTINGS = "settings"  # a bad generation setting or schedule
LORA = "lora"  # a LoRA file of the project cannot be applied to the model
INTERNAL = "internal"  # anything else (a bug): the message carries the exception


@dataclass(frozen=True)
class GenerationJob:
    """One render request: snapshots taken on the GUI thread, safe to read off-thread.

    ``layout`` is a ``Layout.copy()``, ``schedule`` a ``Schedule`` copy (``None`` = the preset
    of the model family), ``settings`` the engine's generation settings as a dict
    (width, height, steps, guidance, seed, method), ``model`` a :class:`ModelSettings`.
    ``parameters`` is what the history records besides the engine's metadata; ``loras`` the
    project's LoRAs (``LoraChoice`` values), made active on the loaded model before the run.
    """

    layout: Any
    schedule: dict | None
    settings: dict
    model: Any
    parameters: dict = field(default_factory=dict)
    id: int = 0
    loras: tuple = ()


@dataclass(frozen=True)
class Loading:
    """The model is being loaded (``progress`` in 0..1, or None when unknown)."""

    message: str
    progress: float | None = None
    job_id: int = 0


@dataclass(frozen=True)
class Started:
    """The model is ready and denoising begins."""

    total: int
    job_id: int = 0


@dataclass(frozen=True)
class Step:
    """Denoising step ``index`` (1-based) of ``total`` ended; ``preview`` is RGB uint8.

    ``step_ended`` is the ``time.perf_counter()`` at the moment the engine reported the
    step, so the GUI can measure how long the preview took to reach the screen.
    """

    index: int
    total: int
    preview: np.ndarray | None
    step_ended: float = field(default_factory=time.perf_counter)
    job_id: int = 0


@dataclass(frozen=True)
class Finished:
    """The job ended normally: decoded images (RGB uint8), the same as PNG bytes (encoded
    on the worker thread) and the engine's metadata."""

    images: list
    metadata: dict
    warnings: list = field(default_factory=list)
    job: GenerationJob | None = None
    seconds: float = 0.0
    job_id: int = 0
    pngs: list = field(default_factory=list)


@dataclass(frozen=True)
class Cancelled:
    """The job stopped because the user cancelled it (after ``steps_done`` steps)."""

    steps_done: int = 0
    job_id: int = 0


@dataclass(frozen=True)
class Error:
    """The job failed; ``message`` is for the user, ``kind`` one of the kinds above."""

    message: str
    kind: str = INTERNAL
    details: str = ""
    job_id: int = 0


WorkerEvent = Loading | Started | Step | Finished | Cancelled | Error
