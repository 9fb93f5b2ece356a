"""The ``regional`` method: training-free regional prompting (Chen et al. 2024, Regional-Prompting-FLUX).

The layout's instances are the regions, each with its own prompt; the background prompt covers
the area no instance covers (the base prompt when the background prompt is empty). Region
masks are each instance's *raw* coverage on the token grid, so where instances overlap a token
belongs to several regions (and sees several texts); the background region is exactly the
uncovered tokens, never negative. Each region prompt is encoded alone by the architecture's
encoder (``encode_alone``: T5 rows, or CLIP + T5 rows) and the blocks are concatenated; the
pooled embedding and every step after the inject steps use the base prompt. The attention
rules and how they run: :mod:`ast_core.attention.regional`.

Parameters (typed, edited through the registry): ``inject_steps`` (10), ``double_interval``
(1), ``single_interval`` (2), ``base_ratio`` (0.2), the public examples' values; the examples
run 24 steps (the step count stays a generation setting).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import ControlMethod, MethodRun, Parameter

MISSING_PROMPT = "instance '{name}' has no prompt: regional prompting needs one for every instance"


@dataclass
class Region:
    """One region of a run: its prompt and its image tokens (``mask`` [HW] bool, row-major)."""

    name: str
    prompt: str
    instance_id: str | None  # None: the background region
    mask: Any


def regions_of(layout, plan) -> tuple[list[Region], list[str]]:
    """The regions of a planned layout (instances bottom to top, then the background) and warnings."""
    import numpy as np
    import torch

    from ..prompts import PromptError

    warnings: list[str] = []
    adjusted = [inst.name for inst in plan.instances if inst.strength != 1.0]
    if adjusted:  # a multiplier on AST's coefficients: regional prompting has none to scale
        warnings.append("regional prompting ignores per-instance strength (an AST setting): "
                        + ", ".join(adjusted[:5]) + (" ..." if len(adjusted) > 5 else "")
                        + " rendered at full strength")
    cols, rows = plan.grid
    regions: list[Region] = []
    raw = plan.masks.raw >= 0.5 if plan.masks.soft else plan.masks.raw
    for inst, mask in zip(plan.instances, raw):
        if not inst.prompt.strip():
            raise PromptError(MISSING_PROMPT.format(name=inst.name))
        if not mask.any():
            warnings.append(f"instance '{inst.name}' covers no token of the {plan.width}x{plan.height} image "
                            "(too small): regional prompting leaves it out")
            continue
        regions.append(Region(inst.name, inst.prompt, inst.id,
                              torch.from_numpy(np.ascontiguousarray(mask.reshape(-1)))))
    covered = torch.zeros(rows * cols, dtype=torch.bool)
    for r in regions:
        covered |= r.mask
    if not bool(covered.all()):
        prompt = layout.background_prompt
        if not prompt.strip():
            prompt = layout.base_prompt
            warnings.append("the background prompt is empty: the uncovered area's region uses the base prompt")
        regions.append(Region("background", prompt, None, ~covered))
    return regions, warnings


class RegionalMethod(ControlMethod):
    name = "regional"
    label = "Regional prompting"
    description = ("Chen et al. 2024 (arXiv 2411.02395): during the first steps each instance's prompt, "
                   "and the background prompt on the uncovered area, drives only its own area through a region "
                   "attention mask, blended with the base prompt. Instance text need not occur in the base "
                   "prompt. The public examples use 24 steps.")
    parameters = (
        Parameter("inject_steps", "Regional steps", "int", 10, 0, 500,
                  help="Steps, from the first, that run the regional attention; later steps see the base prompt "
                       "alone. 0 renders as the plain model. The public examples use 10 of 24 steps."),
        Parameter("double_interval", "Double-block interval", "int", 1, 1, 64,
                  help="Mask every N-th double-stream (joint) block, from the first; the other blocks attend "
                       "unmasked over the region texts. Image-only attentions follow their block. 1 = every block."),
        Parameter("single_interval", "Single-block interval", "int", 2, 1, 64,
                  help="Mask every N-th single-stream block, from the first; 1 = every block. Models without "
                       "single-stream blocks ignore it."),
        Parameter("base_ratio", "Base ratio", "float", 0.2, 0.0, 1.0, step=0.05,
                  help="Share of the base prompt's attention in every image token's output during the regional "
                       "steps: 0 = the regions alone, 1 = the base prompt alone. The public examples use 0.1-0.3."),
    )
    needs_text_in_base_prompt = False
    missing_prompt = MISSING_PROMPT
    prompts_note = "Each region's prompt is used on its own; the base prompt drives the base pass."

    def start(self, model, layout, settings, plan, timesteps, *, schedule=None, parameters=None) -> MethodRun:
        arch, pipe = model.architecture, model.pipeline
        T = settings.max_sequence_length
        cond = arch.encode(pipe, layout.base_prompt, T, settings.guidance)
        if plan.empty:
            return MethodRun("none", cond)
        from ..attention import attention_device
        from ..attention.regional import RegionalAttention
        from ..attention.regional_kernel import RegionTokens

        values = self.check_parameters(parameters)
        regions, warnings = regions_of(layout, plan)
        if not any(r.instance_id is not None for r in regions):
            return MethodRun("none", cond, warnings=warnings + ["no instance covers a token: rendered the base "
                                                                "prompt plainly, without regional prompting"])
        import torch

        rows = arch.text_layout(model.family, T).length
        texts = arch.encode_alone(pipe, [r.prompt for r in regions], T)
        if texts.shape[1] != rows:
            raise ValueError(f"region text: the encoder gave {texts.shape[1]} rows, the text layout has {rows}")
        tokens = RegionTokens(torch.stack([r.mask for r in regions]), rows, arch.order)
        control = RegionalAttention(
            tokens, texts.reshape(1, -1, texts.shape[-1]), steps=len(timesteps),
            inject_steps=values["inject_steps"], double_interval=values["double_interval"],
            single_interval=values["single_interval"], base_ratio=values["base_ratio"],
            structure=arch.structure_of(model.transformer),
            guidance_batch=arch.uses_guidance_batch(settings.guidance),
            device=attention_device(model.transformer),
        )
        record = {"regions": [{"name": r.name, "prompt": r.prompt, "instance_id": r.instance_id,
                               "image_tokens": int(r.mask.sum())} for r in regions],
                  "text_rows_per_region": rows}
        return MethodRun("regional", cond, control, warnings, record)

    def save_masks(self, model, layout, settings, folder):
        """The region masks on the token grid and the attention mask of the masked blocks, as
        pictures, plus ``regions.json`` (see :func:`~ast_core.generation.mask_files.save_regional_masks`)."""
        from ..generate import prepare
        from ..generation.mask_files import save_regional_masks

        resolved, plan = prepare(layout, settings, model)
        regions, _ = regions_of(layout, plan) if not plan.empty else ([], [])
        rows = model.architecture.text_layout(model.family, resolved.max_sequence_length).length
        return save_regional_masks(plan, regions, rows, model.architecture.order, folder,
                                   self.check_parameters(resolved.method_parameters))
