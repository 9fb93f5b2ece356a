"""Generation in the studio: the worker thread, model settings, previews and the render history.

Importing this package never imports torch: the engine is loaded on the worker thread
(:mod:`.engine_run`). Entry point for the main window: :class:`GenerationUi`.
"""
from .events import Cancelled, Error, Finished, GenerationJob, Loading, Started, Step
from .generation_ui import GenerationUi
from .model_settings import ModelSettings, load_model_settings, save_model_settings
from .worker import GenerationRunner, GenerationWorker

__all__ = [
    "Cancelled", "Error", "Finished", "GenerationJob", "GenerationRunner", "GenerationUi", "GenerationWorker",
    "Loading", "ModelSettings", "Started", "Step", "load_model_settings", "save_model_settings",
]
