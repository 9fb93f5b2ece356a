"""The step-layer schedule: presets, coefficients, curves, bands, JSON."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ast_core.models.flux import AST_PAPER as AST_PAPER_FLUX
from ast_core.schedule import (
    OFF,
    KeyframeCurve,
    LayerBand,
    PowerCurve,
    Schedule,
    preset_schedule,
    step_progress,
)

TIMESTEPS = np.linspace(1000.0, 1000.0 / 32, 32)


def paper_row(layer1: int) -> tuple[bool, bool, set[str], str | None]:
    """The method page's table, written out independently of the preset (1-based layer)."""
    if layer1 <= 5:
        return False, False, set(), None
    if layer1 <= 19:
        return True, True, {"instance"}, "a_inst"
    if layer1 <= 24:
        return True, True, {"instance", "background"}, "a_img"
    if layer1 <= 34:
        return True, True, {"instance", "attribute"}, "a_inst"
    if layer1 <= 50:
        return True, True, {"attribute"}, "a_inst"
    return False, False, {"attribute"}, "a_inst"


def test_paper_preset_reproduces_the_method_table() -> None:
    s = preset_schedule(AST_PAPER_FLUX)
    assert (s.structure, s.num_layers) == ((("joint", 19), ("single", 38)), 57)
    for layer in range(57):
        i2i, t2t, maps, factor = paper_row(layer + 1)
        plan = s.layer_plan(layer)
        assert (plan.i2i, plan.t2t, set(plan.i2t_maps)) == (i2i, t2t, maps), layer + 1
        if factor:
            assert plan.i2t_row_factor == factor, layer + 1
        assert plan.i2i_row_factor == "a_img"
        assert s.layer_kind(layer) == ("joint" if layer < 19 else "single")
    assert s.weights == {"i2i": 3.5, "t2t": 3.5, "i2t": 5.0}
    assert (s.sizereg_image, s.sizereg_text) == (1.0, 4.0)
    assert s.kind_boundaries() == [("joint", 0, 19), ("single", 19, 57)]


def test_coefficient_table_is_weight_times_curve_times_band() -> None:
    s = preset_schedule(AST_PAPER_FLUX)
    for kind, w in (("i2i", 3.5), ("t2t", 3.5), ("i2t", 5.0)):
        table = s.coefficient_table(kind, TIMESTEPS)
        assert table.shape == (32, 57)
        for step in range(32):
            expected_curve = (TIMESTEPS[step] / 1000.0) ** 3.0 if step < 16 else 0.0
            for layer in range(57):
                i2i, t2t, maps, _ = paper_row(layer + 1)
                acts = {"i2i": i2i, "t2t": t2t, "i2t": bool(maps)}[kind]
                assert table[step, layer] == pytest.approx(w * expected_curve * acts, abs=1e-12)
    assert s.is_active(0, 5, TIMESTEPS)
    assert not s.is_active(0, 4, TIMESTEPS)
    assert not s.is_active(16, 30, TIMESTEPS)
    assert s.step_strength("i2t", 0, TIMESTEPS) == pytest.approx(5.0)


def test_off_preset_and_zero_modulated_steps_give_zero_tables() -> None:
    off = preset_schedule(OFF)
    for kind in ("i2i", "t2t", "i2t"):
        assert not off.coefficient_table(kind, TIMESTEPS).any()
    s = preset_schedule(AST_PAPER_FLUX)
    for kind in ("i2i", "t2t", "i2t"):
        s.set_curve(kind, PowerCurve(3.0, 0))
        assert not s.coefficient_table(kind, TIMESTEPS).any()


def test_power_curve_to_keyframes_reproduces_it_at_every_step() -> None:
    curve = PowerCurve(3.0, 16)
    keys = curve.to_keyframes(TIMESTEPS)
    np.testing.assert_allclose(keys.values(TIMESTEPS), curve.values(TIMESTEPS), atol=1e-12)
    # the flat zero tail collapses to its end points
    assert keys.points[-1] == (1.0, 0.0)
    assert len(keys.points) == 18
    # keyframes survive a change of step count (normalised progress)
    assert len(keys.values(np.linspace(1000, 50, 20))) == 20


def test_keyframe_editing() -> None:
    c = KeyframeCurve(((0.0, 1.0), (1.0, 0.0)))
    assert c.value_at(0.25) == pytest.approx(0.75)
    c2 = c.with_point(0.5, 1.0)
    assert c2.points == ((0.0, 1.0), (0.5, 1.0), (1.0, 0.0))
    c3 = c2.moved(1, 2.0, 0.5)  # x clamped to its right neighbour, which it replaces
    assert c3.points == ((0.0, 1.0), (1.0, 0.5))
    assert c2.moved(1, 0.25, 0.2).points[1] == (0.25, 0.2)
    assert c2.without(1) == c
    with pytest.raises(ValueError, match="at least one keyframe"):
        KeyframeCurve(((0.5, 1.0),)).without(0)
    with pytest.raises(ValueError, match=r"points\[1\].x"):
        KeyframeCurve(((0.5, 1.0), (0.2, 1.0)))
    with pytest.raises(ValueError, match=r"points\[0\].y"):
        KeyframeCurve(((0.5, -1.0),))
    assert list(step_progress(3)) == [0.0, 0.5, 1.0]


def test_dragging_a_keyframe_changes_engine_coefficients() -> None:
    s = preset_schedule(AST_PAPER_FLUX)
    keys = s.curve("i2t").to_keyframes(TIMESTEPS)
    before = s.coefficient_table("i2t", TIMESTEPS)
    s.set_curve("i2t", keys)
    np.testing.assert_allclose(s.coefficient_table("i2t", TIMESTEPS), before, atol=1e-12)
    s.set_curve("i2t", keys.moved(3, keys.points[3][0], 0.0))
    after = s.coefficient_table("i2t", TIMESTEPS)
    assert after[3, 10] == 0.0 and before[3, 10] > 0.0
    np.testing.assert_allclose(np.delete(after, 3, axis=0), np.delete(before, 3, axis=0))


def test_setters_emit_change_events_and_validate() -> None:
    s = preset_schedule(AST_PAPER_FLUX)
    events = []
    s.changed.connect(events.append)
    s.set_weight("i2t", 2.0)
    s.set_weight("i2t", 2.0)  # no-op: no event
    s.set_size_regularisation(text=2.0)
    s.set_curve("t2t", PowerCurve(2.0, 8))
    s.set_band(0, i2i=True)
    s.move_band_edge(1, 10)
    assert [e.kind for e in events] == ["weight", "size_regularisation", "curve", "bands", "bands"]
    assert s.bands[0].end == 10 and s.bands[1].start == 10
    assert s.layer_plan(7).i2i and not s.layer_plan(7).t2t
    with pytest.raises(ValueError, match="weights.i2t"):
        s.set_weight("i2t", float("nan"))
    with pytest.raises(ValueError, match="kind"):
        s.set_weight("x2y", 1.0)
    with pytest.raises(ValueError, match=r"bands\[1\].start"):
        s.move_band_edge(1, 0)
    with pytest.raises(ValueError, match=r"bands\[0\].i2t_maps"):
        s.set_band(0, i2t_maps={"shadow"})
    with pytest.raises(ValueError, match="layer"):
        s.layer_plan(57)
    assert len(events) == 5


def test_split_and_remove_bands_keep_the_tiling() -> None:
    s = preset_schedule(AST_PAPER_FLUX)
    n = len(s.bands)
    s.split_band(10)
    assert len(s.bands) == n + 1 and s.bands[2].start == 10
    s.set_band(2, i2t_maps=set())
    assert not s.layer_plan(12).i2t and s.layer_plan(7).i2t
    s.remove_band(2)
    assert len(s.bands) == n and s.layer_plan(12).i2t
    s.remove_band(0)
    assert s.bands[0].start == 0 and s.layer_plan(0).i2i


def test_for_structure_maps_by_relative_position() -> None:
    s = preset_schedule(AST_PAPER_FLUX)
    same = s.for_structure(s.structure)
    assert same == s
    tiny = preset_schedule(AST_PAPER_FLUX, [("joint", 4), ("single", 8)])
    assert tiny.num_layers == 12
    # double: first quarter of 19 is "none" (layers 1-5), the rest instance
    assert not tiny.layer_plan(0).any
    assert tiny.layer_plan(1).i2t_maps == {"instance"}
    assert tiny.layer_plan(4).i2t_maps == {"instance", "background"}
    assert tiny.layer_plan(11).i2t_maps == {"attribute"} and not tiny.layer_plan(11).i2i
    doubled = s.for_structure([("joint", 38), ("single", 76)])
    for layer in range(114):
        src = layer // 2
        assert doubled.layer_plan(layer) == s.layer_plan(src)
    joint_only = s.for_structure([("joint", 24)])  # SD3-like: positions over the whole stack
    assert joint_only.num_layers == 24 and not joint_only.layer_plan(0).any
    assert joint_only.layer_plan(23).i2t_maps == {"attribute"}
    # the method page's SD3.5 rule: layer l (1-based) of L takes FLUX layer round(l * 57 / L)
    for total in (24, 38):
        mapped = s.for_structure([("joint", total)])
        for layer in range(total):
            src = int((layer + 1) * 57 / total + 0.5)
            assert mapped.layer_plan(layer) == s.layer_plan(min(57, max(1, src)) - 1), (total, layer)


def test_format_1_schedules_still_load() -> None:
    d = preset_schedule(AST_PAPER_FLUX).to_dict()
    d["format_version"] = 1
    d["layers"] = {"double": 19, "single": 38}
    assert Schedule.from_dict(d) == preset_schedule(AST_PAPER_FLUX)


def test_modulated_fraction_counts_the_first_share_of_the_steps() -> None:
    curve = PowerCurve(3.0, 16, modulated_fraction=0.5)
    for steps, modulated in ((4, 2), (5, 3), (1, 1), (28, 14)):
        values = curve.values(np.linspace(1000, 100, steps))
        assert (values[:modulated] > 0).all() and (values[modulated:] == 0).all(), steps
    assert curve_round_trip(curve) == curve
    with pytest.raises(ValueError, match="modulated_fraction"):
        PowerCurve(3.0, 16, modulated_fraction=1.5)


def curve_round_trip(curve):
    from ast_core.schedule import curve_from_dict

    return curve_from_dict(json.loads(json.dumps(curve.to_dict())))


def test_json_round_trip_is_stable() -> None:
    s = preset_schedule(AST_PAPER_FLUX)
    s.set_curve("i2t", s.curve("i2t").to_keyframes(TIMESTEPS))
    text = json.dumps(s.to_dict(), indent=2)
    back = Schedule.from_dict(json.loads(text))
    assert back == s
    assert json.dumps(back.to_dict(), indent=2) == text
    assert back.bands[2].to_dict()["i2t_maps"] == ["instance", "background"]
    c = s.copy()
    c.set_weight("i2i", 0.0)
    assert c != s


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d.update(format_version=99), "schedule.format_version"),
        (lambda d: d["weights"].update(i2i="big"), "schedule.weights.i2i"),
        (lambda d: d["weights"].pop("t2t"), "schedule.weights.t2t"),
        (lambda d: d["curves"]["i2t"].update(type="spline"), "schedule.curves.i2t.type"),
        (lambda d: d["curves"]["i2i"].update(decay=-1), "schedule.curves.i2i.decay"),
        (lambda d: d["curves"]["t2t"].update(modulated_steps=1.5),
         "schedule.curves.t2t.modulated_steps"),
        (lambda d: d["bands"][1].update(start=4), r"schedule.bands\[1\].start"),
        (lambda d: d["bands"][2].update(i2t_row_factor="a_txt"),
         r"schedule.bands\[2\].i2t_row_factor"),
        (lambda d: d["bands"][-1].update(end=60), r"schedule.bands\[5\].end"),
        (lambda d: d["bands"][0].update(colour=1), r"schedule.bands\[0\]: unknown"),
        (lambda d: d["size_regularisation"].update(text=None), "schedule.size_regularisation.text"),
        (lambda d: d["layers"][1].update(count=-1), r"schedule.layers\[1\].count"),
        (lambda d: d["layers"][0].update(kind="double"), r"schedule.layers\[0\].kind"),
        (lambda d: d.update(extra=1), r"schedule.\(root\): unknown"),
    ],
)
def test_from_dict_names_the_bad_field(mutate, field) -> None:
    d = preset_schedule(AST_PAPER_FLUX).to_dict()
    mutate(d)
    with pytest.raises(ValueError, match=field):
        Schedule.from_dict(d)


def test_assign_resets_to_a_preset_with_one_event() -> None:
    s = preset_schedule(AST_PAPER_FLUX)
    events = []
    s.changed.connect(events.append)
    s.assign(preset_schedule(OFF))
    assert [e.kind for e in events] == ["reset"] and s.preset == OFF
    assert not any(p.any for p in s.layer_plans())


def test_constructor_rejects_bad_bands() -> None:
    with pytest.raises(ValueError, match="gap"):
        Schedule(layers=[("joint", 2), ("single", 2)], bands=[LayerBand(0, 1), LayerBand(2, 4)])
    with pytest.raises(ValueError, match="end"):
        LayerBand(3, 3)
