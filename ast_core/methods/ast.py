"""The ``ast`` method: hierarchical, step-layer-wise tuning of attention specialty.

Its parameters are the step-layer schedule (``ast_core.schedule``; the Schedule panel edits
it); ``None`` means the model family's default preset mapped to the model's layers. The run
substitutes each segment's own text rows into the base prompt's embedding (every encoder's
part of the text block) and installs :class:`~ast_core.attention.ASTAttention` through the
architecture adapter. A layout with nothing to modulate renders plainly, with a warning.
"""
from __future__ import annotations

from ..prompts.spans import NO_PROMPT
from .base import ControlMethod, MethodRun


def default_schedule(family):
    """The schedule a project without its own uses on ``family``: its preset on its layers."""
    from ..schedule import preset_schedule

    return preset_schedule(family.default_preset, family.layers)


def schedule_on_family(schedule, family):
    """What a project's schedule (None: the default) becomes on ``family``'s layers: the
    schedule a render with that family runs (a copy, mapped by relative depth if needed)."""
    if schedule is None:
        return default_schedule(family)
    return schedule.copy() if schedule.structure == family.layers else schedule.for_structure(family.layers)


def schedule_for(model, schedule):
    """The schedule of a run on ``model``: the family's preset when None, mapped to its layers."""
    from ..schedule import preset_schedule

    layers = model.architecture.structure_of(model.transformer)
    if schedule is None:
        return preset_schedule(model.family.default_preset, layers)
    return schedule if schedule.structure == layers else schedule.for_structure(layers)


class ASTMethod(ControlMethod):
    name = "ast"
    label = "AST (attention specialty)"
    description = ("Zhang et al. 2025: steers each layer's attention toward the layout, per step and layer "
                   "as the schedule says. Every instance's text must occur in the base prompt.")
    uses_schedule = True
    needs_text_in_base_prompt = True
    missing_prompt = NO_PROMPT

    def start(self, model, layout, settings, plan, timesteps, *, schedule=None, parameters=None) -> MethodRun:
        arch, pipe = model.architecture, model.pipeline
        T = settings.max_sequence_length
        if plan.empty:
            cond = arch.encode(pipe, layout.base_prompt, T, settings.guidance)
            return MethodRun("none", cond)
        from ..attention import ASTAttention, attention_backend, attention_device
        from ..prompts import encode_with_substitution

        schedule = schedule_for(model, schedule)
        cond = encode_with_substitution(pipe, arch, plan.analysis, T, settings.guidance)
        control = ASTAttention(
            schedule, plan.modulation_inputs(), timesteps, order=arch.order,
            structure=arch.structure_of(model.transformer),
            guidance_batch=arch.uses_guidance_batch(settings.guidance),
            device=attention_device(model.transformer),
        )
        # the device the layers run on (also under CPU offload) decides the attention backend
        runs_on = getattr(pipe, "_execution_device", None) or attention_device(model.transformer)
        record = {"schedule": control.schedule.to_dict(), "attention_backend": attention_backend(runs_on)}
        return MethodRun("ast", cond, control, list(cond.warnings), record)
