"""The schedule panel draws curves and heatmaps for the timesteps the engine will use."""
from __future__ import annotations

import numpy as np
import pytest

from ast_core.models.flux import AST_PAPER as AST_PAPER_FLUX
from ast_core.schedule import preset_schedule
from ast_core.schedule.timesteps import image_seq_len, run_timesteps, scheduler_timesteps


def pipeline_timesteps(scheduler, steps: int, width: int, height: int) -> np.ndarray:
    """What FluxPipeline does with its scheduler (independent of the project's rule)."""
    from diffusers.pipelines.flux.pipeline_flux import calculate_shift

    cfg = scheduler.config
    mu = calculate_shift((width // 16) * (height // 16), cfg.base_image_seq_len, cfg.max_image_seq_len,
                         cfg.base_shift, cfg.max_shift)
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / steps, steps), mu=mu)
    return np.array([float(t) for t in scheduler.timesteps])


@pytest.mark.slow  # imports diffusers (~5 s on a cold start)
@pytest.mark.parametrize("steps,width,height", [(28, 1024, 1024), (32, 1024, 1024), (4, 512, 768), (50, 2048, 2048),
                                                (12, 1344, 768), (1, 256, 256)])
def test_panel_timesteps_match_the_engines_scheduler(steps, width, height):
    from diffusers import FlowMatchEulerDiscreteScheduler

    from ast_core.models.flux import FLUX_DEV

    # FLUX.1-dev's scheduler configuration (also the built-in tiny-flux's)
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True,
                                                base_shift=0.5, max_shift=1.15, base_image_seq_len=256,
                                                max_image_seq_len=4096)
    engine = pipeline_timesteps(scheduler, steps, width, height)
    ours = run_timesteps(steps, FLUX_DEV, width, height)
    np.testing.assert_array_equal(ours, engine)  # bit for bit: the same float32 arithmetic
    # so the default curve the panel shows is exactly the engine's
    s = preset_schedule(AST_PAPER_FLUX)
    np.testing.assert_allclose(s.coefficient_table("i2t", ours), s.coefficient_table("i2t", engine), atol=1e-5)


def test_bad_step_counts_and_sizes_are_named():
    from ast_core.models.flux import FLUX_DEV

    with pytest.raises(ValueError, match="steps"):
        scheduler_timesteps(0, 4096, FLUX_DEV.scheduler)
    with pytest.raises(ValueError, match="size"):
        image_seq_len(0, 512)


@pytest.mark.slow  # imports diffusers
@pytest.mark.parametrize("family_name", ["FLUX.1-dev", "FLUX.1-schnell", "tiny-flux"])
@pytest.mark.parametrize("steps", [None, 7])
def test_the_steps_and_timesteps_of_a_run_match_each_familys_scheduler(family_name, steps):
    """"Model default" resolves to the family's own steps, and the shift is the family's scheduler's
    (FLUX.1-schnell: static 1.0; FLUX.1-dev and tiny-flux: resolution-dependent)."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    from ast_core.models import FAMILIES
    from ast_core.schedule.timesteps import steps_to_run

    family = FAMILIES[family_name]
    schnell = family_name == "FLUX.1-schnell"
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0 if schnell else 3.0,
                                                use_dynamic_shifting=not schnell, base_shift=0.5, max_shift=1.15,
                                                base_image_seq_len=256, max_image_seq_len=4096)
    n = steps_to_run(steps, family)
    assert n == (steps if steps is not None else {"FLUX.1-dev": 28}.get(family_name, 4))
    if schnell:
        scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / n, n))
        engine = np.array([float(t) for t in scheduler.timesteps])
    else:
        engine = pipeline_timesteps(scheduler, n, 768, 512)
    np.testing.assert_array_equal(run_timesteps(steps, family, 768, 512), engine)


def test_steps_to_run_refuses_nonsense_with_its_name():
    from ast_core.models.flux import TINY_FLUX
    from ast_core.schedule.timesteps import steps_to_run

    for bad in (0, -3, 2.5, True, "4"):
        with pytest.raises(ValueError, match="steps"):
            steps_to_run(bad, TINY_FLUX)


def test_the_schedule_panel_follows_the_configured_model(qtbot):
    from ast_core.models.flux import FLUX_SCHNELL
    from ast_core.schedule.timesteps import run_timesteps
    from ast_studio.document import Document
    from ast_studio.generation.commands import SetRenderSettings
    from ast_studio.generation.model_settings import ModelSettings, save_model_settings
    from ast_studio.schedule import SchedulePanel

    doc = Document()
    panel = SchedulePanel(doc)
    qtbot.addWidget(panel)
    assert panel.binding.steps == 4 and panel.heatmap.values().shape == (4, 57)  # nothing configured: tiny-flux
    save_model_settings(ModelSettings(model="FLUX.1-dev"))
    assert panel.binding.steps == 28 and panel.heatmap.values().shape == (28, 57)
    assert "28 steps (FLUX.1-dev's default)" in panel.context_label.text()
    save_model_settings(ModelSettings(model="FLUX.1-schnell"))
    s = panel.binding.schedule
    expected = s.coefficient_table("i2i", run_timesteps(None, FLUX_SCHNELL, 1024, 1024))
    np.testing.assert_array_equal(panel.heatmap.values(), expected)
    doc.undo_stack.push(SetRenderSettings(doc, {"steps": 9}))  # a number typed in the Generate panel wins
    assert panel.binding.steps == 9 and "9 steps (generation settings)" in panel.context_label.text()
    doc.undo_stack.clear()
