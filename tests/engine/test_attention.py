"""AST attention: kernel and FLUX processors against a dense float64 form of the formula."""
from __future__ import annotations


import pytest
import torch
from diffusers import FluxTransformer2DModel
from diffusers.models.transformers import transformer_flux

from ast_core.attention import (
    ASTAttention,
    ModulationInputs,
    TokenTables,
    build_row_groups,
    modulated_attention,
)
from ast_core.models import architecture
from ast_core.schedule import LayerBand, LayerPlan, PowerCurve, Schedule

FLUX = architecture("flux")

from dense_attention import dense_reference  # noqa: E402  (the float64 form of the formula)


# ----------------------------------------------------------------------------- inputs

GRID = (5, 6)  # rows, cols
TEXT = 16


def make_inputs(text_len: int = TEXT, grid=GRID) -> ModulationInputs:
    """Three instances, two overlapping, three pixels in no segment, a long span, padding."""
    rows, cols = grid
    hw = rows * cols
    inst = torch.zeros(3, rows, cols, dtype=torch.bool)
    inst[0, 0:3, 0:3] = True
    inst[1, 2:5, 2:5] = True          # overlaps instance 1 on [2, 2]
    inst[2, 0:2, 4:6] = True
    covered = inst.any(0)
    background = ~covered
    background[4, 0] = background[4, 1] = background[3, 0] = False  # pixels in no segment
    masks = torch.cat([background[None], inst]).reshape(4, hw)
    spans = [[1, 2], list(range(3, 11)), [11, 12], [12, 13, 14]]  # 0 and 15: end/padding
    attrs = [[], [3, 4], [], [14]]
    return ModulationInputs(masks, text_len, spans, attrs)


PLANS = {
    "i2i": LayerPlan(i2i=True),
    "t2t": LayerPlan(t2t=True),
    "i2t-instance": LayerPlan(i2t_maps=frozenset({"instance"}), i2t_row_factor="a_inst"),
    "i2t-instance-background": LayerPlan(i2i=True, t2t=True,
                                         i2t_maps=frozenset({"instance", "background"}),
                                         i2t_row_factor="a_img"),
    "i2t-instance-attribute": LayerPlan(i2i=True, t2t=True,
                                        i2t_maps=frozenset({"instance", "attribute"})),
    "attribute-only": LayerPlan(i2t_maps=frozenset({"attribute"})),
    "all-maps-a_inst-i2i": LayerPlan(i2i=True, t2t=True, i2i_row_factor="a_inst",
                                     i2t_maps=frozenset({"instance", "background",
                                                         "attribute"})),
}
STRENGTH = {"i2i": 3.5, "t2t": 3.5 * 0.7, "i2t": 5.0}


def qkv(B=2, N=TEXT + 30, H=2, D=8, seed=0, spread=2.0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, N, H, D, generator=g) * spread for _ in range(3)]


# ----------------------------------------------------------------------------- kernel


@pytest.mark.parametrize("name", sorted(PLANS))
@pytest.mark.parametrize("chunk_rows, workers, heads_at_once",
                         [(None, None, None), (7, 1, False), (5, 3, False), (6, None, True)])
def test_kernel_equals_dense_formula(name, chunk_rows, workers, heads_at_once) -> None:
    inputs = make_inputs()
    tables = TokenTables(inputs, 1.0, 4.0)
    q, k, v = qkv()
    groups = build_row_groups(PLANS[name], STRENGTH, tables)
    ours = modulated_attention(q, k, v, groups, chunk_rows=chunk_rows, workers=workers,
                               heads_at_once=heads_at_once)
    ref = dense_reference(q, k, v, inputs, PLANS[name], STRENGTH, 1.0, 4.0)
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours.double(), ref, atol=1e-5, rtol=0)
    # the modulation does something: the plain result is far away
    plain = dense_reference(q, k, v, inputs, LayerPlan(), STRENGTH, 1.0, 4.0)
    assert (plain - ref).abs().max() > 1e-3


@pytest.mark.parametrize("heads_at_once", [False, True])
def test_strong_weights_stay_exact_through_the_overflow_guard(heads_at_once) -> None:
    """Weights far above the demo's push the exponents out of float range without the guard."""
    inputs = make_inputs()
    tables = TokenTables(inputs, 1.0, 4.0)
    q, k, v = qkv(spread=3.0, seed=3)
    strong = {"i2i": 120.0, "t2t": 120.0, "i2t": 120.0}
    plan = PLANS["all-maps-a_inst-i2i"]
    ours = modulated_attention(q, k, v, build_row_groups(plan, strong, tables), heads_at_once=heads_at_once)
    ref = dense_reference(q, k, v, inputs, plan, strong, 1.0, 4.0)
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours.double(), ref, atol=1e-4, rtol=0)


@pytest.mark.parametrize("heads_at_once", [False, True])
def test_value_head_size_may_differ_from_the_key_head_size(heads_at_once) -> None:
    inputs = make_inputs()
    tables = TokenTables(inputs, 1.0, 4.0)
    q, k, _ = qkv(D=8)
    v = torch.randn(q.shape[0], q.shape[1], q.shape[2], 5, generator=torch.Generator().manual_seed(9))
    plan = PLANS["i2t-instance-attribute"]
    ours = modulated_attention(q, k, v, build_row_groups(plan, STRENGTH, tables), heads_at_once=heads_at_once)
    assert ours.shape == v.shape  # like SDPA: the value's head size
    ref = dense_reference(q, k, v, inputs, plan, STRENGTH, 1.0, 4.0)
    torch.testing.assert_close(ours.double(), ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("heads_at_once", [False, True])
def test_kernel_with_additive_and_bool_masks(heads_at_once) -> None:
    inputs = make_inputs()
    tables = TokenTables(inputs, 1.0, 4.0)
    q, k, v = qkv(seed=3)
    N = q.shape[1]
    keep = torch.ones(2, 1, 1, N, dtype=torch.bool)
    keep[:, :, :, 15] = False  # mask a padding token out
    bias = torch.randn(N, N, generator=torch.Generator().manual_seed(5))
    plan = PLANS["i2t-instance-attribute"]
    groups = build_row_groups(plan, STRENGTH, tables)
    for mask in (keep, bias):
        ours = modulated_attention(q, k, v, groups, attn_mask=mask, chunk_rows=9,
                                   heads_at_once=heads_at_once)
        ref = dense_reference(q, k, v, inputs, plan, STRENGTH, 1.0, 4.0, mask=mask)
        torch.testing.assert_close(ours.double(), ref, atol=1e-5, rtol=0)
    # rows with no modulated block go through SDPA with the same mask
    t2t_only = build_row_groups(PLANS["t2t"], STRENGTH, tables)
    ours = modulated_attention(q, k, v, t2t_only, attn_mask=keep, heads_at_once=heads_at_once)
    ref = dense_reference(q, k, v, inputs, PLANS["t2t"], STRENGTH, 1.0, 4.0, mask=keep)
    torch.testing.assert_close(ours.double(), ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("mode", ["inference", "no_grad"])
def test_kernel_workers_follow_the_callers_grad_mode(mode) -> None:
    tables = TokenTables(make_inputs(), 1.0, 4.0)
    groups = build_row_groups(PLANS["i2i"], STRENGTH, tables)
    q, k, v = qkv()
    expected = modulated_attention(q, k, v, groups, workers=1)
    context = torch.inference_mode() if mode == "inference" else torch.no_grad()
    with context:
        q2, k2, v2 = q.clone(), k.clone(), v.clone()
        out = modulated_attention(q2, k2, v2, groups, workers=2)
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)


def test_size_factors_follow_the_formula() -> None:
    inputs = make_inputs()
    t = TokenTables(inputs, 1.0, 4.0)
    segs = inputs.segment_masks.float()
    # pixel 14 = (2, 2) is in instances 1 and 2: |m1| = 9, |m2| = 9 -> a_img = 1 - 18/30
    assert torch.isclose(t.a_img[14], torch.tensor(1 - 18 / 30))
    assert torch.isclose(t.a_inst[14], torch.tensor(1 - 18 / 30))
    # an uncovered pixel has factor 1; a background pixel differs between a_img and a_inst
    assert t.a_img[24] == 1.0 and segs[:, 24].sum() == 0
    bg_pixel = int(torch.nonzero(segs[0])[0])
    assert t.a_inst[bg_pixel] == 1.0 and t.a_img[bg_pixel] < 1.0
    # token 12 is in two spans ([11, 12] and [12, 13, 14]): its row of M_tt has 4 ones
    assert torch.isclose(t.a_txt[12], torch.tensor(1 - 4 * 4 / 16))
    assert torch.isclose(t.a_txt[3], torch.tensor(1 - 4 * 8 / 16))  # an 8-token span
    assert t.a_txt[15] == 1 - 4 * 1 / 16  # padding: only the identity


def test_inputs_validation_names_the_field() -> None:
    masks = torch.zeros(2, 4, dtype=torch.bool)
    with pytest.raises(ValueError, match="segment_spans"):
        ModulationInputs(masks, 8, [[1]])
    with pytest.raises(ValueError, match=r"segment_spans\[1\]"):
        ModulationInputs(masks, 8, [[1], [9]])
    with pytest.raises(ValueError, match=r"attribute_tokens\[1\]"):
        ModulationInputs(masks, 8, [[1], [2, 3]], [[], [4]])
    with pytest.raises(ValueError, match=r"attribute_tokens\[0\]"):
        ModulationInputs(masks, 8, [[1], [2, 3]], [[1], []])
    with pytest.raises(ValueError, match="segment_masks"):
        ModulationInputs(torch.full((2, 4), 0.5), 8, [[1], [2]])


# ----------------------------------------------------------------------------- processors


def tiny_flux(num_double: int = 2, num_single: int = 2, seed: int = 0) -> FluxTransformer2DModel:
    torch.manual_seed(seed)
    model = FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=num_double, num_single_layers=num_single,
        attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
        pooled_projection_dim=32, guidance_embeds=False, axes_dims_rope=(4, 6, 6),
    )
    return model.eval()


def model_inputs(grid=GRID, text_len=TEXT, seed=1):
    rows, cols = grid
    g = torch.Generator().manual_seed(seed)
    img_ids = torch.zeros(rows, cols, 3)
    img_ids[..., 1] = torch.arange(rows)[:, None]
    img_ids[..., 2] = torch.arange(cols)[None, :]
    return dict(
        hidden_states=torch.randn(1, rows * cols, 16, generator=g),
        encoder_hidden_states=torch.randn(1, text_len, 32, generator=g),
        pooled_projections=torch.randn(1, 32, generator=g),
        img_ids=img_ids.reshape(-1, 3),
        txt_ids=torch.zeros(text_len, 3),
        return_dict=False,
    )


TIMESTEPS = [1000.0, 750.0, 500.0, 250.0]


def layered_schedule(weights=None, modulated_steps=3) -> Schedule:
    bands = [
        LayerBand(0, 1, i2i=True, t2t=True, i2t_maps={"instance"}),
        LayerBand(1, 2, i2t_maps={"background"}, i2t_row_factor="a_img"),
        LayerBand(2, 3, i2i=True, t2t=True, i2t_maps={"instance", "background", "attribute"},
                  i2t_row_factor="a_img", i2i_row_factor="a_inst"),
        LayerBand(3, 4, i2t_maps={"attribute"}),
    ]
    curve = PowerCurve(1.5, modulated_steps)
    return Schedule(layers=[("joint", 2), ("single", 2)], bands=bands,
                    weights=weights or {"i2i": 3.5, "t2t": 3.5, "i2t": 5.0},
                    curves={"i2i": curve, "t2t": curve, "i2t": curve})


def run(model, step: int, ctrl: ASTAttention | None = None, **extra):
    """One transformer forward at ``step`` (the controller is told the step, as the pipeline's
    step callback does)."""
    if ctrl is not None:
        ctrl.set_step(step)
    with torch.inference_mode():  # as the pipeline runs it
        return model(timestep=torch.tensor([TIMESTEPS[step] / 1000.0]), **model_inputs(),
                     **extra)[0]


@pytest.mark.parametrize("step", [0, 2])
def test_processors_equal_dense_formula_in_double_and_single_blocks(step, monkeypatch) -> None:
    model = tiny_flux()
    schedule = layered_schedule()
    inputs = make_inputs()
    ctrl = ASTAttention(schedule, inputs, TIMESTEPS)
    with ctrl.installed(FLUX, model):
        ours = run(model, step, ctrl)
    assert ctrl.calls["modulated"] == 4 and ctrl.calls["stock"] == 0

    # reference: the stock FLUX processor with its attention replaced by the dense formula
    plans = schedule.layer_plans()
    strengths = schedule.step_strengths(TIMESTEPS)
    calls = []

    def dense_dispatch(query, key, value, attn_mask=None, **_):
        layer = len(calls)
        calls.append(layer)
        strength = {kind: float(strengths[kind][step]) for kind in strengths}
        return dense_reference(query, key, value, inputs, plans[layer], strength, 1.0, 4.0
                               ).to(query.dtype)

    monkeypatch.setattr(transformer_flux, "dispatch_attention_fn", dense_dispatch)
    assert type(model.transformer_blocks[0].attn.processor).__name__ == "FluxAttnProcessor"
    ref = run(model, step)
    assert len(calls) == 4
    torch.testing.assert_close(ours, ref, atol=2e-5, rtol=1e-5)
    monkeypatch.undo()
    assert (run(model, step) - ours).abs().max() > 1e-4  # AST changed the output


def test_zero_weights_or_zero_modulated_steps_equal_stock_exactly() -> None:
    model = tiny_flux()
    inputs = make_inputs()
    stock = run(model, 0)
    for schedule in (layered_schedule(weights={"i2i": 0.0, "t2t": 0.0, "i2t": 0.0}),
                     layered_schedule(modulated_steps=0)):
        ctrl = ASTAttention(schedule, inputs, TIMESTEPS)
        with ctrl.installed(FLUX, model):
            out = run(model, 0, ctrl)
        assert torch.equal(out, stock)
        assert ctrl.calls["modulated"] == 0 and ctrl.calls["stock"] == 4
    # past the modulated steps the layer is plain attention as well
    ctrl = ASTAttention(layered_schedule(modulated_steps=2), inputs, TIMESTEPS)
    stock1, stock3 = run(model, 1), run(model, 3)
    with ctrl.installed(FLUX, model):
        assert torch.equal(run(model, 3, ctrl), stock3)
        assert not torch.equal(run(model, 1, ctrl), stock1)
    assert ctrl.calls["modulated"] == 4 and ctrl.calls["stock"] == 4


def test_original_processors_come_back_after_an_exception() -> None:
    model = tiny_flux()
    before = {name: proc for name, proc in model.attn_processors.items()}
    ctrl = ASTAttention(layered_schedule(), make_inputs(), TIMESTEPS)
    with pytest.raises(RuntimeError, match="cancelled"):
        with ctrl.installed(FLUX, model):
            assert all(type(p).__name__ == "FluxControlledProcessor"
                       for p in model.attn_processors.values())
            run(model, 0)
            raise RuntimeError("cancelled")
    after = model.attn_processors
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before)
    assert not model._forward_pre_hooks and not model._forward_hooks
    assert ctrl.step is None
    # and it can be installed again
    with ctrl.installed(FLUX, model):
        run(model, 0)
    assert all(model.attn_processors[n] is before[n] for n in before)


def test_step_comes_from_the_pipeline_step_callback() -> None:
    """Install starts at step 0; each ``step_finished(i)`` (the pipeline's callback) moves on;
    past the last step the layers are plain. No timestep matching: a timestep that is none of
    the run's changes nothing."""
    model = tiny_flux()
    seen = []
    ctrl = ASTAttention(layered_schedule(), make_inputs(), TIMESTEPS,
                        probe=lambda layer, step, *_: seen.append((layer, step)))
    with ctrl.installed(FLUX, model):
        for i in range(len(TIMESTEPS)):
            with torch.no_grad():
                model(timestep=torch.tensor([0.123]), **model_inputs())
            ctrl.step_finished(i)
        assert ctrl.step is None
    assert [s for layer, s in seen if layer == 0] == [0, 1, 2, 3]
    assert ctrl.step is None


def test_schedule_of_another_depth_is_mapped_and_wrong_sizes_are_named() -> None:
    model = tiny_flux()
    from ast_core.models.flux import AST_PAPER
    from ast_core.schedule import preset_schedule
    ctrl = ASTAttention(preset_schedule(AST_PAPER), make_inputs(), TIMESTEPS,
                        structure=FLUX.structure_of(model))
    assert ctrl.schedule.structure == (("joint", 2), ("single", 2))
    wrong = ASTAttention(layered_schedule(), make_inputs(text_len=20), TIMESTEPS)
    with wrong.installed(FLUX, model), pytest.raises(ValueError, match="text"):
        run(model, 0, wrong)
    assert all(type(p).__name__ == "FluxAttnProcessor" for p in model.attn_processors.values())


# ----------------------------------------------------------------------------- T2T map


def test_t2t_map_and_row_factors_by_hand() -> None:
    """Six text tokens, two spans ([1, 2] and [3, 4, 5]), token 0 in none; sizereg_text 4."""
    masks = torch.tensor([[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=torch.bool)
    inputs = ModulationInputs(masks, 6, [[], [1, 2], [3, 4, 5]])
    t = TokenTables(inputs, 1.0, 4.0)
    expected = torch.tensor([
        [1, 0, 0, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1, 1],
    ], dtype=torch.float32)
    assert torch.equal(t.t2t_map, expected)
    # a_txt = 1 - 4 * rowsum / 6
    assert torch.allclose(t.a_txt, torch.tensor([1 / 3, -1 / 3, -1 / 3, -1.0, -1.0, -1.0]))


def test_t2t_overlapping_spans_are_set_not_summed() -> None:
    """One instance's text inside another's: entries stay 1, the rows count each token once."""
    masks = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=torch.bool)
    inputs = ModulationInputs(masks, 6, [[], [1, 2, 3], [2, 3]])
    t = TokenTables(inputs, 1.0, 4.0)
    assert float(t.t2t_map.max()) == 1.0
    assert t.t2t_map[2].tolist() == [0, 1, 1, 1, 0, 0]
    assert t.t2t_map[1].tolist() == [0, 1, 1, 1, 0, 0]
    assert t.t2t_map[5].tolist() == [0, 0, 0, 0, 0, 1]
    assert torch.isclose(t.a_txt[2], torch.tensor(1 - 4 * 3 / 6))
    # the kernel sees the same set map (text rows only, T2T block only)
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(1, 6 + 3, 2, 8, generator=g) * 2 for _ in range(3))
    plan = LayerPlan(t2t=True)
    groups = build_row_groups(plan, {"i2i": 0.0, "t2t": 3.0, "i2t": 0.0}, t)
    ref = dense_reference(q, k, v, inputs, plan, {"i2i": 0.0, "t2t": 3.0, "i2t": 0.0}, 1.0, 4.0)
    for heads_at_once in (False, True):
        out = modulated_attention(q, k, v, groups, heads_at_once=heads_at_once, chunk_rows=4)
        assert torch.allclose(out.double(), ref, atol=1e-5, rtol=0), heads_at_once


@pytest.mark.parametrize("heads_at_once", [False, True])
def test_every_layer_of_the_paper_schedule_equals_the_dense_formula(heads_at_once,
                                                                    monkeypatch) -> None:
    """tiny FLUX with FLUX.1-dev's 19 + 38 layers and the paper's table: on each modulated step
    every layer's attention (real projections, rotary embedding) equals the dense float64 form."""
    import functools

    from ast_core.attention import controller
    from ast_core.models.flux import AST_PAPER
    from ast_core.schedule import preset_schedule

    model = tiny_flux(19, 38)
    schedule = preset_schedule(AST_PAPER)
    timesteps = [1000.0, 900.0, 700.0, 400.0]
    inputs = make_inputs()
    plans = schedule.layer_plans()
    strengths = schedule.step_strengths(timesteps)
    worst: dict[int, float] = {}

    def probe(layer, step, q, k, v, groups):
        if groups is None:
            return
        strength = {kind: float(strengths[kind][step]) for kind in strengths}
        ours = modulated_attention(q, k, v, groups, heads_at_once=heads_at_once)
        ref = dense_reference(q, k, v, inputs, plans[layer], strength, 1.0, 4.0)
        err = float((ours.double() - ref).norm() / ref.norm())
        worst[layer] = max(worst.get(layer, 0.0), err)

    monkeypatch.setattr(controller, "modulated_attention",
                        functools.partial(modulated_attention, heads_at_once=heads_at_once))
    ctrl = ASTAttention(schedule, inputs, timesteps, probe=probe)
    with ctrl.installed(FLUX, model):
        for step in (0, 2):
            ctrl.set_step(step)
            with torch.inference_mode():
                model(timestep=torch.tensor([timesteps[step] / 1000.0]), **model_inputs())
    # layers 5..56 act in the paper's table (double 6-19, every single block)
    assert sorted(worst) == list(range(5, 57))
    assert max(worst.values()) < 1e-5, max(worst.items(), key=lambda kv: kv[1])
