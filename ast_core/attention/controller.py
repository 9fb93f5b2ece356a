"""The AST attention control for one generation, on any architecture.

    ctrl = ASTAttention(schedule, inputs, timesteps, order=architecture.order)
    with ctrl.installed(architecture, transformer):     # step 0 until the pipeline says otherwise
        pipe(..., callback_on_step_end=lambda p, i, t, kw: (ctrl.step_finished(i), {})[1])

The controller prepares the token tables and the step x layer coefficients once per
generation. The current step comes from the pipeline's own step callback
(:meth:`step_finished`), never from matching timesteps. The architecture adapter installs its
processors with this controller as their :class:`~ast_core.models.AttentionControl` and always
restores the originals (also on exceptions and cancellation).

Row groups follow the architecture's joint order (text first or image first) and the
attention kind: joint and single layers see the whole joint sequence, an image-only
attention (SD3.5 Medium's ``attn2``) its block's I2I modulation. With a classifier-free
guidance batch ``[negative, positive]`` only the positive half is modulated; the negative
half runs the stock attention.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F

from ast_core.schedule import KINDS, LayerPlan, Schedule

from .backends import BACKENDS
from .inputs import ModulationInputs
from .kernel import BlockModulation, RowGroup, modulated_attention
from .step_clock import StepClock
from .tables import TokenTables

log = logging.getLogger(__name__)

TEXT_FIRST, IMAGE_FIRST = "text_first", "image_first"
IMAGE_ONLY = "image"  # the attention kind of an image-only module

Probe = Callable[[int, "int | None", torch.Tensor, torch.Tensor, torch.Tensor,
                  "list[RowGroup] | None"], None]


def _spans(order: str, text_len: int, image_len: int) -> tuple[tuple[int, int], tuple[int, int]]:
    if order == TEXT_FIRST:
        return (0, text_len), (text_len, text_len + image_len)
    if order == IMAGE_FIRST:
        return (image_len, image_len + text_len), (0, image_len)
    raise ValueError(f"order: expected {TEXT_FIRST!r} or {IMAGE_FIRST!r}, got {order!r}")


def build_row_groups(plan: LayerPlan, coef: dict[str, float], tables: TokenTables,
                     order: str = TEXT_FIRST, kind: str = "joint") -> list[RowGroup] | None:
    """Kernel row groups for one layer plan and per-kind strengths ``w * curve(step)``.

    ``order`` places the text and image rows of the joint sequence; ``kind="image"`` is an
    image-only attention (its sequence is the image tokens, I2I acts alone). Returns None
    when nothing acts (the caller then uses the stock attention path).
    """
    tab = tables
    if kind == IMAGE_ONLY:
        if not (plan.i2i and coef["i2i"] != 0.0):
            return None
        hw = (0, tab.image_len)
        return [RowGroup(hw, [BlockModulation(
            hw, tab.row_factor(plan.i2i_row_factor) * coef["i2i"], tab.image_members,
            tab.image_members.t())])]
    text, image = _spans(order, tab.text_len, tab.image_len)
    text_blocks: list[BlockModulation] = []
    image_blocks: list[BlockModulation] = []
    if plan.t2t and coef["t2t"] != 0.0:
        text_blocks.append(BlockModulation(
            text, tab.a_txt * coef["t2t"], tab.text_members, tab.text_members.t(),
            identity=True, binary=True))
    if plan.i2t and coef["i2t"] != 0.0:
        image_blocks.append(BlockModulation(
            text, tab.row_factor(plan.i2t_row_factor) * coef["i2t"], tab.image_members,
            tab.i2t_columns(plan.i2t_maps)))
    if plan.i2i and coef["i2i"] != 0.0:
        image_blocks.append(BlockModulation(
            image, tab.row_factor(plan.i2i_row_factor) * coef["i2i"], tab.image_members,
            tab.image_members.t()))
    if not text_blocks and not image_blocks:
        return None
    groups = [RowGroup(text, text_blocks), RowGroup(image, image_blocks)]
    return sorted(groups, key=lambda g: g.rows[0])


class ASTAttention(StepClock):
    """AST modulation for one generation (see the module docstring).

    ``structure`` is the transformer's layer structure (the schedule is mapped onto it by
    relative depth when it was written for another). ``guidance_batch``: the transformer
    gets ``[negative, positive]`` halves and only the positive one is modulated.
    ``probe`` (optional, diagnostics and tests) is called after every attention call with
    ``(layer, step, query, key, value, row_groups or None)``; while a probe is set every layer
    computes its own projections instead of delegating to the original processor.
    """

    def __init__(
        self,
        schedule: Schedule,
        inputs: ModulationInputs,
        timesteps: Sequence[float],
        *,
        order: str = TEXT_FIRST,
        structure=None,
        guidance_batch: bool = False,
        chunk_rows: int | None = None,
        probe: Probe | None = None,
        device: torch.device | str = "cpu",
        backend: str = "auto",
    ) -> None:
        _spans(order, 1, 1)  # validates the order
        if structure is not None and tuple(structure) != schedule.structure:
            log.info("schedule written for %s, the model has %s: mapping it by relative depth",
                     schedule.structure, tuple(structure))
            schedule = schedule.for_structure(structure)
        else:
            schedule = schedule.copy()  # edits during the run do not change it
        self.schedule = schedule
        self.inputs = inputs
        self.order = order
        self.guidance_batch = guidance_batch
        self.timesteps = [float(t) for t in timesteps]
        if not self.timesteps:
            raise ValueError("timesteps: the run needs at least one step")
        self.chunk_rows = chunk_rows  # None: the kernel picks by sequence length
        if backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
        self.backend = backend  # modulated layers: "auto", "triton", "flex" or "torch"
        self.probe = probe
        self.tables = TokenTables(inputs, schedule.sizereg_image, schedule.sizereg_text, device)
        # [steps, layers] effective coefficient per kind (before the row factor)
        self.coefficients = {k: schedule.coefficient_table(k, self.timesteps) for k in KINDS}
        self.plans = schedule.layer_plans()
        self.step: int | None = None
        self.calls: Counter[str] = Counter()
        self._groups: dict[tuple[int, int, str], list[RowGroup] | None] = {}

    # ------------------------------------------------------------------ steps
    @property
    def num_steps(self) -> int:
        return len(self.timesteps)

    def on_step_changed(self) -> None:
        self._groups.clear()

    # ------------------------------------------------------------------ plans
    def row_groups(self, layer: int, kind: str = "joint") -> list[RowGroup] | None:
        """Row groups for schedule ``layer`` (attention ``kind``) on the current step, or None."""
        if self.step is None:
            return None
        key = (self.step, layer, kind)
        if key not in self._groups:
            coef = {k: float(self.coefficients[k][self.step, layer]) for k in KINDS}
            self._groups[key] = build_row_groups(self.plans[layer], coef, self.tables, self.order, kind)
        return self._groups[key]

    def check_sequence(self, layer: int, seq_len: int, kind: str) -> None:
        tab = self.tables
        expected = tab.image_len if kind == IMAGE_ONLY else tab.text_len + tab.image_len
        if seq_len != expected:
            what = f"{tab.image_len} image tokens" if kind == IMAGE_ONLY else \
                f"{tab.text_len} text + {tab.image_len} image tokens"
            raise ValueError(
                f"AST layer {layer}: the attention sequence has {seq_len} tokens, expected {what} "
                "(check the image size, the text length and the segment masks' token grid)")

    # ------------------------------------------------------------------ AttentionControl
    def acts(self, layer) -> bool:
        if self.probe is not None:
            return True
        groups = self.row_groups(layer.layer, layer.kind)
        if groups is None:
            self.calls["stock"] += 1
        return groups is not None

    def attend(self, layer, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
               attention_mask: torch.Tensor | None) -> torch.Tensor:
        self.check_sequence(layer.layer, query.shape[1], layer.kind)
        groups = self.row_groups(layer.layer, layer.kind)
        if groups is None:
            self.calls["stock"] += 1
            out = _stock(query, key, value, attention_mask)
        else:
            self.calls["modulated"] += 1
            out = self._modulated(query, key, value, groups, attention_mask)
        if self.probe is not None:
            self.probe(layer.layer, self.step, query, key, value, groups)
        return out

    def _modulated(self, query, key, value, groups, attention_mask) -> torch.Tensor:
        if not self.guidance_batch:
            return modulated_attention(query, key, value, groups, attn_mask=attention_mask,
                                       chunk_rows=self.chunk_rows, backend=self.backend)
        half = query.shape[0] // 2
        if attention_mask is not None:
            raise ValueError("AST: an attention mask with a guidance batch is not supported")
        out = torch.empty(query.shape[:-1] + (value.shape[-1],), dtype=query.dtype, device=query.device)
        out[:half] = _stock(query[:half], key[:half], value[:half], None)
        out[half:] = modulated_attention(query[half:], key[half:], value[half:], groups,
                                         chunk_rows=self.chunk_rows, backend=self.backend)
        return out


def _stock(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
           attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Plain attention, ``[B, N, H, D]`` in and out (as the stock processors compute it)."""
    out = F.scaled_dot_product_attention(query.transpose(1, 2), key.transpose(1, 2),
                                         value.transpose(1, 2), attn_mask=attention_mask)
    return out.transpose(1, 2)


def attention_device(transformer: Any) -> torch.device:
    try:
        return next(transformer.parameters()).device
    except StopIteration:  # pragma: no cover - a transformer always has weights
        return torch.device("cpu")
