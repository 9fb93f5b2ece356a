"""Install AST processors on a FluxTransformer2DModel for one generation.

    ctrl = ASTAttention(transformer, schedule, inputs, timesteps=pipe_timesteps)
    with ctrl.installed():
        pipe(...)

The controller prepares the token tables and the step x layer coefficients once, learns the
current step from the ``timestep`` the pipeline passes to the transformer (a forward
pre-hook; FLUX passes ``t/1000``), and always restores the original processors and removes
its hook on exit, also on exceptions and cancellation.
"""
from __future__ import annotations

import contextlib
import logging
from collections import Counter
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from ast_core.schedule import KINDS, LayerPlan, Schedule

from .backends import BACKENDS
from .inputs import ModulationInputs
from .kernel import BlockModulation, RowGroup
from .processor import ASTFluxAttnProcessor
from .tables import TokenTables

log = logging.getLogger(__name__)

Probe = Callable[[int, "int | None", torch.Tensor, torch.Tensor, torch.Tensor,
                  "list[RowGroup] | None"], None]


def flux_attention_modules(transformer: torch.nn.Module) -> list[torch.nn.Module]:
    """The attention modules of a FLUX transformer in layer order (double, then single)."""
    try:
        double = [blk.attn for blk in transformer.transformer_blocks]
        single = [blk.attn for blk in transformer.single_transformer_blocks]
    except AttributeError as exc:
        raise ValueError(
            "transformer: expected a FluxTransformer2DModel (transformer_blocks and "
            f"single_transformer_blocks), got {type(transformer).__name__}"
        ) from exc
    return double + single


def build_row_groups(plan: LayerPlan, coef: dict[str, float],
                     tables: TokenTables) -> list[RowGroup] | None:
    """Kernel row groups for one layer plan and per-kind strengths ``w * curve(step)``.

    Returns None when nothing acts (the caller then uses the stock attention path).
    """
    tab = tables
    T, N = tab.text_len, tab.text_len + tab.image_len
    text_blocks: list[BlockModulation] = []
    image_blocks: list[BlockModulation] = []
    if plan.t2t and coef["t2t"] != 0.0:
        text_blocks.append(BlockModulation(
            (0, T), tab.a_txt * coef["t2t"], tab.text_members, tab.text_members.t(),
            identity=True, binary=True))
    if plan.i2t and coef["i2t"] != 0.0:
        image_blocks.append(BlockModulation(
            (0, T), tab.row_factor(plan.i2t_row_factor) * coef["i2t"], tab.image_members,
            tab.i2t_columns(plan.i2t_maps)))
    if plan.i2i and coef["i2i"] != 0.0:
        image_blocks.append(BlockModulation(
            (T, N), tab.row_factor(plan.i2i_row_factor) * coef["i2i"], tab.image_members,
            tab.image_members.t()))
    if not text_blocks and not image_blocks:
        return None
    return [RowGroup((0, T), text_blocks), RowGroup((T, N), image_blocks)]


class ASTAttention:
    """AST modulation controller for one generation (see the module docstring).

    ``probe`` (optional, for diagnostics and tests) is called after every attention call with
    ``(layer, step, query, key, value, row_groups or None)``; while a probe is set every
    layer computes its own projections instead of delegating to the original processor.
    """

    def __init__(
        self,
        transformer: torch.nn.Module,
        schedule: Schedule,
        inputs: ModulationInputs,
        timesteps: Sequence[float],
        *,
        chunk_rows: int | None = None,
        probe: Probe | None = None,
        backend: str = "auto",
    ) -> None:
        self.transformer = transformer
        modules = flux_attention_modules(transformer)
        num_double = len(transformer.transformer_blocks)
        num_single = len(transformer.single_transformer_blocks)
        if (schedule.num_double, schedule.num_single) != (num_double, num_single):
            log.warning(
                "schedule has %d+%d layers, the model %d+%d: mapping it by relative position",
                schedule.num_double, schedule.num_single, num_double, num_single,
            )
            schedule = schedule.for_depth(num_double, num_single)
        else:
            schedule = schedule.copy()  # edits during the run do not change it
        self.schedule = schedule
        self.modules = modules
        self.inputs = inputs
        self.timesteps = [float(t) for t in timesteps]
        if not self.timesteps:
            raise ValueError("timesteps: the run needs at least one step")
        self.chunk_rows = chunk_rows  # None: the kernel picks by sequence length
        if backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
        self.backend = backend  # modulated layers: "auto", "triton", "flex" or "torch"
        self.probe = probe
        try:
            device = next(transformer.parameters()).device
        except StopIteration:  # pragma: no cover - a transformer always has weights
            device = torch.device("cpu")
        self.tables = TokenTables(inputs, schedule.sizereg_image, schedule.sizereg_text, device)
        # [steps, layers] effective coefficient per kind (before the row factor)
        self.coefficients = {k: schedule.coefficient_table(k, self.timesteps) for k in KINDS}
        self.plans = schedule.layer_plans()
        self.step: int | None = None
        self.calls: Counter[str] = Counter()
        self._groups: dict[tuple[int, int], list[RowGroup] | None] = {}
        self._hook: Any = None
        self._installed: list[tuple[torch.nn.Module, Any]] = []

    # ------------------------------------------------------------------ steps
    def set_step(self, step: int | None) -> None:
        """Force the current step (0-based), or None for plain attention."""
        if step is not None and not 0 <= step < len(self.timesteps):
            raise ValueError(f"step: {step} is outside 0..{len(self.timesteps) - 1}")
        if step != self.step:
            self._groups.clear()
        self.step = step

    def step_for_timestep(self, t: float) -> int | None:
        """0-based step whose scheduler timestep matches ``t`` (0..1000 scale), else None."""
        ts = np.asarray(self.timesteps)
        i = int(np.argmin(np.abs(ts - t)))
        tolerance = max(0.5, 0.01 * abs(ts[i]))  # bf16 timesteps are rounded
        return i if abs(ts[i] - t) <= tolerance else None

    def _pre_forward(self, module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        t = kwargs.get("timestep")
        if t is None and len(args) > 3:
            t = args[3]
        if t is None:
            self.set_step(None)
            return
        value = float(torch.as_tensor(t).reshape(-1)[0].float()) * 1000.0
        step = self.step_for_timestep(value)
        if step is None:
            log.warning("AST: timestep %.3f is not one of the run's timesteps; plain attention",
                        value)
        self.set_step(step)

    # ------------------------------------------------------------------ plans
    def row_groups(self, layer: int) -> list[RowGroup] | None:
        """Row groups for ``layer`` on the current step, or None where nothing acts."""
        if self.step is None:
            return None
        key = (self.step, layer)
        if key not in self._groups:
            self._groups[key] = self._build_groups(self.step, layer)
        return self._groups[key]

    def _build_groups(self, step: int, layer: int) -> list[RowGroup] | None:
        coef = {k: float(self.coefficients[k][step, layer]) for k in KINDS}
        return build_row_groups(self.plans[layer], coef, self.tables)

    def check_sequence(self, layer: int, seq_len: int, text_len: int | None) -> None:
        tab = self.tables
        if text_len is not None and text_len != tab.text_len:
            raise ValueError(
                f"AST layer {layer}: the prompt has {text_len} text tokens but the modulation "
                f"inputs were prepared for text_len={tab.text_len}"
            )
        if seq_len != tab.text_len + tab.image_len:
            raise ValueError(
                f"AST layer {layer}: joint sequence has {seq_len} tokens, expected "
                f"{tab.text_len} text + {tab.image_len} image tokens (check the image size "
                "and the segment masks' token grid)"
            )

    # ------------------------------------------------------------------ install
    def install(self) -> None:
        if self._installed:
            raise RuntimeError("AST processors are already installed")
        try:
            for layer, module in enumerate(self.modules):
                original = module.processor
                self._installed.append((module, original))
                module.set_processor(ASTFluxAttnProcessor(self, layer, original))
            self._hook = self.transformer.register_forward_pre_hook(
                self._pre_forward, with_kwargs=True)
        except BaseException:
            self.uninstall()
            raise

    def uninstall(self) -> None:
        """Restore every original processor and remove the step hook (idempotent)."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        while self._installed:
            module, original = self._installed.pop()
            module.set_processor(original)
        self.set_step(None)

    @contextlib.contextmanager
    def installed(self) -> Iterator["ASTAttention"]:
        self.install()
        try:
            yield self
        finally:
            self.uninstall()
