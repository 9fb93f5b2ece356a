"""What a long-running engine call reports besides its steps: the stage it is in.

``load_model(..., on_progress=fn)`` and ``generate(..., on_stage=fn)`` call ``fn(Stage)`` when
a stage begins (and, while loading a model folder, after each component). Stages in order::

    loading    "Loading model (2/7 components)"   done/total = components loaded / in the folder
    encoding   "Encoding prompts"
    denoising  "Image 2/4"                          (the steps themselves come through on_step)
    decoding   "Decoding image 2/4"

No torch, no Qt: the command line's progress bar and the studio's progress line both read these.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

LOADING, ENCODING, DENOISING, DECODING = "loading", "encoding", "denoising", "decoding"


@dataclass(frozen=True)
class Stage:
    kind: str  # one of LOADING, ENCODING, DENOISING, DECODING
    text: str  # for the user: "Loading model (2/7 components)", "Encoding prompts"...
    done: int | None = None  # loading: parts loaded so far (None: not counted)
    total: int | None = None
    image: int = 1  # 1-based image of the run the stage belongs to
    images: int = 1


StageCallback = Callable[[Stage], None] | None


def report(callback: StageCallback, stage: Stage) -> None:
    if callback is not None:
        callback(stage)
