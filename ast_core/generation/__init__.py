"""Pieces of ``ast_core.generate``: settings, the plan of what the model sees, step reporting, metadata."""
from .metadata import build_metadata, job_from_metadata
from .plan import GenerationPlan, plan_generation
from .settings import METHODS, GenerationSettings, SettingsError
from .steps import Cancelled, StepInfo

__all__ = [
    "Cancelled", "GenerationPlan", "GenerationSettings", "METHODS", "SettingsError", "StepInfo", "build_metadata",
    "job_from_metadata", "plan_generation"
]
