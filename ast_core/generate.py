"""Generate images from a layout: the engine's one entry point.

    from ast_core.generate import generate, GenerationSettings
    result = generate(layout, schedule, GenerationSettings(steps=28, seed=1), model,
                      on_step=lambda s: ..., cancel=threading.Event())
    result.images[0].save("out.png"); result.metadata; result.warnings

* ``method="ast"``: the base prompt's T5 embedding with each segment's rows substituted,
  and the AST attention processors installed for the run (``schedule``; ``None`` = the
  "AST paper (FLUX.1-dev)" preset mapped to the model's depth). The original processors
  are back when ``generate`` returns or raises (also on cancel).
* ``method="none"``: stock FLUX on the base prompt.
* A layout with no visible instance that has an area renders plain, with a warning.
* ``on_step(StepInfo)`` after each denoising step (latents and the x0 prediction,
  unpacked to [B, 16, H/8, W/8], float32 on the CPU); ``cancel`` (a ``threading.Event``
  or a callable returning bool) is checked before the first step and after each step and
  stops the run with :class:`Cancelled` (``.step`` = steps finished); a flag raised during
  the last step lets the image finish.
* Masks are the instances' exclusive regions on the 16-pixel token grid (the upper
  instance wins where two overlap); see ``ast_core.generation.plan``.
* Runs on the calling thread; call it from one worker thread at a time per model.
* Bad input raises :class:`PromptError` (instance text not in the base prompt...) or
  :class:`SettingsError`; both are ``ValueError`` with a message for the user.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from .document import Layout
from .generation.metadata import build_metadata, job_from_metadata
from .generation.plan import GenerationPlan, plan_generation
from .generation.settings import GenerationSettings, SettingsError
from .generation.steps import CancelFlag, Cancelled, StepInfo, StepWatcher, is_cancelled
from .models import LoadedModel
from .prompts import PromptError, encode_base, encode_with_substitution

__all__ = [
    "Cancelled", "GenerationResult", "GenerationSettings", "PromptError", "SettingsError", "StepInfo",
    "flux_timesteps", "generate", "job_from_metadata", "prepare",
]


@dataclass
class GenerationResult:
    images: list  # PIL.Image.Image
    metadata: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def prepare(layout: Layout, settings: GenerationSettings, model: LoadedModel) -> tuple[GenerationSettings, GenerationPlan]:
    """Resolve the settings and compute what the model will see, without running it.

    Masks always; text spans only for ``method="ast"`` (stock FLUX does not need them).
    Raises PromptError/SettingsError for bad input.
    """
    fam = model.family
    resolved = settings.resolved((layout.width, layout.height), fam)
    tokenizer = model.pipeline.tokenizer_2 if resolved.method == "ast" else None
    plan = plan_generation(layout, resolved.width, resolved.height, tokenizer,
                           resolved.max_sequence_length, fam.pixels_per_token)
    return resolved, plan


def flux_timesteps(pipe, steps: int, width: int, height: int) -> list[float]:
    """The scheduler timesteps FluxPipeline will use for this size and step count (same computation)."""
    from diffusers.pipelines.flux.pipeline_flux import calculate_shift

    sched = copy.deepcopy(pipe.scheduler)
    vsf = pipe.vae_scale_factor
    seq_len = (height // (vsf * 2)) * (width // (vsf * 2))
    cfg = sched.config
    mu = calculate_shift(seq_len, cfg.get("base_image_seq_len", 256), cfg.get("max_image_seq_len", 4096),
                         cfg.get("base_shift", 0.5), cfg.get("max_shift", 1.15))
    sigmas = None if cfg.get("use_flow_sigmas", False) else np.linspace(1.0, 1 / steps, steps)
    if sigmas is None:
        sched.set_timesteps(steps, mu=mu)
    else:
        sched.set_timesteps(sigmas=sigmas, mu=mu)
    return [float(t) for t in sched.timesteps]


def _schedule_for(model: LoadedModel, schedule):
    from .schedule import AST_PAPER_FLUX, preset_schedule

    tr = model.transformer
    nd, ns = len(tr.transformer_blocks), len(tr.single_transformer_blocks)
    if schedule is None:
        return preset_schedule(AST_PAPER_FLUX, nd, ns)
    if (schedule.num_double, schedule.num_single) != (nd, ns):
        return schedule.for_depth(nd, ns)
    return schedule


def _attention_backend(pipe, transformer) -> str:
    """What the modulated layers ran with (the execution device, also under CPU offload)."""
    from .attention import attention_backend

    device = getattr(pipe, "_execution_device", None) or next(transformer.parameters()).device
    return attention_backend(device)


def generate(
    layout: Layout,
    schedule,
    settings: GenerationSettings,
    model: LoadedModel,
    on_step: Callable[[StepInfo], None] | None = None,
    cancel: CancelFlag = None,
) -> GenerationResult:
    pipe = model.pipeline
    resolved, plan = prepare(layout, settings, model)
    warnings = list(model.warnings) + list(plan.warnings)
    use_ast = resolved.method == "ast" and not plan.empty
    sched = _schedule_for(model, schedule) if use_ast else None
    T = resolved.max_sequence_length

    if is_cancelled(cancel):
        raise Cancelled(0, resolved.steps)
    if use_ast:
        cond = encode_with_substitution(pipe, plan.analysis)
        warnings += cond.warnings
    else:
        cond = encode_base(pipe, layout.base_prompt, T)

    timesteps = flux_timesteps(pipe, resolved.steps, resolved.width, resolved.height)
    generator = torch.Generator(device="cpu").manual_seed(resolved.seed)
    transformer = model.transformer
    saved = dict(transformer.attn_processors)
    watcher = StepWatcher(pipe, resolved.steps, resolved.width, resolved.height, on_step, cancel)
    call = dict(
        prompt_embeds=cond.prompt_embeds, pooled_prompt_embeds=cond.pooled_prompt_embeds,
        width=resolved.width, height=resolved.height, num_inference_steps=resolved.steps,
        guidance_scale=resolved.guidance, generator=generator, max_sequence_length=T,
        num_images_per_prompt=resolved.num_images, output_type="pil",
        callback_on_step_end=watcher.callback, callback_on_step_end_tensor_inputs=["latents"],
    )
    try:
        with watcher, torch.inference_mode():
            if use_ast:
                from .attention import ASTAttention

                ctrl = ASTAttention(transformer, sched, plan.modulation_inputs(), timesteps=timesteps)
                with ctrl.installed():
                    images = pipe(**call).images
            else:
                images = pipe(**call).images
    finally:
        now = transformer.attn_processors
        if any(now.get(k) is not p for k, p in saved.items()):
            transformer.set_attn_processor(dict(saved))
        if hasattr(pipe, "maybe_free_model_hooks"):
            pipe.maybe_free_model_hooks()

    metadata = build_metadata(
        model=model, settings=resolved, schedule=sched, layout=layout, plan=plan, warnings=warnings,
        timesteps=timesteps, method_used="ast" if use_ast else "none",
        attention_backend=_attention_backend(pipe, transformer) if use_ast else None,
    )
    return GenerationResult(list(images), metadata, warnings)
