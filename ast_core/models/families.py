"""Model families AST Studio knows: their facts, independent of where the weights live.

A family says which pipeline class runs it and the numbers the engine needs before any
weights are loaded (T5 sequence length, default steps/guidance, latent channels, patch
size). FLUX is the one architecture wired today; the ``architecture`` field leaves room
for SD3.5 ("sd3": image tokens first, different latent factors).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ModelFamily:
    name: str
    architecture: str  # "flux" (joint sequence: text tokens first, then image tokens)
    pipeline_class: str  # diffusers class named in model_index.json
    max_sequence_length: int  # T5 tokens
    default_steps: int
    default_guidance: float
    guidance_embeds: bool  # guidance-distilled (FLUX.1-dev) vs. not (schnell)
    latent_channels: int
    vae_scale_factor: int  # pixels per latent cell
    patch_size: int  # latent cells per token side (FLUX packs 2x2)
    hf_id: str = ""  # the usual Hugging Face repository, for messages
    #: the scheduler's timestep shift: None = resolution-dependent (FLUX.1-dev's dynamic shift),
    #: a number = that static shift (FLUX.1-schnell: 1.0)
    timestep_shift: float | None = None

    @property
    def pixels_per_token(self) -> int:
        """Image pixels per side of one transformer token (FLUX: 8 * 2 = 16)."""
        return self.vae_scale_factor * self.patch_size

    def to_dict(self) -> dict:
        return asdict(self)


FLUX_DEV = ModelFamily(
    name="FLUX.1-dev", architecture="flux", pipeline_class="FluxPipeline", max_sequence_length=512,
    default_steps=28, default_guidance=3.5, guidance_embeds=True, latent_channels=16, vae_scale_factor=8,
    patch_size=2, hf_id="black-forest-labs/FLUX.1-dev",
)
FLUX_SCHNELL = ModelFamily(
    name="FLUX.1-schnell", architecture="flux", pipeline_class="FluxPipeline", max_sequence_length=256,
    default_steps=4, default_guidance=0.0, guidance_embeds=False, latent_channels=16, vae_scale_factor=8,
    patch_size=2, hf_id="black-forest-labs/FLUX.1-schnell", timestep_shift=1.0,
)
TINY_FLUX = ModelFamily(
    name="tiny-flux", architecture="flux", pipeline_class="FluxPipeline", max_sequence_length=128,
    default_steps=4, default_guidance=3.5, guidance_embeds=True, latent_channels=16, vae_scale_factor=8,
    patch_size=2,
)

FAMILIES: dict[str, ModelFamily] = {f.name: f for f in (FLUX_DEV, FLUX_SCHNELL, TINY_FLUX)}


def family(name: str) -> ModelFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}") from None


def flux_family_from_config(transformer_config: dict, marker: str | None = None) -> ModelFamily:
    """Tell FLUX.1-dev, schnell and tiny-flux apart from a transformer config (or an explicit marker)."""
    if marker in FAMILIES:
        return FAMILIES[marker]
    if int(transformer_config.get("joint_attention_dim", 4096)) < 1024:
        return TINY_FLUX
    return FLUX_DEV if transformer_config.get("guidance_embeds", False) else FLUX_SCHNELL
