"""Edits made with the mouse in the schedule panel reach the attention controller the next
generation builds: its prepared [steps, layers] coefficients and per-layer row groups."""
from __future__ import annotations


import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from ast_core.models.flux import AST_PAPER as AST_PAPER_FLUX
from ast_core.schedule import preset_schedule
from ast_studio.document import Document
from ast_studio.schedule import SchedulePanel

pytestmark = pytest.mark.slow  # torch + diffusers + a 57-layer toy transformer (~5-15 s cold)

ROWS = COLS = 4
TEXT = 8


def toy_flux_57():
    import torch
    from diffusers import FluxTransformer2DModel

    torch.manual_seed(0)
    return FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=19, num_single_layers=38, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, guidance_embeds=False,
        axes_dims_rope=(4, 6, 6),
    ).eval()


def toy_inputs():
    import torch

    from ast_core.attention import ModulationInputs

    inst = torch.zeros(ROWS, COLS, dtype=torch.bool)
    inst[1:3, 1:3] = True
    masks = torch.stack([~inst, inst]).reshape(2, ROWS * COLS)
    return ModulationInputs(masks, TEXT, [[1, 2], [4, 5, 6]], [[], [4]])


def engine_timesteps(steps: int, width: int, height: int) -> list[float]:
    from diffusers import FlowMatchEulerDiscreteScheduler

    from diffusers.pipelines.flux.pipeline_flux import calculate_shift

    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True,
                                                base_shift=0.5, max_shift=1.15)
    mu = calculate_shift((width // 16) * (height // 16), 256, 4096, 0.5, 1.15)
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / steps, steps), mu=mu)
    return [float(t) for t in scheduler.timesteps]


def drag(widget, start: QPointF, end: QPointF, steps: int = 5) -> None:
    a, b = start.toPoint(), end.toPoint()
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, steps + 1):
        QTest.mouseMove(widget, QPoint(round(a.x() + (b.x() - a.x()) * i / steps),
                                       round(a.y() + (b.y() - a.y()) * i / steps)))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def test_mouse_edits_change_the_controllers_prepared_coefficients(qtbot):
    from ast_core.attention import ASTAttention
    from ast_studio.generation.model_settings import ModelSettings, save_model_settings

    save_model_settings(ModelSettings(model="FLUX.1-dev"))  # "Model default" steps: FLUX.1-dev's 28
    doc = Document()
    panel = SchedulePanel(doc)
    panel.resize(380, 1100)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    model, inputs = toy_flux_57(), toy_inputs()
    timesteps = engine_timesteps(28, doc.layout.width, doc.layout.height)

    def controller() -> ASTAttention:
        schedule = preset_schedule(AST_PAPER_FLUX) if doc.schedule is None else doc.schedule
        from ast_core.models import architecture

        return ASTAttention(schedule, inputs, timesteps, structure=architecture("flux").structure_of(model))

    before = controller()
    # the panel's heatmap is exactly what the engine prepares
    for kind in ("i2i", "t2t", "i2t"):
        panel.set_kind(kind)
        np.testing.assert_array_equal(panel.heatmap.values(), before.coefficients[kind])

    # 1) drag the I2T keyframe of step 5 down to strength 0.25
    panel.set_kind("i2t")
    curve = panel.curve
    x, _ = curve.points()[4]
    drag(curve, curve.keyframe_position(4), curve.to_pixel(x, 0.25))
    # 2) drag the edge where "double 6-19" starts from layer 6 to layer 10
    bands = panel.bands
    start = bands.edge_position(1)
    drag(bands, start, QPointF(bands.layer_x(9), start.y()))
    assert doc.undo_stack.count() == 2

    after = controller()
    tol = 5.0 * curve._top() / curve.plot_rect().height()  # one pixel of the plot, times w
    assert after.coefficients["i2t"][4, 10] == pytest.approx(5.0 * 0.25, abs=tol)
    assert before.coefficients["i2t"][4, 10] > after.coefficients["i2t"][4, 10] + 0.5
    expected = before.coefficients["i2t"].copy()
    expected[:, 5:9] = 0.0  # the band edge moved: nothing acts on layers 6-9 any more
    np.testing.assert_allclose(np.delete(after.coefficients["i2t"], 4, 0), np.delete(expected, 4, 0))
    np.testing.assert_array_equal(panel.heatmap.values(), after.coefficients["i2t"])

    # the row groups the processors use on step 5: layer 11 modulates I2T with the new strength
    after.set_step(4)
    groups = after.row_groups(10)
    image_blocks = groups[1].blocks
    i2t = next(b for b in image_blocks if b.columns == (0, TEXT))
    expected = after.tables.a_inst * float(after.coefficients["i2t"][4, 10])
    assert np.allclose(i2t.coef.numpy(), expected.numpy())
    # layers 6-9 no longer act at all (plain attention), before the drag they did
    before.set_step(4)
    assert before.row_groups(6) is not None
    assert all(after.row_groups(layer) is None for layer in range(5, 9))
    assert after.row_groups(9) is not None

    doc.undo_stack.undo()
    doc.undo_stack.undo()
    restored = controller()
    for kind in ("i2i", "t2t", "i2t"):
        np.testing.assert_array_equal(restored.coefficients[kind], before.coefficients[kind])
