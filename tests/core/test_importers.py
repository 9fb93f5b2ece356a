"""Seed sketches, box lists and mask images in; sketches and mask files out."""
from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from PIL import Image

from ast_core.document import Instance, Layout
from ast_core.exporters import mask_files, render_sketch
from ast_core.document import PALETTE
from ast_core.document.instance import NAMED_COLOURS
from ast_core.importers import ImportFileError, colour_ranking, import_boxes, import_masks, import_seed
from ast_core.importers.naming import name_from_prompt, unique_names
from ast_core.importers.tracing import trace
from ast_core.masks import rasterize

SEEDS = {"beach": 6, "living_room": 9, "winter_night": 8}


@pytest.mark.parametrize("name,count", sorted(SEEDS.items()))
def test_seed_examples_import(seed_examples, name, count):
    png, js = seed_examples / f"{name}.png", seed_examples / f"{name}.json"
    data = json.loads(js.read_text())
    result = import_seed(png, js)
    layout = result.layout
    rgb = np.asarray(Image.open(png).convert("RGB"))
    assert (layout.width, layout.height) == (512, 512)
    assert len(layout.instances) == count
    assert layout.base_prompt == data["prompt"] and layout.background_prompt == data["segments"][0]
    assert [i.prompt for i in layout.instances] == data["segments"][1:]
    assert result.settings == {"seed": data["seed"]}
    masks = rasterize(layout)
    colours = [i.color for i in layout.instances]
    assert len(set(colours)) == count  # distinct, readable colours, named ones where the prompt says
    for inst in layout.instances:
        named = [NAMED_COLOURS[w] for w in inst.prompt.lower().split() if w in NAMED_COLOURS]
        assert inst.color in PALETTE or inst.color in NAMED_COLOURS.values()
        if named and named[0] not in colours[: layout.instances.index(inst)]:
            assert inst.color == named[0], inst.prompt
    kept = import_seed(png, js, colours="sketch").layout
    for inst, (colour, pixels) in zip(kept.instances, colour_ranking(rgb)):
        assert inst.color == "#{:02x}{:02x}{:02x}".format(*colour)
    for inst, (colour, pixels) in zip(layout.instances, colour_ranking(rgb)):
        assert abs(inst.area - pixels) <= 0.02 * pixels, (inst.name, inst.area, pixels)
        assert abs(int(masks.mask(inst.id).sum()) - pixels) <= 0.02 * pixels
        # The traced polygon sits on the colour's own pixels.
        own = (rgb == colour).all(-1)
        assert (masks.mask(inst.id, exclusive=False) & own).sum() >= 0.98 * pixels
        assert inst.name and len(inst.name) <= 40 and shapely.get_num_coordinates(inst.geometry) < 2000
    white = (rgb == 255).all(-1).sum()
    assert abs(int(masks.background.sum()) - white) <= 0.03 * white
    assert len({i.name for i in layout.instances}) == count
    assert result.warnings == []


def test_trace_keeps_holes_and_thin_lines():
    m = np.zeros((40, 40), np.uint8)
    m[5:35, 5:35] = 1
    m[15:25, 15:25] = 0
    m[2, 0:40] = 1  # one pixel wide line
    g = trace(m, tolerance=0)
    assert g.area == pytest.approx(m.sum(), abs=3)
    assert not g.contains(shapely.Point(20, 20)) and g.contains(shapely.Point(10, 10))


def test_seed_mismatches_are_warned(tmp_path):
    rgb = np.full((100, 120, 3), 255, np.uint8)
    rgb[10:50, 10:50] = (200, 0, 0)
    rgb[60:70, 60:70] = (0, 0, 200)
    rgb[0:5, 0:5] = (0, 0, 0)  # black: ignored
    Image.fromarray(rgb).save(tmp_path / "s.png")
    (tmp_path / "few.json").write_text(json.dumps({"prompt": "a red box", "segments": ["bg", "a red box"],
                                                   "seed": 2**40}))
    r = import_seed(tmp_path / "s.png", tmp_path / "few.json")
    assert r.settings == {} and any("\"seed\" 1099511627776 is not a whole number" in w for w in r.warnings)
    assert len(r.layout.instances) == 1 and r.layout.instances[0].color == NAMED_COLOURS["red"]  # "a red box"
    assert (r.layout.width, r.layout.height) == (128, 96)
    assert any("not a multiple of 16" in w for w in r.warnings)
    assert any("smallest colour" in w for w in r.warnings)
    (tmp_path / "many.json").write_text(json.dumps({"prompt": "x", "segments": ["bg", "a", "b", "c"]}))
    r = import_seed(tmp_path / "s.png", tmp_path / "many.json")
    assert len(r.layout.instances) == 3 and r.layout.instances[2].is_empty
    assert any("empty" in w for w in r.warnings)


@pytest.mark.parametrize("content,match", [
    ("[1]", "must be a JSON object"),
    ('{"prompt": 3, "segments": ["a"]}', "\"prompt\" must be a string"),
    ('{"prompt": "p", "segments": []}', "\"segments\" must be a non-empty list"),
    ('{"prompt": "p", "segments": ["a"', "not valid JSON"),
])
def test_seed_bad_prompts_file(tmp_path, seed_examples, content, match):
    (tmp_path / "p.json").write_text(content)
    with pytest.raises(ImportFileError, match=match):
        import_seed(seed_examples / "beach.png", tmp_path / "p.json")


def test_seed_bad_image(tmp_path, seed_examples):
    (tmp_path / "x.png").write_bytes(b"not an image")
    with pytest.raises(ImportFileError, match="x.png: not a readable image"):
        import_seed(tmp_path / "x.png", seed_examples / "beach.json")
    with pytest.raises(ImportFileError, match="no such file"):
        import_seed(tmp_path / "missing.png", seed_examples / "beach.json")


@pytest.mark.parametrize("name", ["beach", "winter_night"])
def test_sketch_export_round_trip(tmp_path, seed_examples, name):
    original = import_seed(seed_examples / f"{name}.png", seed_examples / f"{name}.json", colours="sketch").layout
    sketch = render_sketch(original, "out.png")
    sketch.image.save(tmp_path / "out.png")
    (tmp_path / "out.json").write_text(json.dumps(sketch.prompts))
    again = import_seed(tmp_path / "out.png", tmp_path / "out.json", colours="sketch").layout
    assert sketch.warnings == []
    assert (again.base_prompt, again.background_prompt) == (original.base_prompt, original.background_prompt)
    before = {i.prompt: (i.name, i.color, int(rasterize(original).mask(i.id).sum())) for i in original.instances}
    after = {i.prompt: (i.name, i.color, int(rasterize(again).mask(i.id).sum())) for i in again.instances}
    assert before.keys() == after.keys()
    for prompt, (name_, colour, px) in before.items():
        assert after[prompt][:2] == (name_, colour)
        assert abs(after[prompt][2] - px) <= 0.01 * px + 4, prompt


def test_sketch_export_fixes_colours_and_reports_left_out_instances():
    layout = Layout(64, 64, "two cats", "a room")
    layout.add_instance(Instance(name="white", prompt="cat", color="#ffffff", geometry=shapely.box(0, 0, 32, 32)))
    layout.add_instance(Instance(name="same", prompt="cat2", color="#ffffff", geometry=shapely.box(32, 32, 64, 64)))
    layout.add_instance(Instance(name="hidden", prompt="x", geometry=shapely.box(0, 32, 8, 40), visible=False))
    layout.add_instance(Instance(name="empty", prompt="y"))
    sketch = render_sketch(layout)
    colours = set(sketch.colours.values())
    assert len(colours) == 2 and "#ffffff" not in colours
    assert len(sketch.prompts["segments"]) == 3
    text = " ".join(sketch.warnings)
    assert "hidden" in text and "'empty' is empty" in text and "white (the background)" in text


def test_boxes_import(seed_examples):
    path = seed_examples / "regional_boxes.json"
    with pytest.raises(ImportFileError, match="holds 4 layouts.*cocktail"):
        import_boxes(path)
    r = import_boxes(path, name="three_cars")
    assert (r.layout.width, r.layout.height) == (1280, 976)
    assert any("1280x968" in w and "1280x976" in w for w in r.warnings)
    assert any("--append-to-base" in w for w in r.warnings)
    assert [i.prompt.split()[2] for i in r.layout.instances] == ["red", "blue", "yellow"]
    assert r.layout.instances[0].geometry.bounds == (0, 0, 426, 976)
    assert r.layout.base_prompt.startswith("Three high-performance")
    assert r.settings == {"seed": 124}
    r2 = import_boxes(path, index=0, append_to_base=True)
    assert r2.layout.instances_missing_from_base_prompt() == []
    assert r2.layout.base_prompt.startswith("A tropical cocktail on a wooden table")
    with pytest.raises(ImportFileError, match="out of range"):
        import_boxes(path, index=9)
    with pytest.raises(ImportFileError, match="no layout named 'nope'"):
        import_boxes(path, name="nope")


@pytest.mark.parametrize("item,match", [
    ({"width": 512, "height": 512, "base_prompt": "x", "regions": [{"description": "a", "mask": [5, 5, 2, 9]}]},
     "regions\\[0\\]: \"mask\" \\[5, 5, 2, 9\\] has no area"),
    ({"width": 512, "height": 512, "base_prompt": "x", "regions": [{"description": "a", "mask": [0, 0, 1]}]},
     "must be \\[x1, y1, x2, y2\\]"),
    ({"width": "big", "height": 512, "base_prompt": "x", "regions": []}, "\"width\" and \"height\""),
    ({"width": 512, "height": 512, "regions": []}, "\"base_prompt\" must be a string"),
    ({"width": 512, "height": 512, "base_prompt": "x", "regions": [{"mask": [0, 0, 5, 5]}]}, "\"description\""),
])
def test_bad_boxes(tmp_path, item, match):
    (tmp_path / "b.json").write_text(json.dumps(item))
    with pytest.raises(ImportFileError, match=match):
        import_boxes(tmp_path / "b.json")


def test_mask_images_import_and_export_round_trip(tmp_path):
    layout = Layout(128, 96, "a cat on a sofa", "a living room")
    layout.add_instance(Instance(name="Sofa", prompt="a sofa", geometry=shapely.box(10, 40, 120, 90)))
    layout.add_instance(Instance(name="Cat", prompt="a cat", geometry=shapely.Point(60, 45).buffer(20)))
    files, index = mask_files(layout)
    assert [f.name for f in files] == ["00_background.png", "01_sofa.png", "02_cat.png"]
    for f in files:
        f.image.save(tmp_path / f.name)
    prompts = {"base_prompt": layout.base_prompt, "background_prompt": layout.background_prompt,
               "instances": [{"prompt": i["prompt"], "name": i["name"]} for i in index["instances"]]}
    (tmp_path / "prompts.json").write_text(json.dumps(prompts))
    r = import_masks([tmp_path / "01_sofa.png", tmp_path / "02_cat.png"], tmp_path / "prompts.json")
    assert [i.name for i in r.layout.instances] == ["Sofa", "Cat"]
    a, b = rasterize(layout), rasterize(r.layout)
    for i, j in zip(layout.instances, r.layout.instances):
        assert abs(int(a.mask(i.id).sum()) - int(b.mask(j.id).sum())) <= 0.01 * a.mask(i.id).sum()
    # Seed-style prompts and no prompts at all.
    (tmp_path / "seed.json").write_text(json.dumps({"prompt": "p", "segments": ["bg", "a sofa", "a cat"]}))
    assert import_masks([tmp_path / "01_sofa.png", tmp_path / "02_cat.png"], tmp_path / "seed.json").layout.background_prompt == "bg"
    r = import_masks([tmp_path / "02_cat.png"])
    assert r.layout.instances[0].name == "02_cat" and r.warnings


def test_mask_images_errors(tmp_path):
    Image.new("L", (64, 64), 255).save(tmp_path / "a.png")
    Image.new("L", (80, 64), 255).save(tmp_path / "b.png")
    with pytest.raises(ImportFileError, match="all masks must have one size"):
        import_masks([tmp_path / "a.png", tmp_path / "b.png"])
    (tmp_path / "p.json").write_text(json.dumps({"instances": ["one", "two"]}))
    with pytest.raises(ImportFileError, match="prompts for 2 instance.*1 mask"):
        import_masks([tmp_path / "a.png"], tmp_path / "p.json")


def test_mask_files_on_token_grid():
    layout = Layout(256, 256)
    layout.add_instance(geometry=shapely.box(0, 0, 128, 256))
    files, index = mask_files(layout, grid=(16, 16))
    assert files[1].image.size == (16, 16) and index["grid"] == [16, 16]
    assert (np.asarray(files[1].image) > 0).sum() == 128


def test_names_from_prompts():
    assert name_from_prompt("a boy playing with a beach ball") == "Boy playing"
    assert name_from_prompt("A massive, radiant rainbow arches across the sky") == "Massive radiant rainbow arches"
    assert name_from_prompt("", "Instance 3") == "Instance 3"
    assert unique_names(["Car", "Car", "Car 2"]) == ["Car", "Car 3", "Car 2"]
