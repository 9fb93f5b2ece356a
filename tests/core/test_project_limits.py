"""The limits that keep hostile project files from crashing, hanging or filling the memory (issue 17).

The fuzz test (test_project_fuzz.py) throws whole files at the reader in child processes;
these tests pin each limit and each rule on its own, with the limits made small where
reaching the real ones would be slow.
"""
from __future__ import annotations

import copy
import errno
import io
import json
import os
import random
import struct
import time
import zlib

import numpy as np
import pytest
import shapely
from PIL import Image

import ast_core.project.strict_json as strict_json
import ast_core.project.wkt_geometry as wkt
import ast_core.project.writer as writer
from ast_core.cli.info import exclusive_areas
from ast_core.document import Layout
from ast_core.document import geometry as geo
from ast_core.masks import rasterize
from ast_core.project import FieldError, Project, ProjectFileError, Render, layout_to_dict, load_project, save_project
from ast_core.project import images
from ast_core.project.strict_json import JsonBudget, parse_json

from astproj_samples import members_of, png_bytes, sample_layout, sample_project, sha, write_zip


# ----------------------------------------------------------------------------- strict JSON
def nested(depth: int) -> bytes:
    return b'{"a": ' + b"[" * depth + b"1" + b"]" * depth + b"}"


@pytest.mark.parametrize("text,match", [
    (b'{"x": 1e400}', "number 1e400 is too large"),
    (b'{"x": [-1e400]}', "number -1e400 is too large"),
    (b'{"x": 18446744073709551617}', "integer 18446744073709551617 is too large"),
    (b'{"x": ' + b"9" * 5000 + b"}", "is too large"),
    (b'{"x": NaN}', "NaN is not allowed"),
    (b'{"x": Infinity}', "Infinity is not allowed"),
    (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    (b'{"a": {"b": ["ok", "x\\ud800y"]}}', "a.b[1]: text holds a lone UTF-16 surrogate"),
    (b'{"\\udc00": 1}', "\\udc00: text holds a lone UTF-16 surrogate"),
    (nested(64), "a" + "[0]" * 20),
    (b"[" * 50_000 + b"]" * 50_000, "nested more than 64 levels deep"),
])
def test_strict_json_refuses_what_the_app_could_not_save(text, match):
    with pytest.raises(FieldError) as info:
        parse_json(text)
    assert match in str(info.value) and len(str(info.value)) < 300


@pytest.mark.parametrize("text", [nested(63), b'{"x": 1e308, "y": -1e-400, "z": 18446744073709551616}',
                                  b'{"a": "\\ud83d\\ude00 a pair is fine"}', b'{"s": "\\\\ud800 is only text"}'])
def test_strict_json_accepts_the_edges(text):
    value = parse_json(text)
    copy.deepcopy(value)  # the studio copies settings and schedules; depth 64 is far from the recursion limit
    assert parse_json(strict_json.dump_json(value)) == value


@pytest.mark.parametrize("unit", ["{}", "[]", '"ab"', "1.5", "7", "null", "true"])
def test_values_are_counted_while_parsing(unit, monkeypatch):
    monkeypatch.setattr(strict_json, "MAX_VALUES", 1000)
    ok = ("[" + ",".join([unit] * 900) + "]").encode()
    parse_json(ok)
    with pytest.raises(FieldError, match="holds more than 1000 values"):
        parse_json(("[" + ",".join([unit] * 1100) + "]").encode())


def test_a_project_has_one_budget_of_values(monkeypatch):
    budget = JsonBudget(2_500)
    parse_json(b"[" + b"0," * 1_200 + b"0]", budget)
    parse_json(b"[" + b"0," * 1_200 + b"0]", budget)
    with pytest.raises(FieldError, match="the project's JSON parts hold more than"):
        parse_json(b"[" + b"0," * 1_200 + b"0]", budget)


def test_the_reader_shares_the_value_budget_among_members(tmp_path, monkeypatch):
    path = tmp_path / "p.astproj"
    save_project(sample_project(), path)
    members = members_of(path)
    members["settings.json"] = json.dumps({"x": list(range(600))}).encode()
    members["schedule.json"] = json.dumps({"y": list(range(600))}).encode()
    write_zip(path, members)
    monkeypatch.setattr(strict_json, "MAX_PROJECT_VALUES", 1000)
    with pytest.raises(ProjectFileError, match=r"schedule\.json: the project's JSON parts hold more than 1000"):
        load_project(path)


# ----------------------------------------------------------------------------- geometry
def random_polygon(n: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    pts = [(rng.uniform(0, 250), rng.uniform(0, 190)) for _ in range(n)]
    return shapely.to_wkt(shapely.Polygon(pts), rounding_precision=-1)


def spiky(n: int, outer: float, inner: float) -> str:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.where(np.arange(n) % 2, inner, outer)
    return shapely.to_wkt(shapely.Polygon(np.c_[np.cos(t) * r, np.sin(t) * r] + 128), rounding_precision=-1)


def read(text: str):
    return wkt.GeometryReader().read(text, "g")


@pytest.mark.parametrize("text,match", [
    ("GEOMETRYCOLLECTION (" * 50_000 + ")" * 50_000, "must be a POLYGON or MULTIPOLYGON, got GEOMETRYCOLLECTION"),
    ("MULTIPOLYGON " + "(" * 50_000 + ")" * 50_000, "nested deeper than a MULTIPOLYGON has"),
    ("CURVEPOLYGON (CIRCULARSTRING (0 0, 4 0, 4 4, 0 4, 0 0))", "got CURVEPOLYGON"),
    ("POLYGON (CIRCULARSTRING (0 0, 4 0, 4 4, 0 4, 0 0))", "not valid WKT"),
    ("POLYGON ((0 0, 1e300 0, 1e300 1e300, 0 0))", "coordinates beyond"),
    ("POLYGON ((0 0, 1" + "0" * 400 + " 0, 1 1, 0 0))", "non-finite coordinates"),
    ("POLYGON ((0 0, 1０ 0, 1 1, 0 0))", "non-ASCII"),
    (random_polygon(400), "crosses itself in more than 5000 places"),
    (spiky(8_000, 5, 1), "more than 2000000 pairs of edges lie close together"),
    (spiky(30_000, 120, 20), "outline longer than"),
])
def test_geometry_refused_before_it_gets_expensive(text, match):
    started = time.process_time()
    with pytest.raises(FieldError, match=match):
        read(text)
    assert time.process_time() - started < 2.0


def test_the_quick_count_of_close_edges_bounds_the_exact_one():
    rng = np.random.default_rng(3)
    lo = rng.uniform(0, 100, 300)
    hi = lo + rng.uniform(0, 20, 300)
    brute = sum(1 for i in range(300) for j in range(i + 1, 300) if lo[i] <= hi[j] and lo[j] <= hi[i])
    assert wkt._overlapping_intervals(lo, hi) == brute
    for text in (random_polygon(60), spiky(400, 90, 20)):
        edges = wkt._Edges(shapely.from_wkt(text))
        assert edges.count_close_pairs(10**9)
        exact = wkt._Edges(shapely.from_wkt(text))
        assert exact._list_pairs(10**9) and edges.pair_count >= len(exact._pairs[0])


def test_the_vertex_cap_is_checked_before_parsing(monkeypatch):
    monkeypatch.setattr(wkt, "MAX_VERTICES", 100)
    read(spiky(98, 90, 80))
    with pytest.raises(FieldError, match="more than 100 vertices"):
        read(spiky(102, 90, 80))


def test_a_few_self_crossings_are_repaired_like_the_document_model_does():
    g = read("POLYGON ((0 0, 100 100, 100 0, 0 100, 0 0))")  # a bow tie: two triangles
    assert g.is_valid and g.area == pytest.approx(5000)
    loop = "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 2, 12 2, 12 8, 0 8, 0 0))"  # drawn over itself: stays filled
    assert read(loop).equals(geo.polygons_only(shapely.from_wkt(loop)))
    assert read(loop).area == pytest.approx(112)
    t = np.linspace(0, 2 * np.pi, 50_000, endpoint=False)
    ring = np.c_[500 + 400 * np.cos(t), 500 + 400 * np.sin(t)]
    ring[[10, 11]] = ring[[11, 10]]  # one twist in a big circle: cheap to repair
    started = time.process_time()
    assert read(shapely.to_wkt(shapely.Polygon(ring), rounding_precision=-1)).is_valid
    assert time.process_time() - started < 2.0


def test_a_layout_has_one_budget_of_vertices_and_repairs(monkeypatch):
    monkeypatch.setattr(wkt, "MAX_LAYOUT_VERTICES", 150)
    reader = wkt.GeometryReader()
    circle = spiky(60, 50, 50)
    reader.read(circle, "a")
    reader.read(circle, "b")  # the same text again (a render snapshot): parsed once, counted once
    reader.read(spiky(60, 40, 40), "c")
    with pytest.raises(FieldError, match="c2: the layout's geometries have more than 150 vertices"):
        reader.read(spiky(60, 30, 30), "c2")
    monkeypatch.setattr(wkt, "MAX_LAYOUT_REPAIR_CROSSINGS", 100)
    reader = wkt.GeometryReader()
    for seed in range(20):
        try:
            reader.read(random_polygon(14, seed), f"i{seed}")
        except FieldError as e:
            assert "the layout's invalid geometries cross themselves in more than 100 places" in str(e)
            break
    else:
        pytest.fail("the repair budget was never used up")


def test_a_layout_has_a_drawing_budget():
    layout = layout_to_dict(Layout(4096, 4096, "x", "y"))
    square = "POLYGON ((0 0, 4000 0, 4000 4000, 0 4000, 0 0))"
    base = {"name": "n", "prompt": "", "color": "#ff0000", "visible": True, "locked": False, "attribute_words": None}
    layout["instances"] = [dict(base, id=f"i{k}", geometry=square) for k in range(70)]
    from ast_core.project import layout_from_dict

    with pytest.raises(FieldError, match="instances: the instances' bounding boxes cover the canvas more than 64"):
        layout_from_dict(layout)
    layout["instances"] = layout["instances"][:60]
    assert len(layout_from_dict(layout).instances) == 60


def test_polygons_only_keeps_a_valid_multipolygon_as_it_is():
    squares = shapely.MultiPolygon([shapely.box(i * 3, j * 3, i * 3 + 2, j * 3 + 2) for i in range(60) for j in range(60)])
    started = time.process_time()
    assert geo.polygons_only(squares) is squares  # no union of 3600 parts that cannot overlap
    assert time.process_time() - started < 0.5
    with_speck = shapely.MultiPolygon([*squares.geoms, shapely.box(500, 500, 500.1, 500.1)])
    assert len(geo.polygons_only(with_speck).geoms) == 3600


def test_info_areas_match_the_masks():
    for layout in (sample_layout(), Layout(256, 192, "x", "y")):
        masks = rasterize(layout)
        areas, background = exclusive_areas(layout)
        assert areas == {iid: int(masks.instances[k].astype(bool).sum()) for k, iid in enumerate(masks.ids)}
        assert background == int(masks.background.sum())


# ----------------------------------------------------------------------------- images
def png_with_damaged_pixels() -> bytes:
    png = png_bytes((40, 30))
    pos = png.find(b"IDAT") - 4
    length = struct.unpack(">I", png[pos:pos + 4])[0]
    junk = bytes(range(length % 256)) + bytes(length - length % 256)
    return png[:pos + 8] + junk + struct.pack(">I", zlib.crc32(b"IDAT" + junk)) + png[pos + 12 + length:]


def test_png_structure_is_checked_without_decoding():
    png = png_bytes((40, 30))
    assert images.check_png_structure(png) == (40, 30)
    flipped = bytearray(png)
    flipped[png.find(b"IDAT") + 6] ^= 1
    with pytest.raises(FieldError, match="bad checksum in chunk b'IDAT'"):
        images.check_png_structure(bytes(flipped))
    with pytest.raises(FieldError, match="cut short"):
        images.check_png_structure(png[:-20])
    damaged = png_with_damaged_pixels()
    assert images.check_png_structure(damaged) == (40, 30)  # right structure: found out when shown
    with pytest.raises(FieldError, match="does not decode"):
        images.decode_png(damaged)


def test_loading_decodes_no_pixels(tmp_path, monkeypatch):
    project = sample_project()
    big = io.BytesIO()
    Image.new("I;16", (2048, 2048), 40000).save(big, format="PNG")
    project.renders += [Render(big.getvalue(), {}, layout_to_dict(project.layout), "", f"big{k}") for k in range(4)]
    path = tmp_path / "p.astproj"
    save_project(project, path)

    def no_decoding(*args, **kwargs):
        raise AssertionError("load_project decoded an image")

    monkeypatch.setattr(Image, "open", no_decoding)
    loaded = load_project(path)
    assert [r.image_png for r in loaded.renders] == [r.image_png for r in project.renders]


def test_a_render_whose_pixels_do_not_decode_loads_and_saves(tmp_path):
    project = sample_project()
    project.renders[0].image_png = png_with_damaged_pixels()
    path = tmp_path / "p.astproj"
    save_project(project, path)  # the thumbnail falls back to the layout sketch
    again = tmp_path / "again.astproj"
    save_project(load_project(path), again)
    assert load_project(again).renders[0].image_png == project.renders[0].image_png


# ----------------------------------------------------------------------------- writer
@pytest.mark.parametrize("settings,match", [
    ({"deep": json.loads(nested(70))}, "settings.json: would not read back"),
    ({"future": 2**70}, "integer 1180591620717411303424 is too large"),  # a key kept as it is
])
def test_the_writer_refuses_what_the_reader_would(tmp_path, settings, match):
    path = tmp_path / "p.astproj"
    with pytest.raises(ProjectFileError, match=match):
        save_project(Project(sample_layout(), settings=settings), path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_the_writer_refuses_too_many_renders(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "MAX_RENDERS", 1)
    project = sample_project()
    project.renders.append(Render(png_bytes(), {}, layout_to_dict(project.layout), "", "r2"))
    with pytest.raises(ProjectFileError, match="more than 1 renders"):
        save_project(project, tmp_path / "p.astproj")


def test_a_failed_save_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "scene.astproj"
    save_project(sample_project(), path)
    before = sha(path)

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writer.os, "fsync", full_disk)
    with pytest.raises(OSError) as info:
        save_project(sample_project(), path)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert str(path) in str(info.value)
    assert sha(path) == before and sorted(os.listdir(tmp_path)) == ["scene.astproj"]


def test_render_snapshots_are_checked_as_text_and_parsed_when_used(tmp_path):
    from ast_core.project import layout_from_dict

    project = sample_project()
    snapshot = project.renders[0].layout
    snapshot["instances"][0]["geometry"] = random_polygon(400)  # too tangled to repair
    path = tmp_path / "p.astproj"
    save_project(project, path)
    loaded = load_project(path)  # a snapshot is parsed when its render's layout is shown or restored
    assert loaded.renders[0].layout == snapshot
    with pytest.raises(FieldError, match=r"render\.layout\.instances\[0\]\.geometry: invalid geometry"):
        layout_from_dict(loaded.renders[0].layout, "render.layout")
    snapshot["instances"][0]["geometry"] = "GEOMETRYCOLLECTION (" * 50_000 + ")" * 50_000
    with pytest.raises(ProjectFileError, match=r"renders/r1\.json: would not read back"):
        save_project(project, path)  # the writer refuses what the reader would
    members = members_of(path)
    members["renders/r1.json"] = json.dumps({"id": "r1", "created": "", "parameters": {}, "layout": snapshot}).encode()
    write_zip(path, members)
    with pytest.raises(ProjectFileError, match=r"renders/r1\.json: layout\.instances\[0\]\.geometry: must be a POLYGON"):
        load_project(path)  # the text checks that keep GEOS safe are made at load
