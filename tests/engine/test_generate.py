"""The generation API end to end on tiny-flux: seed examples, reproducibility, steps, cancel, errors."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from shapely.geometry import box

from ast_core.document import Instance, Layout
from ast_core.generate import (
    Cancelled, GenerationSettings, PromptError, SettingsError, generate, job_from_metadata, prepare,
)

SMALL = dict(width=128, height=128, steps=4, seed=7)


def _pixels(result) -> np.ndarray:
    return np.asarray(result.images[0])


def _goat_layout() -> Layout:
    return Layout(256, 256, "a white goat next to a red car on a sunny beach", "a sunny beach", [
        Instance(name="Goat", prompt="a white goat", geometry=box(0, 64, 128, 256)),
        Instance(name="Car", prompt="a red car", geometry=box(128, 0, 256, 160)),
    ])


@pytest.mark.parametrize("name", ["beach", "living_room", "winter_night"])
def test_seed_examples_render(tiny_model, seed_layout, name):
    layout = seed_layout(name)
    steps = []
    result = generate(layout, None, GenerationSettings(**SMALL), tiny_model, on_step=steps.append)
    assert len(result.images) == 1 and result.images[0].size == (128, 128)
    md = result.metadata
    assert md["method_used"] == "ast" and md["seed"] == 7 and len(steps) == 4
    assert md["schedule"]["preset"] == "AST paper (FLUX.1-dev)"
    assert len(md["segments"]) == 1 + len(layout.visible_instances())
    assert all(seg["text_rows"] for seg in md["segments"])
    assert np.asarray(result.images[0]).std() > 0


def test_same_seed_same_pixels_and_metadata_reproduces(tiny_model):
    layout = _goat_layout()
    first = generate(layout, None, GenerationSettings(**SMALL), tiny_model)
    again = generate(layout, None, GenerationSettings(**SMALL), tiny_model)
    assert np.array_equal(_pixels(first), _pixels(again))
    other_seed = generate(layout, None, GenerationSettings(**{**SMALL, "seed": 8}), tiny_model)
    assert not np.array_equal(_pixels(first), _pixels(other_seed))
    # everything needed to reproduce is in the metadata (a random seed is recorded, too)
    random_seed = generate(layout, None, GenerationSettings(width=128, height=128, steps=2), tiny_model)
    re_layout, re_schedule, re_settings = job_from_metadata(random_seed.metadata)
    assert re_settings.seed == random_seed.metadata["seed"] and re_layout.same_as(layout)
    redo = generate(re_layout, re_schedule, re_settings, tiny_model)
    assert np.array_equal(_pixels(redo), _pixels(random_seed))
    md = first.metadata
    assert md["model"]["family"] == "tiny-flux" and md["settings"]["max_sequence_length"] == 128
    assert {"ast-studio", "diffusers", "torch"} <= set(md["versions"])


def test_ast_and_none_differ(tiny_model, seed_layout):
    layout = seed_layout("beach")
    ast = generate(layout, None, GenerationSettings(**SMALL, method="ast"), tiny_model)
    plain = generate(layout, None, GenerationSettings(**SMALL, method="none"), tiny_model)
    assert plain.metadata["method_used"] == "none" and plain.metadata["schedule"] is None
    assert ast.metadata["attention_backend"] == "torch" and plain.metadata["attention_backend"] is None
    assert not np.array_equal(_pixels(ast), _pixels(plain))


def test_step_callback_and_exact_x0(tiny_model):
    layout = _goat_layout()
    steps = []
    result = generate(layout, None, GenerationSettings(width=128, height=64, steps=5, seed=3), tiny_model,
                      on_step=steps.append)
    assert [s.step for s in steps] == [1, 2, 3, 4, 5] and all(s.total == 5 for s in steps)
    assert [s.timestep for s in steps] == pytest.approx(result.metadata["timesteps"])
    assert steps[0].timestep == pytest.approx(1000.0) and steps[0].sigma == pytest.approx(1.0)
    for s in steps:
        assert tuple(s.x0.shape) == tuple(s.latents.shape) == (1, 16, 8, 16)
    # The last step goes to sigma = 0, so its latents ARE its x0 prediction (x0 = x_t - sigma * v).
    np.testing.assert_allclose(steps[-1].x0.numpy(), steps[-1].latents.numpy(), atol=1e-5)
    assert not np.allclose(steps[0].x0.numpy(), steps[0].latents.numpy(), atol=1e-3)


def test_cancel_stops_within_a_step_and_restores_processors(tiny_model):
    layout = _goat_layout()
    transformer = tiny_model.transformer
    before = dict(transformer.attn_processors)
    cancel = threading.Event()
    seen = []

    def on_step(info):
        seen.append(info.step)
        if info.step == 2:
            cancel.set()

    with pytest.raises(Cancelled) as e:
        generate(layout, None, GenerationSettings(width=128, height=128, steps=8, seed=1), tiny_model,
                 on_step=on_step, cancel=cancel)
    assert e.value.step == 2 and seen == [1, 2]
    after = transformer.attn_processors
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before)
    # a callable works too, and a flag set before the start stops before any step
    with pytest.raises(Cancelled) as e:
        generate(layout, None, GenerationSettings(width=64, height=64, steps=3), tiny_model, cancel=lambda: True)
    assert e.value.step == 0
    # the model still renders normally afterwards
    ok = generate(layout, None, GenerationSettings(width=64, height=64, steps=2, seed=1), tiny_model)
    assert ok.images[0].size == (64, 64)


def test_processors_restored_when_generation_fails(tiny_model, monkeypatch):
    layout = _goat_layout()
    transformer = tiny_model.transformer
    before = dict(transformer.attn_processors)

    def boom(info):
        raise RuntimeError("preview failed")

    with pytest.raises(RuntimeError, match="preview failed"):
        generate(layout, None, GenerationSettings(width=64, height=64, steps=2), tiny_model, on_step=boom)
    assert all(transformer.attn_processors[k] is p for k, p in before.items())


def test_instance_text_missing_is_a_prompt_error(tiny_model):
    layout = _goat_layout()
    layout.instances[1].prompt = "a blue bicycle"
    with pytest.raises(PromptError, match="instance 'Car'.*add 'a blue bicycle' to the base prompt"):
        generate(layout, None, GenerationSettings(**SMALL), tiny_model)
    # stock FLUX does not need the spans
    plain = generate(layout, None, GenerationSettings(**SMALL, method="none"), tiny_model)
    assert plain.images and plain.metadata["method_used"] == "none"


def test_empty_layout_renders_plain_with_a_warning(tiny_model):
    layout = _goat_layout()
    layout.instances[0].visible = False
    layout.instances[1].geometry = box(0, 0, 0, 0)
    result = generate(layout, None, GenerationSettings(**SMALL), tiny_model)
    assert result.metadata["method_used"] == "none"
    assert any("no visible instance" in w for w in result.warnings)
    plain = generate(layout, None, GenerationSettings(**SMALL, method="none"), tiny_model)
    assert np.array_equal(_pixels(result), _pixels(plain)) and not plain.warnings


def test_truncated_prompt_warning_reaches_the_result(tiny_model):
    layout = _goat_layout()
    layout.base_prompt = "a sunny beach, " + "a quiet afternoon, " * 12 + "a white goat next to a red car"
    result = generate(layout, None, GenerationSettings(**SMALL, max_sequence_length=32), tiny_model)
    assert any("fell off" in w and "'Goat'" in w and "'Car'" in w for w in result.warnings)
    assert result.metadata["warnings"] == result.warnings


def test_settings_validation():
    with pytest.raises(SettingsError, match="width must be a multiple of 16"):
        GenerationSettings(width=100).validate()
    with pytest.raises(SettingsError, match="steps"):
        GenerationSettings(steps=0).validate()
    with pytest.raises(SettingsError, match="method must be one of ast, regional, none"):
        GenerationSettings(method="attend-excite").validate()
    with pytest.raises(SettingsError, match="seed must be a whole number"):
        GenerationSettings(seed=1.5).validate()
    with pytest.raises(SettingsError, match="unknown generation setting"):
        GenerationSettings.from_dict({"steps": 4, "sampler": "euler"})


def test_prepare_reports_what_the_model_sees(tiny_model):
    layout = _goat_layout()
    resolved, plan = prepare(layout, GenerationSettings(width=256, height=256, seed=1), tiny_model)
    assert resolved.steps == 4 and resolved.guidance == 3.5 and plan.grid == (16, 16)
    masks = plan.segment_masks()
    assert masks.shape == (3, 256) and masks.dtype.is_floating_point is False
    grid = masks.reshape(3, 16, 16)
    assert grid[1, 15, 0] and not grid[1, 0, 0]  # goat: lower left (rows are y, row-major)
    assert grid[2, 0, 15] and grid[0, 15, 15]  # car: top right; background: bottom right
    assert (masks.sum(0) == 1).all()  # every token in exactly one segment


def test_variations_are_the_one_image_runs_of_their_seeds(tiny_model):
    """N images in one run: seeds S, S+1, ...; image k is exactly the one-image run with seed S+k,
    and its metadata records that seed (so its PNG reproduces it)."""
    layout = _goat_layout()
    small = dict(width=64, height=64, steps=2, seed=7)
    steps, stages = [], []
    batch = generate(layout, None, GenerationSettings(**small, num_images=3), tiny_model,
                     on_step=steps.append, on_stage=stages.append)
    assert len(batch.images) == 3 and len(batch.image_metadata) == 3
    pixels = [np.asarray(im) for im in batch.images]
    assert not np.array_equal(pixels[0], pixels[1]) and not np.array_equal(pixels[1], pixels[2])
    for k, md in enumerate(batch.image_metadata):
        alone = generate(layout, None, GenerationSettings(**{**small, "seed": 7 + k}), tiny_model)
        assert np.array_equal(np.asarray(alone.images[0]), pixels[k])
        assert md["seed"] == md["settings"]["seed"] == 7 + k and md["settings"]["num_images"] == 1
        assert md["image"] == {"index": k + 1, "count": 3, "first_seed": 7}
    assert batch.metadata["settings"]["num_images"] == 3 and batch.metadata["seed"] == 7
    assert [(s.image, s.step) for s in steps] == [(i, j) for i in (1, 2, 3) for j in (1, 2)]
    assert [s.text for s in stages] == ["Encoding prompts", "Image 1/3", "Decoding image 1/3", "Image 2/3",
                                        "Decoding image 2/3", "Image 3/3", "Decoding image 3/3"]
    with pytest.raises(SettingsError, match="past the largest seed"):
        GenerationSettings(seed=2**63 - 2, num_images=3).validate()


def test_cancel_during_a_later_image_keeps_the_finished_ones(tiny_model):
    flag = threading.Event()

    def on_step(info):
        if info.image == 2 and info.step == 1:
            flag.set()

    with pytest.raises(Cancelled) as e:
        generate(_goat_layout(), None, GenerationSettings(width=64, height=64, steps=3, seed=1, num_images=3),
                 tiny_model, on_step=on_step, cancel=flag)
    assert e.value.step == 1 and len(e.value.result.images) == 1
    assert e.value.result.image_metadata[0]["seed"] == 1
