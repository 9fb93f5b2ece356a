"""Model families: the facts of each model AST Studio knows, independent of where its weights live.

A family is data on top of an architecture adapter (:mod:`ast_core.models.architecture`):
its text length, default steps and guidance, layer structure, scheduler configuration and
default schedule preset, so the studio can show a family's layers and timesteps before any
weights are loaded. Each adapter module defines its families;
:mod:`ast_core.models.architectures` collects them (``FAMILIES``, ``family(name)``).
No torch here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..schedule.structure import Structure
from ..schedule.timesteps import SchedulerConfig

if TYPE_CHECKING:  # pragma: no cover
    from .architecture import Architecture


@dataclass(frozen=True)
class ModelFamily:
    name: str
    architecture_name: str  # an adapter's ``name``
    max_sequence_length: int  # T5 tokens of a run
    default_steps: int
    default_guidance: float
    layers: Structure  # the transformer's layer structure (schedule layers)
    scheduler: SchedulerConfig  # what its scheduler config says (for timesteps without a model)
    default_preset: str  # schedule preset of the AST method for this family
    latent_channels: int = 16
    vae_scale_factor: int = 8  # pixels per latent cell
    patch_size: int = 2  # latent cells per token side
    hf_id: str = ""  # the usual Hugging Face repository, for messages and the default location
    builtin: bool = False  # built in code (random weights): no folder, no download
    guidance_distilled: bool = False  # guidance is an input of the model, not a CFG batch
    notes: str = field(default="", compare=False)

    @property
    def pixels_per_token(self) -> int:
        """Image pixels per side of one transformer token (8 * 2 = 16)."""
        return self.vae_scale_factor * self.patch_size

    @property
    def architecture(self) -> "Architecture":
        from .architectures import architecture

        return architecture(self.architecture_name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "architecture": self.architecture_name,
            "max_sequence_length": self.max_sequence_length, "default_steps": self.default_steps,
            "default_guidance": self.default_guidance,
            "layers": [{"kind": k, "count": n} for k, n in self.layers],
            "hf_id": self.hf_id,
        }
