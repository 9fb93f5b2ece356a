"""The engine calls the worker makes, on the worker thread only.

Everything that imports torch (``ast_core.models``, ``ast_core.generate``,
``ast_core.preview``) is imported inside these functions, so importing the studio never
loads torch and the GUI thread never runs it.
"""
from __future__ import annotations

import io
import traceback
from typing import Callable

import numpy as np

from ast_core.out_of_memory import free_memory, is_out_of_memory  # noqa: F401 (worker.py calls engine_run.free_memory); torch imported only when called

from . import events as ev
from .model_settings import ModelSettings

OOM_ADVICE = ("Try a smaller canvas, fewer images, 'CPU offload' or a lighter dtype (bf16/fp16) in Model "
              "settings, or close other programs using the GPU.")


def load(model: ModelSettings, on_progress: Callable | None = None):
    """The engine's LoadedModel for ``model`` (raises the engine's ModelLoadError);
    ``on_progress(ast_core.progress.Stage)`` hears the loading stages."""
    from ast_core.models import ModelLoadError, load_model

    if model.missing_location():
        raise ModelLoadError(model.missing_location())
    return load_model(model.options(), on_progress=on_progress)


def check(model: ModelSettings) -> tuple[bool, str]:
    """(ok, message): whether ``model`` can be loaded as the settings say, checked the way loading
    checks it before reading weights (files, folders, family, device, quantisations, packages)."""
    from ast_core.models import ModelLoadError, check_model

    if model.missing_location():
        what = {"hf_cache": "a Hugging Face repository id", "file": "a model file"}.get(model.source, "a model folder")
        return False, f"Choose {what} for {model.model}."
    try:
        found = check_model(model.options())
    except ModelLoadError as e:
        return False, str(e)
    if model.is_builtin:
        return True, f"{model.model} is built in: nothing to download (runs on {found.device})."
    line = f"Found {found.describe()}."
    if found.family.name != model.model:
        line += f" (Settings say {model.model}; {found.family.name} will be used.)"
    return True, line


def numbers_that_run(settings: dict, family) -> dict:
    """The steps and guidance a render of ``settings`` runs with on ``family`` ("Model default",
    ``None``, resolved by the engine's own rule: ``GenerationSettings.resolved``)."""
    from ast_core.generation.settings import GenerationSettings

    resolved = GenerationSettings(**settings).resolved((settings["width"], settings["height"]), family)
    return {"steps": resolved.steps, "guidance": resolved.guidance}


def check_prompts(job: ev.GenerationJob) -> None:
    """Raise the method's PromptError for what is wrong with the prompts without a model (so
    it is reported before a model loads)."""
    from ast_core.methods import DEFAULT_METHOD, method

    method(job.settings.get("method") or DEFAULT_METHOD).check_prompts(job.layout)


def run(job: ev.GenerationJob, loaded, on_step: Callable, cancel, on_stage: Callable | None = None) -> object:
    """Run ``job`` with the engine; returns its GenerationResult (raises the engine's errors)."""
    import ast_core.generate as engine

    settings = engine.GenerationSettings(**job.settings)
    loaded.use_loras(job.loras)  # the project's LoRAs (no reload; a bad file raises LoraError)
    return engine.generate(job.layout, job.schedule, settings, loaded, on_step=on_step, cancel=cancel,
                           on_stage=on_stage)


def preview_rgb(info, loaded) -> np.ndarray:
    """The step's preview (x0 prediction through the latent-to-RGB projection), RGB uint8."""
    from ast_core.preview import latent_to_array

    return latent_to_array(info.x0[0], loaded.architecture)  # 1/8 of the image per side


def to_rgb_array(image) -> np.ndarray:
    arr = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
    if arr.dtype != np.uint8:
        arr = np.clip(np.asarray(arr, dtype=np.float32) * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255)
        arr = arr.astype(np.uint8)
    return np.ascontiguousarray(arr[..., :3])


def encode_png(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def describe_error(exc: BaseException, job: ev.GenerationJob) -> ev.Error:
    """A readable Error event for an exception raised while loading or generating."""
    from ast_core.models import ModelLoadError

    import ast_core.generate as engine

    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    w, h = job.settings.get("width"), job.settings.get("height")
    if is_out_of_memory(exc):
        return ev.Error(f"Rendering {w}×{h} needs more memory than is free. {OOM_ADVICE}", ev.OUT_OF_MEMORY,
                        details, job.id)
    if isinstance(exc, ModelLoadError):
        return ev.Error(f"{exc}. Check Generate ▸ Model settings.", ev.MODEL, details, job.id)
    from ast_core.models.loras import LoraError

    if isinstance(exc, LoraError):
        return ev.Error(f"{exc}. Change or remove it under LoRAs in the Generate panel.", ev.LORA, details, job.id)
    from ast_core.prompts import PromptError

    prompt_errors = tuple({PromptError, getattr(engine, "PromptError", PromptError)})
    if isinstance(exc, prompt_errors):
        return ev.Error(str(exc), ev.PROMPT, details, job.id)
    if isinstance(exc, ValueError):
        return ev.Error(str(exc), ev.SETTINGS, details, job.id)
    return ev.Error(f"{type(exc).__name__}: {exc}", ev.INTERNAL, details, job.id)
