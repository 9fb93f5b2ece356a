"""Elapsed time and time left of the running job, from its steps (no Qt).

The clock starts when the job goes to the worker (loading, if any, counts as elapsed). The
time left is the steps still to run, at the pace of the steps run so far: from the moment
denoising began to the last step reported, over every image of the job, so the decoding
between images is part of the pace. Unknown ("") until the first step.
"""
from __future__ import annotations

import time


def clock_text(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour)."""
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class JobClock:
    def __init__(self, now: float | None = None) -> None:
        self.started = time.perf_counter() if now is None else now
        self.denoising_since: float | None = None
        self.last_step: float | None = None
        self.done = 0  # steps finished, over every image
        self.total = 0  # steps of the whole job

    def denoising(self, now: float | None = None) -> None:
        """Denoising began (the first image's); later images keep the first start."""
        if self.denoising_since is None:
            self.denoising_since = time.perf_counter() if now is None else now

    def step(self, index: int, total: int, image: int = 1, images: int = 1, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        self.denoising(now)
        self.done = (image - 1) * total + index
        self.total = total * images
        self.last_step = now

    def elapsed(self, now: float | None = None) -> float:
        return (time.perf_counter() if now is None else now) - self.started

    def remaining(self) -> float | None:
        """Seconds left at the pace so far; None before the first step."""
        if not self.done or self.last_step is None or self.denoising_since is None:
            return None
        pace = (self.last_step - self.denoising_since) / self.done
        return pace * max(0, self.total - self.done)

    def text(self, now: float | None = None) -> str:
        """"0:07 elapsed · about 0:21 left"."""
        out = f"{clock_text(self.elapsed(now))} elapsed"
        left = self.remaining()
        if left is not None and self.done < self.total:
            out += f" · about {clock_text(left)} left"
        return out
