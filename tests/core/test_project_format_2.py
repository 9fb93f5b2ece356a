"""Project format 2: per-instance strength in layout.json and the canvas background picture.

Format-1 files (every example of the repository was written in format 1) read with strength
1.0 everywhere and no background; format 2 round-trips both; damaged parts are refused naming
the member and field, as for every other part.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ast_core.document import Instance
from ast_core.project import (FORMAT_VERSION, CanvasBackground, FieldError, Project, ProjectFileError,
                              layout_from_dict, layout_to_dict, load_project, save_project)

from astproj_samples import as_json, members_of, png_bytes, png_claiming, sample_layout, write_zip

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "beach.astproj"


def test_strength_is_written_and_read_back():
    layout = sample_layout()
    layout.update_instance("fox", strength=0.25)
    d = layout_to_dict(layout)
    assert [i["strength"] for i in d["instances"]] == [0.25, 1.0, 1.0]
    assert layout_from_dict(d).instance("fox").strength == 0.25
    del d["instances"][0]["strength"]  # written before strengths existed
    assert layout_from_dict(d).instance("fox").strength == 1.0


@pytest.mark.parametrize("bad", [-0.1, 2.5, "1", True, None, 1e400])
def test_a_bad_strength_is_refused_naming_the_field(bad):
    d = layout_to_dict(sample_layout())
    d["instances"][1]["strength"] = bad
    with pytest.raises(FieldError, match=r"instances\[1\]\.strength"):
        layout_from_dict(d)


def test_layout_edits_check_the_strength():
    layout = sample_layout()
    with pytest.raises(ValueError, match="strength must be a number from 0 to 2"):
        layout.update_instance("fox", strength=3)
    with pytest.raises(ValueError, match="strength"):
        Instance("x", strength=float("nan"))
    assert not Instance("x", id="a").same_as(Instance("x", id="a", strength=0.5))


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="example project not built")
def test_a_format_1_file_reads_with_full_strength_and_saves_as_format_2(tmp_path):
    assert json.loads(members_of(EXAMPLE)["manifest.json"])["format_version"] == 1
    project = load_project(EXAMPLE)
    assert project.layout.instances and all(i.strength == 1.0 for i in project.layout.instances)
    assert project.background is None
    out = tmp_path / "beach.astproj"
    save_project(project, out)
    members = members_of(out)
    assert json.loads(members["manifest.json"])["format_version"] == FORMAT_VERSION == 2
    assert all(i["strength"] == 1.0 for i in json.loads(members["layout.json"])["instances"])
    assert load_project(out).layout.same_as(project.layout)


def test_a_format_1_file_ignores_background_members(tmp_path):
    """Format 1 had no background: such members are unknown members there, ignored as before."""
    path = tmp_path / "p.astproj"
    save_project(Project(sample_layout(), background=CanvasBackground(png_bytes())), path)
    members = members_of(path)
    manifest = json.loads(members["manifest.json"])
    manifest["format_version"] = 1
    layout = json.loads(members["layout.json"])
    for inst in layout["instances"]:
        del inst["strength"]
    members.update({"manifest.json": as_json(manifest), "layout.json": as_json(layout),
                    "background.json": b"not even json"})
    project = load_project(write_zip(tmp_path / "v1.astproj", members))
    assert project.background is None and project.layout.instance("fox").strength == 1.0


def test_the_background_round_trips(tmp_path):
    picture = png_bytes((48, 30), (10, 120, 200))
    background = CanvasBackground(picture, opacity=0.35, visible=False, name="photo.jpg")
    path = tmp_path / "p.astproj"
    save_project(Project(sample_layout(), background=background), path)
    members = members_of(path)
    assert members["background.png"] == picture
    assert json.loads(members["background.json"]) == {"opacity": 0.35, "visible": False, "name": "photo.jpg"}
    assert load_project(path).background == background
    save_project(Project(sample_layout()), path)  # removing it removes the members
    assert "background.png" not in members_of(path) and load_project(path).background is None


def damaged(tmp_path, change) -> ProjectFileError:
    path = tmp_path / "p.astproj"
    save_project(Project(sample_layout(), background=CanvasBackground(png_bytes())), path)
    members = members_of(path)
    change(members)
    bad = write_zip(tmp_path / "bad.astproj", members)
    before = bad.read_bytes()
    with pytest.raises(ProjectFileError) as info:
        load_project(bad)
    assert str(bad) in str(info.value) and bad.read_bytes() == before
    return info.value


@pytest.mark.parametrize("change, member, problem", [
    (lambda m: m.update({"background.json": as_json({"opacity": 4})}), "background.json", "opacity"),
    (lambda m: m.update({"background.json": as_json({"opacity": 0.5, "tint": 1})}), "background.json",
     "unknown field"),
    (lambda m: m.update({"background.json": as_json([1, 2])}), "background.json", "must be a JSON object"),
    (lambda m: m.update({"background.json": as_json({"name": "x" * 2000})}), "background.json", "longer than"),
    (lambda m: m.pop("background.png"), "background.png", "missing from the archive"),
    (lambda m: m.pop("background.json"), "background.json", "missing from the archive"),
    (lambda m: m.update({"background.png": b"GIF89a not a png"}), "background.png", "not a PNG"),
    (lambda m: m.update({"background.png": png_claiming(100_000, 100_000)}), "background.png", "larger than"),
])
def test_a_damaged_background_is_refused_naming_the_member(tmp_path, change, member, problem):
    err = damaged(tmp_path, change)
    assert member in str(err) and problem in str(err)


def test_a_future_format_is_refused_before_its_background_is_read(tmp_path):
    def future(m):
        manifest = json.loads(m["manifest.json"])
        manifest["format_version"] = FORMAT_VERSION + 1
        m["manifest.json"] = as_json(manifest)
        m["background.json"] = b"{broken"
    assert "newer AST Studio" in str(damaged(tmp_path, future))


def test_background_values_are_checked():
    with pytest.raises(ValueError, match="opacity must be a number from 0 to 1"):
        CanvasBackground(png_bytes(), opacity=1.5)
    with pytest.raises(ValueError, match="PNG bytes"):
        CanvasBackground(b"jpeg")
    b = CanvasBackground(png_bytes()).with_changes(opacity=0.8)
    assert b.opacity == 0.8 and b.visible
