"""Generate images from a layout: the engine's one entry point, for every architecture and method.

    from ast_core.generate import generate, GenerationSettings
    result = generate(layout, schedule, GenerationSettings(steps=28, seed=1), model,
                      on_step=lambda s: ..., cancel=threading.Event())
    result.images[0].save("out.png"); result.metadata; result.warnings

* ``settings.method`` names a control method of :mod:`ast_core.methods` (``ast``, ``none``...);
  its typed parameters are ``settings.method_parameters``, and for ``ast`` the step-layer
  ``schedule`` (``None`` = the model family's preset mapped to the model's layers). The
  method's attention control is installed for the run and the original processors are back
  when ``generate`` returns or raises (also on cancel).
* The model's architecture adapter (``model.architecture``) encodes the prompts, computes the
  timesteps and builds the pipeline call; nothing here knows a model family.
* A layout with no visible instance that has an area renders plainly, with a warning.
* ``on_step(StepInfo)`` after each denoising step (latents and the x0 prediction as
  [B, 16, H/8, W/8], float32 on the CPU; ``image``/``images`` say which image of the run);
  ``on_stage(Stage)`` when encoding, each image's denoising and its decoding begin
  (:mod:`ast_core.progress`); ``cancel`` (a ``threading.Event`` or a callable
  returning bool) is checked before the first step, after each step and before each image,
  and stops the run with :class:`Cancelled` (``.step`` = steps finished, ``.result`` = the
  images finished before); a flag raised during an image's last step lets that image finish.
* ``settings.num_images`` images (variations) get seeds ``seed``, ``seed + 1``, ...; each is
  made by its own pass with its own generator, so image k equals a one-image run with seed
  ``seed + k``; ``result.image_metadata[k]`` records that seed.
* Masks are the instances' exclusive regions on the 16-pixel token grid (the upper instance
  wins where two overlap); see ``ast_core.generation.plan``.
* Runs on the calling thread; call it from one worker thread at a time per model.
* Bad input raises :class:`PromptError` (instance text not in the base prompt...) or
  :class:`SettingsError`; both are ``ValueError`` with a message for the user.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from .document import Layout
from .generation.metadata import build_metadata, image_metadata, job_from_metadata
from .generation.plan import GenerationPlan, plan_generation
from .generation.settings import GenerationSettings, SettingsError
from .generation.steps import CancelFlag, Cancelled, StepInfo, StepWatcher, is_cancelled
from .methods import method
from .models import LoadedModel
from .progress import DENOISING, ENCODING, Stage, StageCallback, report
from .prompts import PromptError

__all__ = [
    "Cancelled", "GenerationResult", "GenerationSettings", "PromptError", "SettingsError", "StepInfo",
    "generate", "job_from_metadata", "pipeline_timesteps", "prepare",
]


@dataclass
class GenerationResult:
    """``images`` (PIL images); ``image_metadata[k]`` the metadata of image k (its own seed);
    ``metadata`` the run's (``settings.seed`` the first image's seed, ``num_images`` how many)."""

    images: list  # PIL.Image.Image
    metadata: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    image_metadata: list[dict[str, Any]] = field(default_factory=list)


def prepare(layout: Layout, settings: GenerationSettings, model: LoadedModel,
            with_text: bool | None = None) -> tuple[GenerationSettings, GenerationPlan]:
    """Resolve the settings and compute what the model will see, without running it.

    Masks always; text spans where the method needs them (``with_text`` forces either way).
    Raises PromptError/SettingsError for bad input.
    """
    fam = model.family
    resolved = settings.resolved((layout.width, layout.height), fam)
    control = method(resolved.method)
    if with_text is None:
        with_text = control.needs_text()
    text_layout = model.architecture.text_layout(fam, resolved.max_sequence_length) if with_text else None
    plan = plan_generation(layout, resolved.width, resolved.height, fam.pixels_per_token,
                           pipe=model.pipeline if with_text else None, text_layout=text_layout,
                           method_label=control.label)
    return resolved, plan


def pipeline_timesteps(model: LoadedModel, steps: int, width: int, height: int) -> list[float]:
    """The scheduler timesteps the loaded pipeline will use for this size and step count."""
    arch = model.architecture
    return arch.timesteps(model.family, steps, width, height, arch.scheduler_config(model.pipeline))


def generate(
    layout: Layout,
    schedule,
    settings: GenerationSettings,
    model: LoadedModel,
    on_step: Callable[[StepInfo], None] | None = None,
    cancel: CancelFlag = None,
    on_stage: StageCallback = None,
) -> GenerationResult:
    pipe, arch = model.pipeline, model.architecture
    resolved, plan = prepare(layout, settings, model)
    warnings = list(model.warnings) + list(plan.warnings)
    if is_cancelled(cancel):
        raise Cancelled(0, resolved.steps)
    timesteps = pipeline_timesteps(model, resolved.steps, resolved.width, resolved.height)
    report(on_stage, Stage(ENCODING, "Encoding prompts"))
    run = method(resolved.method).start(model, layout, resolved, plan, timesteps, schedule=schedule,
                                        parameters=resolved.method_parameters)
    warnings += run.warnings
    transformer = model.transformer
    saved = dict(transformer.attn_processors)
    count = resolved.num_images
    model.prepare_render(resolved.width, resolved.height)

    def result(images: list) -> GenerationResult:
        metadata = build_metadata(model=model, settings=resolved, run=run, layout=layout, plan=plan,
                                  warnings=warnings, timesteps=timesteps)
        return GenerationResult(images, metadata, list(warnings),
                                [image_metadata(metadata, k) for k in range(len(images))])

    images: list = []
    try:
        for k in range(count):
            if k and is_cancelled(cancel):
                raise Cancelled(0, resolved.steps)
            # one pass per image, each with its own generator: image k is exactly what a one-image
            # run with seed + k makes (a batch drawn from one generator would not be)
            generator = torch.Generator(device="cpu").manual_seed(resolved.seed + k)
            watcher = StepWatcher(model, resolved.steps, resolved.width, resolved.height, on_step, cancel,
                                  run.step_finished, image=k + 1, images=count, on_stage=on_stage)
            call = arch.call_arguments(
                run.conditioning, width=resolved.width, height=resolved.height, steps=resolved.steps,
                guidance=resolved.guidance, generator=generator, max_sequence_length=resolved.max_sequence_length,
                num_images=1, callback=watcher.callback)
            of = f"Image {k + 1}/{count}" if count > 1 else "Denoising"
            report(on_stage, Stage(DENOISING, of, image=k + 1, images=count))
            with watcher, torch.inference_mode(), run.installed(model):
                images.extend(pipe(**call).images)
    except Cancelled as e:
        e.result = result(images) if images else None
        raise
    finally:
        now = transformer.attn_processors
        if any(now.get(k) is not p for k, p in saved.items()):
            transformer.set_attn_processor(dict(saved))
        if hasattr(pipe, "maybe_free_model_hooks"):
            pipe.maybe_free_model_hooks()
    return result(images)
