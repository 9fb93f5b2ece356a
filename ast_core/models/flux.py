"""The FLUX.1 architecture adapter and its families (FLUX.1-dev, FLUX.1-schnell, tiny-flux).

Facts: ``FluxPipeline``; 19 double-stream (joint) blocks then 38 single-stream blocks, 57
attention calls a step; the joint sequence is text first (the T5 rows, 512 for dev, 256 for
schnell), then the image tokens (2x2-packed latents, 16 pixels a token, row-major); CLIP
gives only the pooled embedding; FLUX.1-dev is guidance-distilled (no CFG batch); the
pipeline passes ``linspace(1, 1/n, n)`` sigmas, shifted by resolution (dev) or statically
(schnell). The AST paper's layer table is written for these 57 layers.

Importing this module does not import torch; the model-facing methods do.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

from ..schedule.bands import LayerBand
from ..schedule.presets import DEMO_MODULATED_STEPS, demo_curves, demo_schedule
from ..schedule.structure import Structure
from ..schedule.timesteps import SchedulerConfig
from .architecture import (
    JOINT,
    SINGLE,
    TEXT_FIRST,
    Architecture,
    AttentionLayer,
    Conditioning,
    TextLayout,
    TextPart,
)
from .families import ModelFamily

LAYERS: Structure = ((JOINT, 19), (SINGLE, 38))
AST_PAPER = "AST paper (FLUX.1-dev)"
AST_PAPER_SCHNELL = "AST paper (FLUX.1-schnell)"

_DEV_SCHEDULER = SchedulerConfig(shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
                                 base_image_seq_len=256, max_image_seq_len=4096)
_SCHNELL_SCHEDULER = SchedulerConfig(shift=1.0, use_dynamic_shifting=False)

FLUX_DEV = ModelFamily(
    name="FLUX.1-dev", architecture_name="flux", max_sequence_length=512, default_steps=28,
    default_guidance=3.5, layers=LAYERS, scheduler=_DEV_SCHEDULER, default_preset=AST_PAPER,
    hf_id="black-forest-labs/FLUX.1-dev", guidance_distilled=True,
)
FLUX_SCHNELL = ModelFamily(
    name="FLUX.1-schnell", architecture_name="flux", max_sequence_length=256, default_steps=4,
    default_guidance=0.0, layers=LAYERS, scheduler=_SCHNELL_SCHEDULER, default_preset=AST_PAPER_SCHNELL,
    hf_id="black-forest-labs/FLUX.1-schnell",
)
TINY_FLUX = ModelFamily(
    name="tiny-flux", architecture_name="flux", max_sequence_length=128, default_steps=4,
    default_guidance=3.5, layers=LAYERS, scheduler=_DEV_SCHEDULER, default_preset=AST_PAPER,
    builtin=True, guidance_distilled=True,
    notes="built-in test model: FLUX.1-dev's structure with tiny random weights",
)
FAMILIES = (FLUX_DEV, FLUX_SCHNELL, TINY_FLUX)


def ast_paper_bands() -> tuple[LayerBand, ...]:
    """The method page's layer table on FLUX.1's 57 layers (0-based, ``[start, end)``)."""
    return (
        LayerBand(0, 5),                                                     # double 1-5
        LayerBand(5, 19, i2i=True, t2t=True, i2t_maps={"instance"},          # double 6-19
                  i2t_row_factor="a_inst"),
        LayerBand(19, 24, i2i=True, t2t=True, i2t_maps={"instance", "background"},  # l 20-24
                  i2t_row_factor="a_img"),
        LayerBand(24, 34, i2i=True, t2t=True, i2t_maps={"instance", "attribute"},   # l 25-34
                  i2t_row_factor="a_inst"),
        LayerBand(34, 50, i2i=True, t2t=True, i2t_maps={"attribute"},        # l 35-50
                  i2t_row_factor="a_inst"),
        LayerBand(50, 57, i2t_maps={"attribute"}, i2t_row_factor="a_inst"),  # l 51-57
    )


def ast_paper_schedule(_layers: Structure | None = None):
    """The paper's FLUX.1-dev defaults: the table above, 16 modulated steps."""
    return demo_schedule(LAYERS, ast_paper_bands(), AST_PAPER, demo_curves(DEMO_MODULATED_STEPS))


def ast_paper_schnell_schedule(_layers: Structure | None = None):
    """FLUX.1-schnell: the same table and weights on the first half of the steps (rounded up)."""
    return demo_schedule(LAYERS, ast_paper_bands(), AST_PAPER_SCHNELL,
                         demo_curves(DEMO_MODULATED_STEPS, modulated_fraction=0.5))


class FluxArchitecture(Architecture):
    name = "flux"
    label = "FLUX.1"
    pipeline_classes = ("FluxPipeline",)
    components = {
        "scheduler": [("scheduler_config.json",)],
        "vae": [("config.json",), ("*.safetensors",)],
        "text_encoder": [("config.json",), ("*.safetensors",)],
        "text_encoder_2": [("config.json",), ("*.safetensors",)],
        "transformer": [("config.json",), ("*.safetensors",)],
        "tokenizer": [("tokenizer.json", "vocab.json")],
        "tokenizer_2": [("tokenizer.json", "spiece.model")],
    }
    order = TEXT_FIRST
    preview_factors = (
        (-0.0346, 0.0244, 0.0681), (0.0034, 0.0210, 0.0687), (0.0275, -0.0668, -0.0433),
        (-0.0174, 0.0160, 0.0617), (0.0859, 0.0721, 0.0329), (0.0004, 0.0383, 0.0115),
        (0.0405, 0.0861, 0.0915), (-0.0236, -0.0185, -0.0259), (-0.0245, 0.0250, 0.1180),
        (0.1008, 0.0755, -0.0421), (-0.0515, 0.0201, 0.0011), (0.0428, -0.0012, -0.0036),
        (0.0817, 0.0765, 0.0749), (-0.1264, -0.0522, -0.1103), (-0.0280, -0.0881, -0.0499),
        (-0.1262, -0.0982, -0.0778),
    )
    preview_bias = (-0.0329, -0.0718, -0.0851)
    pipeline_sigmas = True
    layer_kind_labels = {JOINT: "double", SINGLE: "single"}
    transformer_class = "FluxTransformer2DModel"
    text_encoder_slots = {"text_encoder": "clip-l", "text_encoder_2": "t5"}

    # ------------------------------------------------------------------ data
    def text_layout(self, family: ModelFamily, max_sequence_length: int) -> TextLayout:
        return TextLayout((TextPart("t5", "tokenizer_2", 0, int(max_sequence_length)),))

    def presets(self):
        return {AST_PAPER: ast_paper_schedule, AST_PAPER_SCHNELL: ast_paper_schnell_schedule}

    # ------------------------------------------------------------------ model
    def scheduler_config(self, pipe) -> SchedulerConfig:
        config = pipe.scheduler.config
        # FluxPipeline passes no sigmas when the scheduler makes its own flow sigmas
        return SchedulerConfig.from_scheduler_config(config, not config.get("use_flow_sigmas", False))

    def structure_of(self, transformer) -> Structure:
        double, single = self._blocks(transformer)
        return tuple((kind, n) for kind, n in ((JOINT, len(double)), (SINGLE, len(single))) if n)

    def _blocks(self, transformer):
        try:
            return transformer.transformer_blocks, transformer.single_transformer_blocks
        except AttributeError as exc:
            raise ValueError(
                f"transformer: expected a {self.label} transformer (transformer_blocks and "
                f"single_transformer_blocks), got {type(transformer).__name__}") from exc

    def attention_layers(self, transformer) -> list[AttentionLayer]:
        double, single = self._blocks(transformer)
        modules = [(JOINT, b.attn) for b in double] + [(SINGLE, b.attn) for b in single]
        return [AttentionLayer(i, i, kind, module) for i, (kind, module) in enumerate(modules)]

    def processor(self, layer: AttentionLayer, control, original):
        from .flux_attention import FluxControlledProcessor

        return FluxControlledProcessor(layer, control, original)

    # ------------------------------------------------------------------ two text streams
    batch_arguments = Architecture.batch_arguments + ("guidance",)

    def stream_blocks(self, transformer):
        """Double blocks share the image tokens; through the single blocks a base stream keeps
        image tokens of its own (Regional-Prompting-FLUX carries a whole base sequence there)."""
        double, single = self._blocks(transformer)
        return [(b, False) for b in double] + [(b, True) for b in single]

    def main_stream_call(self, call, text):
        """Each block of the pipeline's text length gets the pipeline's text ids (zeros in FluxPipeline)."""
        ids = _text_ids(call)
        if text.shape[1] % ids.shape[0]:
            raise ValueError(f"main text: {text.shape[1]} rows are not whole blocks of the pipeline's "
                             f"{ids.shape[0]} text rows")
        return {**call, "encoder_hidden_states": text, "txt_ids": ids.repeat(text.shape[1] // ids.shape[0], 1)}

    def base_stream_inputs(self, transformer, call):
        """The embedded text and the rotary embedding of the pipeline's text ids + image ids."""
        import torch

        img_ids = call["img_ids"][0] if call["img_ids"].dim() == 3 else call["img_ids"]
        return {"encoder_hidden_states": transformer.context_embedder(call["encoder_hidden_states"]),
                "image_rotary_emb": transformer.pos_embed(torch.cat([_text_ids(call), img_ids], dim=0))}

    def encode(self, pipe, prompt: str, max_sequence_length: int, guidance: float,
               negative_prompt: str = "") -> Conditioning:
        import torch

        with torch.no_grad():
            embeds, pooled, _ = pipe.encode_prompt(prompt=prompt, prompt_2=None,
                                                   max_sequence_length=max_sequence_length)
        return Conditioning(embeds, pooled)

    def encode_alone(self, pipe, texts: Sequence[str], max_sequence_length: int):
        """T5 rows of each text alone, as the pipeline encodes a prompt (padded, no attention mask)."""
        import torch

        with torch.no_grad():
            embeds, _, _ = pipe.encode_prompt(prompt=list(texts), prompt_2=None,
                                              max_sequence_length=max_sequence_length)
        return embeds

    def call_arguments(self, conditioning: Conditioning, *, width: int, height: int, steps: int,
                       guidance: float, generator, max_sequence_length: int, num_images: int,
                       callback) -> dict[str, Any]:
        return dict(
            prompt_embeds=conditioning.text, pooled_prompt_embeds=conditioning.pooled,
            width=width, height=height, num_inference_steps=steps, guidance_scale=guidance,
            generator=generator, max_sequence_length=max_sequence_length,
            num_images_per_prompt=num_images, output_type="pil",
            callback_on_step_end=callback, callback_on_step_end_tensor_inputs=["latents"],
        )

    def unpack_latents(self, latents, width: int, height: int, vae_scale_factor: int):
        """Packed ``[B, (h/2)(w/2), C*4]`` -> ``[B, C, h, w]`` (h = H / vae_scale_factor)."""
        b, _, c4 = latents.shape
        h = 2 * (height // (vae_scale_factor * 2))
        w = 2 * (width // (vae_scale_factor * 2))
        x = latents.reshape(b, h // 2, w // 2, c4 // 4, 2, 2).permute(0, 3, 1, 4, 2, 5)
        return x.reshape(b, c4 // 4, h, w)

    def load_folder(self, folder: str, dtype, **components):
        from diffusers import FluxPipeline

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            return FluxPipeline.from_pretrained(folder, torch_dtype=dtype, local_files_only=True,
                                                use_safetensors=True, **components)

    # ------------------------------------------------------------------ single files
    def recognise(self, tensors: dict[str, tuple[int, ...]]) -> ModelFamily | None:
        """BFL's layout (``double_blocks.*``, flux1-dev.safetensors, GGUF files) or diffusers'
        (``transformer_blocks.*`` with ``single_transformer_blocks.*``); guidance embedder -> dev."""
        from . import flux_single_file

        if flux_single_file.MARKER in tensors:
            width = tensors.get("img_in.weight", (3072,))[0]
            guidance = "guidance_in.in_layer.weight" in tensors
        elif "single_transformer_blocks.0.attn.to_q.weight" in tensors and "x_embedder.weight" in tensors:
            width = tensors["x_embedder.weight"][0]
            guidance = "time_text_embed.guidance_embedder.linear_1.weight" in tensors
        else:
            return None
        if width < 1024:
            return TINY_FLUX
        return FLUX_DEV if guidance else FLUX_SCHNELL

    def recognise_lora(self, names: Sequence[str]) -> bool:
        """kohya (``lora_unet_double_blocks_*``), XLabs (``double_blocks.N.processor``), BFL/ComfyUI
        (``diffusion_model.double_blocks``) and diffusers/PEFT (``transformer.single_transformer_blocks``)."""
        markers = ("lora_unet_double_blocks_", "lora_unet_single_blocks_", "double_blocks.", "single_blocks.",
                   "single_transformer_blocks.")
        return any(m in k for k in names for m in markers)

    def to_diffusers_layout(self, tensors):
        from . import flux_single_file

        return flux_single_file.to_diffusers(tensors) if flux_single_file.is_original_layout(tensors) else tensors

    def original_layout(self, state):
        from . import flux_single_file

        return flux_single_file.from_diffusers(state)

    def family_for(self, transformer_config: dict, marker: str | None, hint: str = "") -> ModelFamily:
        """Tell FLUX.1-dev, schnell and tiny-flux apart (an explicit marker wins)."""
        for fam in FAMILIES:
            if marker == fam.name:
                return fam
        if int(transformer_config.get("joint_attention_dim", 4096)) < 1024:
            return TINY_FLUX
        return FLUX_DEV if transformer_config.get("guidance_embeds", False) else FLUX_SCHNELL

    def build_tiny(self, family: ModelFamily, fresh: bool = False):
        from .tiny_flux import build_tiny_flux

        return build_tiny_flux(fresh=fresh)


def _text_ids(call: dict[str, Any]):
    ids = call["txt_ids"]
    return ids[0] if ids.dim() == 3 else ids
