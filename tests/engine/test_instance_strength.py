"""Per-instance strength: a multiplier on the coefficients of an instance's own rows.

1.0 is the method bit for bit, 0 makes the instance's rows plain attention (its control off)
while every other row is unchanged, and any value in between is exact against the dense
float64 formula with ``c`` scaled on the instance's rows (written out here by hand).
"""
from __future__ import annotations

import pytest
import torch
from shapely.geometry import box

from ast_core.attention import ASTAttention, ModulationInputs, TokenTables, build_row_groups, modulated_attention
from ast_core.document import Instance, Layout
from ast_core.generation.plan import plan_generation
from ast_core.schedule import LayerPlan

from dense_attention import dense_reference
from test_attention import FLUX, PLANS, STRENGTH, TEXT, TIMESTEPS, layered_schedule, make_inputs, qkv, run, \
    tiny_flux

ALL = LayerPlan(i2i=True, t2t=True, i2t_maps=frozenset({"instance", "background", "attribute"}))


def with_strengths(inputs: ModulationInputs, strengths) -> ModulationInputs:
    return ModulationInputs(inputs.segment_masks, inputs.text_len, inputs.segment_spans,
                            inputs.attribute_tokens, list(strengths))


def rows_of_segment(inputs: ModulationInputs, s: int) -> list[int]:
    """Joint rows (text first) that belong to segment ``s``: its span's text tokens and its image
    tokens, less those a later segment also holds (the top-most owns a shared token)."""
    T = inputs.text_len
    later_text = {t for later in inputs.segment_spans[s + 1:] for t in later}
    text = [t for t in inputs.segment_spans[s] if t not in later_text]
    masks = inputs.segment_masks
    image = [i for i in range(masks.shape[1]) if masks[s, i] and not masks[s + 1:, i].any()]
    return text + [T + i for i in image]


def row_scale(inputs: ModulationInputs, strengths) -> torch.Tensor:
    scale = torch.ones(inputs.total_len, dtype=torch.float64)
    for s in range(1, inputs.num_segments):
        scale[rows_of_segment(inputs, s)] = strengths[s]
    return scale


def attend(inputs, plan, q, k, v, heads_at_once=False):
    groups = build_row_groups(plan, STRENGTH, TokenTables(inputs, 1.0, 4.0))
    return modulated_attention(q, k, v, groups, heads_at_once=heads_at_once)


@pytest.mark.parametrize("name", sorted(PLANS))
def test_strength_one_is_bit_identical_to_the_method(name) -> None:
    inputs = make_inputs()
    ones = with_strengths(inputs, [1.0] * inputs.num_segments)
    a, b = TokenTables(inputs, 1.0, 4.0), TokenTables(ones, 1.0, 4.0)
    for field in ("a_img", "a_inst", "a_txt"):
        assert torch.equal(getattr(a, field), getattr(b, field))
    q, k, v = qkv()
    assert torch.equal(attend(inputs, PLANS[name], q, k, v), attend(ones, PLANS[name], q, k, v))


@pytest.mark.parametrize("heads_at_once", [False, True])
@pytest.mark.parametrize("segment", [1, 2, 3])
def test_strength_zero_turns_the_instances_own_rows_into_plain_attention(segment, heads_at_once) -> None:
    inputs = make_inputs()
    strengths = [1.0] * inputs.num_segments
    strengths[segment] = 0.0
    off = with_strengths(inputs, strengths)
    q, k, v = qkv(seed=segment)
    full = attend(inputs, ALL, q, k, v, heads_at_once)
    ours = attend(off, ALL, q, k, v, heads_at_once)
    plain = torch.nn.functional.scaled_dot_product_attention(  # no block modulated
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
    own = rows_of_segment(inputs, segment)
    others = [r for r in range(inputs.total_len) if r not in own]
    assert own  # every test segment owns some rows
    torch.testing.assert_close(ours[:, own], plain[:, own], atol=1e-5, rtol=0)
    torch.testing.assert_close(ours[:, others], full[:, others], atol=1e-6, rtol=0)
    assert (full[:, own] - plain[:, own]).abs().max() > 1e-3  # the instance was controlled before
    # and it equals the dense formula with c = 0 on those rows
    ref = dense_reference(q, k, v, inputs, ALL, STRENGTH, 1.0, 4.0, row_scale=row_scale(inputs, strengths))
    torch.testing.assert_close(ours.double(), ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", sorted(PLANS))
@pytest.mark.parametrize("strengths", [[1.0, 0.5, 1.0, 1.0], [1.0, 0.25, 1.7, 0.6], [1.0, 2.0, 0.0, 1.3]])
def test_any_strength_is_exact_against_the_dense_formula(name, strengths) -> None:
    inputs = with_strengths(make_inputs(), strengths)
    q, k, v = qkv(seed=4)
    for heads_at_once in (False, True):
        ours = attend(inputs, PLANS[name], q, k, v, heads_at_once)
        ref = dense_reference(q, k, v, inputs, PLANS[name], STRENGTH, 1.0, 4.0,
                              row_scale=row_scale(inputs, strengths))
        torch.testing.assert_close(ours.double(), ref, atol=1e-5, rtol=0)
    unscaled = dense_reference(q, k, v, make_inputs(), PLANS[name], STRENGTH, 1.0, 4.0)
    assert (ref - unscaled).abs().max() > 1e-4  # the strengths changed the result


def test_strength_flows_from_the_layout_into_the_processors() -> None:
    """An instance's slider value reaches every modulated layer of a real (tiny) transformer."""
    model = tiny_flux()
    inputs = make_inputs()
    strengths = [1.0, 0.0, 0.5, 1.0]
    scaled = with_strengths(inputs, strengths)
    outs = {}
    for label, ins in (("method", inputs), ("ones", with_strengths(inputs, [1.0] * 4)), ("scaled", scaled)):
        ctrl = ASTAttention(layered_schedule(), ins, TIMESTEPS)
        with ctrl.installed(FLUX, model):
            outs[label] = run(model, 0, ctrl)
    assert torch.equal(outs["method"], outs["ones"])
    assert (outs["scaled"] - outs["method"]).abs().max() > 1e-4
    layout = Layout(64, 64, "a cat and a dog", "", [
        Instance("cat", "a cat", geometry=box(0, 0, 32, 64), strength=0.0),
        Instance("dog", "a dog", geometry=box(32, 0, 64, 64), strength=1.5)])
    plan = plan_generation(layout, 64, 64)
    assert [i.strength for i in plan.instances] == [0.0, 1.5]


def test_inputs_refuse_bad_strengths() -> None:
    inputs = make_inputs()
    for bad, match in (([1.0, 1.0], "one value per segment"), ([1.0, -0.5, 1, 1], r"segment_strengths\[1\]"),
                       ([0.5, 1, 1, 1], "background's strength"), ([1.0, float("nan"), 1, 1], "number >= 0")):
        with pytest.raises(ValueError, match=match):
            with_strengths(inputs, bad)
    assert TEXT == inputs.text_len


def test_regional_prompting_says_it_ignores_strength() -> None:
    from ast_core.methods.regional import regions_of

    layout = Layout(64, 64, "a cat and a dog", "grass", [
        Instance("cat", "a cat", geometry=box(0, 0, 32, 64), strength=0.3),
        Instance("dog", "a dog", geometry=box(32, 0, 64, 64))])
    regions, warnings = regions_of(layout, plan_generation(layout, 64, 64))
    assert len(regions) == 2
    assert warnings == ["regional prompting ignores per-instance strength (an AST setting): cat rendered at "
                        "full strength"]
    layout.update_instance(layout.instances[0].id, strength=1.0)
    assert regions_of(layout, plan_generation(layout, 64, 64))[1] == []
