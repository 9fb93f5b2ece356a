"""The schedule panel draws curves and heatmaps for the timesteps the engine will use."""
from __future__ import annotations

import types

import numpy as np
import pytest

from ast_core.schedule import AST_PAPER_FLUX, preset_schedule
from ast_core.schedule.timesteps import flux_timesteps, image_seq_len


@pytest.mark.slow  # imports diffusers (~5 s on a cold start)
@pytest.mark.parametrize("steps,width,height", [(28, 1024, 1024), (32, 1024, 1024), (4, 512, 768), (50, 2048, 2048),
                                                (12, 1344, 768), (1, 256, 256)])
def test_panel_timesteps_match_the_engines_scheduler(steps, width, height):
    from diffusers import FlowMatchEulerDiscreteScheduler

    from ast_core.generate import flux_timesteps as engine_timesteps

    # FLUX.1-dev's scheduler configuration (also the built-in tiny-flux's)
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True,
                                                base_shift=0.5, max_shift=1.15, base_image_seq_len=256,
                                                max_image_seq_len=4096)
    pipe = types.SimpleNamespace(scheduler=scheduler, vae_scale_factor=8)
    engine = np.array(engine_timesteps(pipe, steps, width, height))
    ours = flux_timesteps(steps, image_seq_len(width, height))
    np.testing.assert_array_equal(ours, engine)  # bit for bit: the same float32 arithmetic
    # so the default curve the panel shows is exactly the engine's
    s = preset_schedule(AST_PAPER_FLUX)
    np.testing.assert_allclose(s.coefficient_table("i2t", ours), s.coefficient_table("i2t", engine), atol=1e-5)


def test_bad_step_counts_and_sizes_are_named():
    with pytest.raises(ValueError, match="steps"):
        flux_timesteps(0)
    with pytest.raises(ValueError, match="size"):
        image_seq_len(0, 512)
