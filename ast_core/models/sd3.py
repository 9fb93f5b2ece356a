"""The Stable Diffusion 3 architecture adapter and its families (SD3.5 Large, Medium, Large Turbo, tiny-sd3).

Facts: ``StableDiffusion3Pipeline``; joint (MM-DiT) blocks only: 38 in Large and Large Turbo
(38 heads x 64), 24 in Medium, whose blocks 0-12 also run an image-only ``attn2``. The joint
sequence puts the **image tokens first**, then the text: 77 CLIP rows (CLIP-L and CLIP-G
penultimate states concatenated on channels, zero-padded to the T5 width; row 0 is the start
token) followed by the T5 rows (256 by default). Classifier-free guidance doubles the batch
as ``[negative, positive]`` when guidance > 1. The scheduler shifts statically (3.0) and the
pipeline passes no sigmas. Latents are not packed (``[B, 16, H/8, W/8]``); a token is a 2x2
patch (16 pixels), row-major.

The AST method's adaptation (../shared/docs/ast-method.md, "SD3.5 and FLUX.1-schnell"): spans
and substitution in both the CLIP and the T5 rows, only the positive half of the CFG batch
modulated, the FLUX layer table mapped by relative depth, ``attn2`` taking its block's I2I
modulation.

Importing this module does not import torch; the model-facing methods do.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Sequence

from ..schedule.presets import DEMO_MODULATED_STEPS, demo_curves, demo_schedule
from ..schedule.structure import Structure
from ..schedule.timesteps import SchedulerConfig
from .architecture import (
    IMAGE,
    IMAGE_FIRST,
    JOINT,
    Architecture,
    AttentionLayer,
    Conditioning,
    TextLayout,
    TextPart,
)
from .families import ModelFamily

CLIP_ROWS = 77
AST_PAPER_SD35 = "AST paper mapped to SD3.5"
LARGE_LAYERS: Structure = ((JOINT, 38),)
MEDIUM_LAYERS: Structure = ((JOINT, 24),)
MEDIUM_DUAL_BLOCKS = tuple(range(13))  # blocks with the image-only attn2

_SCHEDULER = SchedulerConfig(shift=3.0, use_dynamic_shifting=False, pipeline_sigmas=False)

SD35_LARGE = ModelFamily(
    name="SD3.5 Large", architecture_name="sd3", max_sequence_length=256, default_steps=28,
    default_guidance=3.5, layers=LARGE_LAYERS, scheduler=_SCHEDULER, default_preset=AST_PAPER_SD35,
    hf_id="stabilityai/stable-diffusion-3.5-large",
)
SD35_MEDIUM = ModelFamily(
    name="SD3.5 Medium", architecture_name="sd3", max_sequence_length=256, default_steps=40,
    default_guidance=4.5, layers=MEDIUM_LAYERS, scheduler=_SCHEDULER, default_preset=AST_PAPER_SD35,
    hf_id="stabilityai/stable-diffusion-3.5-medium",
)
SD35_LARGE_TURBO = ModelFamily(
    name="SD3.5 Large Turbo", architecture_name="sd3", max_sequence_length=256, default_steps=4,
    default_guidance=0.0, layers=LARGE_LAYERS, scheduler=_SCHEDULER, default_preset=AST_PAPER_SD35,
    hf_id="stabilityai/stable-diffusion-3.5-large-turbo",
)
TINY_SD3 = ModelFamily(
    name="tiny-sd3", architecture_name="sd3", max_sequence_length=64, default_steps=4,
    default_guidance=4.5, layers=MEDIUM_LAYERS, scheduler=_SCHEDULER, default_preset=AST_PAPER_SD35,
    builtin=True,
    notes="built-in test model: SD3.5 Medium's structure (24 joint blocks, attn2 in 0-12) with tiny random weights",
)
FAMILIES = (SD35_LARGE, SD35_MEDIUM, SD35_LARGE_TURBO, TINY_SD3)


def ast_paper_sd35_schedule(layers: Structure | None = None):
    """The FLUX table mapped onto the joint blocks by relative depth (layer ``l`` of ``L``
    takes FLUX layer ``round(l * 57 / L)``), the demo's weights, modulating the first half
    of the steps (rounded up)."""
    from .flux import ast_paper_schedule

    target = layers or LARGE_LAYERS
    mapped = ast_paper_schedule().for_structure(target)
    return demo_schedule(target, mapped.bands, AST_PAPER_SD35,
                         demo_curves(DEMO_MODULATED_STEPS, modulated_fraction=0.5))


class SD3Architecture(Architecture):
    name = "sd3"
    label = "Stable Diffusion 3"
    pipeline_classes = ("StableDiffusion3Pipeline",)
    components = {
        "scheduler": [("scheduler_config.json",)],
        "vae": [("config.json",), ("*.safetensors",)],
        "text_encoder": [("config.json",), ("*.safetensors",)],
        "text_encoder_2": [("config.json",), ("*.safetensors",)],
        "text_encoder_3": [("config.json",), ("*.safetensors",)],
        "transformer": [("config.json",), ("*.safetensors",)],
        "tokenizer": [("tokenizer.json", "vocab.json")],
        "tokenizer_2": [("tokenizer.json", "vocab.json")],
        "tokenizer_3": [("tokenizer.json", "spiece.model")],
    }
    order = IMAGE_FIRST
    preview_factors = (
        (-0.0922, -0.0175, 0.0749), (0.0311, 0.0633, 0.0954), (0.1994, 0.0927, 0.0458),
        (0.0856, 0.0339, 0.0902), (0.0587, 0.0272, -0.0496), (-0.0006, 0.1104, 0.0309),
        (0.0978, 0.0306, 0.0427), (-0.0042, 0.1038, 0.1358), (-0.0194, 0.0020, 0.0669),
        (-0.0488, 0.0130, -0.0268), (0.0922, 0.0988, 0.0951), (-0.0278, 0.0524, -0.0542),
        (0.0332, 0.0456, 0.0895), (-0.0069, -0.0030, -0.0810), (-0.0596, -0.0465, -0.0293),
        (-0.1448, -0.1463, -0.1189),
    )
    preview_bias = (0.2394, 0.2135, 0.1925)
    pipeline_sigmas = False
    layer_kind_labels = {JOINT: "joint"}
    transformer_class = "SD3Transformer2DModel"
    text_encoder_slots = {"text_encoder": "clip-l", "text_encoder_2": "clip-g", "text_encoder_3": "t5"}

    # ------------------------------------------------------------------ data
    def text_layout(self, family: ModelFamily, max_sequence_length: int) -> TextLayout:
        return TextLayout((TextPart("clip", "tokenizer", 0, CLIP_ROWS, bos=1),
                           TextPart("t5", "tokenizer_3", CLIP_ROWS, int(max_sequence_length))))

    def uses_guidance_batch(self, guidance: float) -> bool:
        return guidance > 1.0

    def presets(self):
        return {AST_PAPER_SD35: ast_paper_sd35_schedule}

    # ------------------------------------------------------------------ model
    def structure_of(self, transformer) -> Structure:
        return ((JOINT, len(self._blocks(transformer))),)

    def _blocks(self, transformer):
        blocks = getattr(transformer, "transformer_blocks", None)
        if blocks is None or hasattr(transformer, "single_transformer_blocks"):
            raise ValueError(f"transformer: expected a {self.label} transformer (joint blocks only), "
                             f"got {type(transformer).__name__}")
        return blocks

    def attention_layers(self, transformer) -> list[AttentionLayer]:
        out: list[AttentionLayer] = []
        for b, block in enumerate(self._blocks(transformer)):
            out.append(AttentionLayer(len(out), b, JOINT, block.attn))
            if getattr(block, "attn2", None) is not None:
                out.append(AttentionLayer(len(out), b, IMAGE, block.attn2))
        return out

    def processor(self, layer: AttentionLayer, control, original):
        from .sd3_attention import SD3ControlledProcessor

        return SD3ControlledProcessor(layer, control, original)

    def stream_blocks(self, transformer):
        """Joint blocks only: a base stream shares the image tokens everywhere (the base pass of a
        block with ``attn2`` runs it too, on the same image tokens)."""
        return [(b, False) for b in self._blocks(transformer)]

    def encode(self, pipe, prompt: str, max_sequence_length: int, guidance: float,
               negative_prompt: str = "") -> Conditioning:
        import torch

        cfg = self.uses_guidance_batch(guidance)
        with torch.no_grad():
            embeds, negative, pooled, negative_pooled = pipe.encode_prompt(
                prompt=prompt, prompt_2=None, prompt_3=None, do_classifier_free_guidance=cfg,
                negative_prompt=negative_prompt if cfg else None, max_sequence_length=max_sequence_length)
        return Conditioning(embeds, pooled, negative if cfg else None, negative_pooled if cfg else None)

    def encode_alone(self, pipe, texts: Sequence[str], max_sequence_length: int):
        """CLIP + T5 rows of each text alone (the positive branch of the pipeline's encoding)."""
        import torch

        with torch.no_grad():
            embeds, _, _, _ = pipe.encode_prompt(
                prompt=list(texts), prompt_2=None, prompt_3=None, do_classifier_free_guidance=False,
                max_sequence_length=max_sequence_length)
        return embeds

    def call_arguments(self, conditioning: Conditioning, *, width: int, height: int, steps: int,
                       guidance: float, generator, max_sequence_length: int, num_images: int,
                       callback) -> dict[str, Any]:
        args = dict(
            prompt_embeds=conditioning.text, pooled_prompt_embeds=conditioning.pooled,
            width=width, height=height, num_inference_steps=steps, guidance_scale=guidance,
            generator=generator, max_sequence_length=max_sequence_length,
            num_images_per_prompt=num_images, output_type="pil",
            callback_on_step_end=callback, callback_on_step_end_tensor_inputs=["latents"],
        )
        if conditioning.negative_text is not None:
            args.update(negative_prompt_embeds=conditioning.negative_text,
                        negative_pooled_prompt_embeds=conditioning.negative_pooled)
        return args

    def load_folder(self, folder: str, dtype, **components):
        from diffusers import StableDiffusion3Pipeline

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            return StableDiffusion3Pipeline.from_pretrained(folder, torch_dtype=dtype, local_files_only=True,
                                                            use_safetensors=True, **components)

    # ------------------------------------------------------------------ single files
    def recognise(self, tensors: dict[str, tuple[int, ...]]) -> ModelFamily | None:
        """The original MMDiT layout (``joint_blocks.*``: sd3.5_large.safetensors, GGUF files) or
        diffusers' (joint ``transformer_blocks.*``, ``pos_embed.pos_embed``, no single blocks).
        Large and Large Turbo share one architecture: a file is reported as Large."""
        from . import sd3_single_file

        if sd3_single_file.MARKER in tensors:
            blocks = {k.split(".", 2)[1] for k in tensors if k.startswith("joint_blocks.")}
            width = tensors.get("context_embedder.weight", (1536,))[0]
        elif "pos_embed.pos_embed" in tensors and "transformer_blocks.0.attn.to_q.weight" in tensors \
                and "single_transformer_blocks.0.attn.to_q.weight" not in tensors:
            blocks = {k.split(".", 2)[1] for k in tensors if k.startswith("transformer_blocks.")}
            width = tensors.get("context_embedder.weight", (1536,))[0]
        else:
            return None
        if width < 1024:
            return TINY_SD3
        return SD35_MEDIUM if len(blocks) <= 24 else SD35_LARGE

    def recognise_lora(self, names: Sequence[str]) -> bool:
        """kohya (``lora_unet_joint_blocks_*``), original (``joint_blocks.``) and diffusers/PEFT
        (``transformer.transformer_blocks`` with ``context`` projections)."""
        joined = " ".join(names[:400])
        return "joint_blocks" in joined or ("transformer.transformer_blocks." in joined and "add_q_proj" in joined
                                            and "single_transformer_blocks" not in joined)

    def original_layout(self, state):
        from . import sd3_single_file

        return sd3_single_file.from_diffusers(state)

    def family_for(self, transformer_config: dict, marker: str | None, hint: str = "") -> ModelFamily:
        """SD3.5 Large / Large Turbo (38 blocks; Turbo told by a marker or 'turbo' in the folder
        name, the two share one architecture), Medium (24 blocks), tiny-sd3 (tiny widths)."""
        for fam in FAMILIES:
            if marker == fam.name:
                return fam
        if int(transformer_config.get("joint_attention_dim", 4096)) < 1024:
            return TINY_SD3
        if int(transformer_config.get("num_layers", 38)) <= 24:
            return SD35_MEDIUM
        return SD35_LARGE_TURBO if "turbo" in Path(hint).name.lower() else SD35_LARGE

    def build_tiny(self, family: ModelFamily, fresh: bool = False):
        from .tiny_sd3 import build_tiny_sd3

        return build_tiny_sd3(fresh=fresh)
