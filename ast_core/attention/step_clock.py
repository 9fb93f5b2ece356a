"""The step clock every attention control shares: set by the pipeline's own step callback.

A control installs the architecture's processors for one run (``installed``), starts at step
0, moves on when the pipeline's step callback says a step finished (``step_finished``), and
is plain (step None) outside the run. Subclasses say how many steps the run has
(``num_steps``) and what to forget when the step changes (``on_step_changed``).
"""
from __future__ import annotations

import contextlib
from typing import Iterator


class StepClock:
    step: int | None = None

    @property
    def num_steps(self) -> int:
        raise AttributeError("a control says how many steps its run has")  # pragma: no cover

    def on_step_changed(self) -> None:
        """Forget what was prepared for the previous step (nothing by default)."""

    def set_step(self, step: int | None) -> None:
        """Set the current step (0-based), or None for plain attention."""
        if step is not None and not 0 <= step < self.num_steps:
            raise ValueError(f"step: {step} is outside 0..{self.num_steps - 1}")
        if step != self.step:
            self.on_step_changed()
        self.step = step

    def step_finished(self, index: int) -> None:
        """The pipeline's step callback: step ``index`` is done, the next one runs next."""
        nxt = index + 1
        self.set_step(nxt if nxt < self.num_steps else None)

    @contextlib.contextmanager
    def installed(self, architecture, transformer) -> Iterator["StepClock"]:
        """The adapter's processors with this control, from step 0; originals always restored."""
        self.set_step(0)
        try:
            with architecture.controlled(transformer, self):
                yield self
        finally:
            self.set_step(None)
