"""The ``none`` method: the stock pipeline on the base prompt (no attention control)."""
from __future__ import annotations

from .base import ControlMethod, MethodRun


class PlainMethod(ControlMethod):
    name = "none"
    label = "None (plain model)"
    description = "The model on the base prompt alone; the layout is not used."
    prompts_note = "The plain model renders the base prompt alone."

    def start(self, model, layout, settings, plan, timesteps, *, schedule=None, parameters=None) -> MethodRun:
        cond = model.architecture.encode(model.pipeline, layout.base_prompt, settings.max_sequence_length,
                                         settings.guidance)
        return MethodRun("none", cond)
