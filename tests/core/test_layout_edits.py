"""The document model's edit operations and their change events."""
import pytest
from shapely.geometry import box

from ast_core.document import Instance, Layout, LayoutError, next_colour


def make_layout():
    layout = Layout(512, 512, "a photo of a red car and a green bench", "a photo")
    events = []
    layout.events.connect(events.append)
    return layout, events


def test_brush_stroke_builds_a_buffered_polygon_and_merges():
    layout, events = make_layout()
    car = layout.add_instance(prompt="a red car")
    layout.paint_stroke(car.id, [(100, 100), (200, 100)], radius=10)
    # a 100 px capsule of radius 10: rectangle 100x20 + a circle of radius 10
    assert car.area == pytest.approx(100 * 20 + 3.14159 * 100, rel=0.01)
    layout.paint_stroke(car.id, [(150, 100), (150, 200)], radius=10)
    assert car.geometry.is_valid and car.geometry.geom_type == "Polygon"
    kinds = [e.kind for e in events]
    assert kinds == ["instance_added", "geometry_changed", "geometry_changed"]


def test_strokes_are_clipped_to_the_canvas():
    layout, _ = make_layout()
    inst = layout.add_instance(prompt="x")
    layout.paint_stroke(inst.id, [(-50, -50), (600, 600)], radius=20)
    x0, y0, x1, y1 = inst.geometry.bounds
    assert x0 >= 0 and y0 >= 0 and x1 <= 512 and y1 <= 512


def test_polygon_self_intersection_is_repaired_not_rejected():
    layout, _ = make_layout()
    inst = layout.add_instance(prompt="x")
    layout.paint_polygon(inst.id, [(0, 0), (100, 100), (100, 0), (0, 100)])  # a bow tie
    assert inst.geometry.is_valid and inst.area == pytest.approx(5000)
    with pytest.raises(ValueError, match="at least 3 vertices"):
        layout.paint_polygon(inst.id, [(0, 0), (1, 1)])


def test_erase_only_touches_instances_it_overlaps_and_skips_locked():
    layout, _ = make_layout()
    a = layout.add_instance(prompt="a", geometry=box(0, 0, 100, 100))
    b = layout.add_instance(prompt="b", geometry=box(200, 200, 300, 300))
    c = layout.add_instance(prompt="c", geometry=box(0, 0, 100, 100), locked=True)
    old = layout.erase_polygon([(50, 0), (100, 0), (100, 100), (50, 100)])
    assert set(old) == {a.id}
    assert a.area == pytest.approx(5000) and b.area == 10000 and c.area == 10000
    # erasing everything leaves an empty instance, reported as such
    layout.erase_polygon([(0, 0), (512, 0), (512, 512), (0, 512)], instance_ids=[a.id])
    assert a.is_empty and layout.empty_instances() == [a]


def test_locked_instances_refuse_painting():
    layout, _ = make_layout()
    inst = layout.add_instance(prompt="x", locked=True)
    with pytest.raises(LayoutError, match="locked"):
        layout.paint_stroke(inst.id, [(10, 10)], 5)


def test_move_reorder_remove_and_undo_data():
    layout, events = make_layout()
    a = layout.add_instance(prompt="a", geometry=box(0, 0, 10, 10))
    b = layout.add_instance(prompt="b")
    old = layout.translate_instance(a.id, 5, 7)
    assert a.geometry.bounds == (5, 7, 15, 17) and old.bounds == (0, 0, 10, 10)
    assert layout.move_instance(b.id, 0) == 1 and layout.instances == [b, a]
    inst, index = layout.remove_instance(b.id)
    assert (inst, index) == (b, 0)
    layout.add_instance(inst, index)
    assert layout.instances == [b, a]
    assert "order_changed" in [e.kind for e in events]


def test_update_fields_reports_old_values_and_validates():
    layout, events = make_layout()
    a = layout.add_instance(prompt="a")
    assert layout.update_instance(a.id, prompt="a red car", visible=False) == {"prompt": "a", "visible": True}
    assert events[-1].fields == ("prompt", "visible")
    with pytest.raises(ValueError, match="#rrggbb"):
        layout.update_instance(a.id, color="red")
    with pytest.raises(LayoutError, match="cannot edit"):
        layout.update_instance(a.id, geometry=None)


def test_canvas_size_must_be_multiple_of_16():
    with pytest.raises(LayoutError, match="multiple of 16"):
        Layout(1000, 1024)
    layout, _ = make_layout()
    assert layout.set_size(1344, 768) == (512, 512)


def test_missing_instance_text_is_reported():
    layout, _ = make_layout()
    ok = layout.add_instance(prompt="A red car.")
    missing = layout.add_instance(prompt="a blue moon")
    assert layout.instances_missing_from_base_prompt() == [missing]
    assert ok not in layout.instances_missing_from_base_prompt()


def test_new_instances_get_distinct_colours():
    layout, _ = make_layout()
    colours = [layout.add_instance().color for _ in range(30)]
    assert len(set(colours)) == 30
    assert next_colour(colours) not in colours


def test_copy_is_independent_and_equal():
    layout, _ = make_layout()
    layout.add_instance(Instance("car", "a red car", geometry=box(0, 0, 50, 50)))
    twin = layout.copy()
    assert twin.same_as(layout)
    twin.paint_stroke(twin.instances[0].id, [(100, 100)], 10)
    assert not twin.same_as(layout)


def test_colour_for_prompt_uses_a_named_free_colour():
    from ast_core.document import colour_for_prompt
    from ast_core.document.instance import NAMED_COLOURS

    assert colour_for_prompt("a yellow umbrella", []) == NAMED_COLOURS["yellow"]
    assert colour_for_prompt("a white bookshelf", []) == next_colour([])  # white is the background's
    taken = [NAMED_COLOURS["red"]]
    assert colour_for_prompt("a red car", taken) == next_colour(taken)  # already used: next distinct one


def test_named_colours_are_reserved_before_palette_colours():
    from ast_core.document import colours_for_prompts
    from ast_core.document.instance import NAMED_COLOURS

    out = colours_for_prompts(["a sandcastle", "a blue cloud", "a blue car"])
    assert out[1] == NAMED_COLOURS["blue"]  # not taken by the sandcastle listed before it
    assert len(set(out)) == 3 and out[0] != NAMED_COLOURS["blue"] and out[2] != NAMED_COLOURS["blue"]
