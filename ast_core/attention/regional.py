"""Regional prompting's attention control for one generation, on any architecture.

    ctrl = RegionalAttention(regions, region_text, steps=24, inject_steps=10, ...)
    with ctrl.installed(architecture, transformer):
        pipe(prompt_embeds=<the base prompt>, ..., callback_on_step_end=...)  # calls ctrl.step_finished(i)

The rules are the method page's ("The second seed method: regional prompting"); how they run
in this engine's adapter framework:

* **Text streams.** The pipeline always gets the plain base-prompt conditioning (text and
  pooled embedding), exactly as the ``none`` method. During the first ``inject_steps`` steps
  this control is a two-stream control (``main_text``): the adapter runs the conditional batch
  on the regions' text blocks concatenated (``R x L`` rows, the *main* stream) while the
  pipeline's base-prompt text travels through every block as the parallel *base* stream, as
  the public code's ``encoder_hidden_states_base`` does (its image tokens shared with the main
  stream in joint/double blocks, its own in single blocks: the adapter's ``stream_blocks``).
  After the inject steps ``main_text`` is None and ``acts`` is False: the transformer runs
  stock on the base prompt, so ``inject_steps = 0`` is bit-identical to ``none``.
* **Every attention call of an inject step** runs twice: the base pass (stream BASE,
  unmasked, the base text) first, its image rows kept; then the main pass (stream MAIN): the
  regional mask on blocks whose index within their kind is a multiple of the interval
  (``double_interval`` for joint/double blocks, ``single_interval`` for single blocks),
  unmasked elsewhere; its image rows become ``(1 - base_ratio) * regional + base_ratio *
  base``, on every block. The blend is taken on the attention output before the output
  projection (the projection is affine, so this equals the public code's blend after it).
* **Image-only attention** (SD3.5 Medium's ``attn2``, blocks 0-12) follows its block: the mask's
  image -> image part where the block is masked (an image token attends to the image tokens
  sharing a region with it), unmasked elsewhere, blended with its base pass (the stock
  ``attn2`` of the same tokens) by the same ratio.
* **Guidance batch** ``[negative, positive]``: only the positive half is regional; the adapter
  runs the negative half stock, on its own (the halves' text lengths differ).
* **Mask** from per-token region bits (``regional_kernel``), prepared once per run for the
  joint and the image-only sequence; nothing is cached across runs.

``probe(layer, step, query, key, value, out, masked)`` (tests, diagnostics) is called after
every attention call the control computes, base and main passes alike.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import torch

from .regional_kernel import RegionalMask, RegionTokens, plain_attention, regional_attention, resolve_backend
from .step_clock import StepClock

JOINT, SINGLE, IMAGE = "joint", "single", "image"
MAIN, BASE = "main", "base"

Probe = Callable[[Any, "int | None", torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, bool], None]


class RegionalAttention(StepClock):
    """Regional prompting for one generation (see the module docstring).

    ``regions``: the regions' image tokens and text rows; ``text`` ``[1, R * L, D]``: the
    regions' text blocks, each encoded alone, concatenated in region order. ``structure`` is
    the transformer's layer structure (``((kind, count), ...)``), which tells a block's index
    within its kind.
    """

    def __init__(
        self,
        regions: RegionTokens,
        text: torch.Tensor,
        *,
        steps: int,
        inject_steps: int,
        double_interval: int,
        single_interval: int,
        base_ratio: float,
        structure,
        guidance_batch: bool = False,
        backend: str = "auto",
        probe: Probe | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        if text.dim() != 3 or text.shape[1] != regions.text_len:
            raise ValueError(f"region text: expected [1, {regions.text_len}, D] ({regions.regions} regions x "
                             f"{regions.text_rows} rows), got {tuple(text.shape)}")
        if steps < 1:
            raise ValueError("steps: the run needs at least one step")
        if double_interval < 1 or single_interval < 1:
            raise ValueError("block intervals must be at least 1")
        if not 0.0 <= base_ratio <= 1.0:
            raise ValueError(f"base_ratio must be between 0 and 1, got {base_ratio}")
        self.regions = regions
        self.text = text
        self.steps = int(steps)
        self.inject_steps = int(inject_steps)
        self.intervals = {JOINT: int(double_interval), IMAGE: int(double_interval), SINGLE: int(single_interval)}
        self.base_ratio = float(base_ratio)
        self.guidance_batch = guidance_batch
        self.device = torch.device(device)
        self.backend = backend
        resolve_backend(backend, self.device)  # validates the name
        self.probe = probe
        self.first_layer: dict[str, int] = {}
        start = 0
        for kind, count in structure:
            self.first_layer.setdefault(kind, start)
            start += count
        self.first_layer.setdefault(IMAGE, self.first_layer.get(JOINT, 0))
        self.masks = {
            JOINT: RegionalMask(regions.joint_bits().to(self.device)),
            IMAGE: RegionalMask(regions.image_bits().to(self.device)),
        }
        self.step: int | None = None
        self.calls: Counter[str] = Counter()
        self._base: dict[int, torch.Tensor] = {}

    # ------------------------------------------------------------------ steps
    @property
    def num_steps(self) -> int:
        return self.steps

    def on_step_changed(self) -> None:
        self._base.clear()

    @property
    def injecting(self) -> bool:
        return self.step is not None and self.step < self.inject_steps

    # ------------------------------------------------------------------ TwoStreamControl
    def main_text(self) -> torch.Tensor | None:
        return self.text if self.injecting else None

    def acts(self, layer) -> bool:
        return self.injecting

    def masked(self, layer) -> bool:
        """Whether ``layer``'s main pass uses the mask (its block index within its kind is a
        multiple of the kind's interval; an image-only attention follows its joint block)."""
        kind = layer.kind
        return (layer.layer - self.first_layer.get(kind, 0)) % self.intervals.get(kind, 1) == 0

    def attend(self, layer, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
               attention_mask: torch.Tensor | None) -> torch.Tensor:
        image_only = layer.kind == IMAGE
        if layer.stream == BASE:
            out = plain_attention(query, key, value, attention_mask)
            rows = slice(None) if image_only else self.regions.image_rows(out.shape[1])
            self._base[layer.index] = out[:, rows]
            self.calls["base"] += 1
            masked = False
        else:
            if attention_mask is not None:
                raise ValueError("regional prompting: the pipeline's attention mask is not supported")
            mask = self.masks[IMAGE if image_only else JOINT]
            if query.shape[1] != mask.length:
                what = (f"{self.regions.image_len} image tokens" if image_only else
                        f"{self.regions.text_len} region text + {self.regions.image_len} image tokens")
                raise ValueError(f"regional layer {layer.layer}: the attention sequence has {query.shape[1]} "
                                 f"tokens, expected {what}")
            masked = self.masked(layer)
            if masked:
                out = regional_attention(query, key, value, mask, self.backend)
            else:
                out = plain_attention(query, key, value)
            self.calls["masked" if masked else "unmasked"] += 1
            base = self._base.pop(layer.index, None)
            if base is None:
                raise ValueError(f"regional layer {layer.layer}: no base pass ran before the main pass")
            image = out[:, slice(None) if image_only else self.regions.image_rows(out.shape[1])]
            image.mul_(1.0 - self.base_ratio).add_(base.to(out.dtype), alpha=self.base_ratio)
        if self.probe is not None:
            self.probe(layer, self.step, query, key, value, out, masked)
        return out

