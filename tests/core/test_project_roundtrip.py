"""Saving and loading .astproj files: round trips, backups, atomicity."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ast_core.document import Instance, Layout
from ast_core.project import (FORMAT_VERSION, Project, ProjectFileError, ProjectSettings, backup_path, layout_from_dict,
                              layout_to_dict, load_project, read_thumbnail, save_project)

from astproj_samples import members_of, sample_layout, sample_project, sha

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
coords = st.floats(-50, 600, allow_nan=False, allow_infinity=False)


@st.composite
def geometries(draw):
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["box", "disc", "stroke"]))
        x, y = draw(coords), draw(coords)
        if kind == "box":
            parts.append(shapely.box(x, y, x + draw(st.floats(1, 200)), y + draw(st.floats(1, 200))))
        elif kind == "disc":
            parts.append(shapely.Point(x, y).buffer(draw(st.floats(1, 80))))
        else:
            pts = draw(st.lists(st.tuples(coords, coords), min_size=2, max_size=6))
            parts.append(shapely.LineString(pts).buffer(draw(st.floats(0.5, 30))))
    g = shapely.union_all(parts) if parts else shapely.MultiPolygon()
    if parts and draw(st.booleans()):  # cut a hole / bite
        g = g.difference(shapely.Point(draw(coords), draw(coords)).buffer(draw(st.floats(1, 60))))
    return g


@st.composite
def layouts(draw):
    size = st.integers(4, 40).map(lambda n: n * 16)
    instances = []
    for _ in range(draw(st.integers(0, 5))):
        instances.append(Instance(
            name=draw(texts), prompt=draw(texts),
            color="#" + draw(st.text("0123456789abcdefABCDEF", min_size=6, max_size=6)),
            geometry=draw(geometries()), visible=draw(st.booleans()), locked=draw(st.booleans()),
            attribute_words=draw(st.none() | st.lists(texts, max_size=3)),
        ))
    return Layout(draw(size), draw(size), draw(texts), draw(texts), instances)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts(), data=st.dictionaries(texts, st.integers(-2**64, 2**64) | texts | st.booleans(), max_size=4))
def test_generated_layouts_survive_save_and_load(tmp_path, layout, data):
    path = tmp_path / "p.astproj"
    save_project(Project(layout, settings=data), path)
    loaded = load_project(path)
    assert loaded.layout.same_as(layout)
    assert loaded.settings == ProjectSettings.from_dict(data)
    assert loaded.settings.to_dict() == ProjectSettings.from_dict(data).to_dict()
    # The JSON form alone round-trips as well.
    assert layout_from_dict(layout_to_dict(layout)).same_as(layout)


def test_everything_round_trips(tmp_path):
    project = sample_project()
    path = tmp_path / "scene.astproj"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.layout.same_as(project.layout)
    assert loaded.settings == project.settings and loaded.schedule == project.schedule
    [r] = loaded.renders
    [orig] = project.renders
    assert (r.id, r.image_png, r.parameters, r.layout, r.created) == (
        orig.id, orig.image_png, orig.parameters, orig.layout, orig.created)
    assert loaded.created == project.created and loaded.modified == project.modified != ""
    names = set(members_of(path))
    assert {"manifest.json", "layout.json", "settings.json", "schedule.json", "thumbnail.png",
            "renders/r1.png", "renders/r1.json"} == names
    thumb = read_thumbnail(path)
    assert max(thumb.size) <= 256


def test_layout_json_is_readable_with_wkt_geometry(tmp_path):
    path = tmp_path / "p.astproj"
    save_project(Project(sample_layout()), path)
    text = members_of(path)["layout.json"].decode()
    assert '"geometry": "POLYGON ((' in text and "\n" in text
    manifest = members_of(path)["manifest.json"].decode()
    assert f'"format_version": {FORMAT_VERSION}' in manifest


def test_no_schedule_means_none(tmp_path):
    path = tmp_path / "p.astproj"
    save_project(Project(sample_layout()), path)
    assert "schedule.json" not in members_of(path)
    assert load_project(path).schedule is None


def test_created_is_kept_and_previous_version_becomes_backup(tmp_path):
    path = tmp_path / "p.astproj"
    project = Project(sample_layout())
    save_project(project, path)
    created = project.created
    first = sha(path)
    project.layout.set_prompts(base="changed")
    save_project(project, path)
    assert sha(backup_path(path)) == first
    assert load_project(backup_path(path)).layout.base_prompt != "changed"
    loaded = load_project(path)
    assert loaded.layout.base_prompt == "changed" and loaded.created == created
    # Recovery files do not need a backup of themselves.
    rec = tmp_path / "r.astproj"
    save_project(project, rec, keep_backup=False)
    save_project(project, rec, keep_backup=False)
    assert not backup_path(rec).exists()


def test_explicit_thumbnail_is_used(tmp_path):
    path = tmp_path / "p.astproj"
    save_project(Project(sample_layout()), path, thumbnail=Image.new("RGB", (1024, 512), (1, 2, 3)))
    thumb = read_thumbnail(path)
    assert thumb.size == (256, 128) and thumb.getpixel((5, 5)) == (1, 2, 3)


def test_thumbnail_is_the_newest_render_decoded_once_for_many_saves(tmp_path, monkeypatch):
    import io

    from ast_core.project import images
    from ast_core.project.model import Render

    def png(colour) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (512, 512), colour).save(out, "PNG")
        return out.getvalue()

    from ast_core.project.writer import render_thumbnail

    render_thumbnail.cache_clear()
    project = Project(sample_layout())
    project.renders.append(Render(png((10, 20, 30)), {}, layout_to_dict(project.layout)))
    decoded = []
    real = images.decode_png
    monkeypatch.setattr(images, "decode_png", lambda data: decoded.append(data) or real(data))

    def render_decodes() -> int:  # reading the thumbnail back decodes that one too: not counted
        return sum(any(d == r.image_png for r in project.renders) for d in decoded)

    path = tmp_path / "p.astproj"
    for _ in range(3):  # save, then two autosaves: the render is decoded for the first only
        save_project(project, path)
    assert render_decodes() == 1 and read_thumbnail(path).getpixel((5, 5)) == (10, 20, 30)
    project.renders.append(Render(png((200, 100, 0)), {}, layout_to_dict(project.layout)))  # a new render
    save_project(project, path)
    assert render_decodes() == 2 and read_thumbnail(path).getpixel((5, 5)) == (200, 100, 0)
    project.renders.clear()  # no render: the layout's picture
    save_project(project, path)
    assert read_thumbnail(path).getpixel((5, 5)) != (200, 100, 0)


def test_unserialisable_settings_refused_before_touching_the_file(tmp_path):
    path = tmp_path / "p.astproj"
    save_project(Project(sample_layout()), path)
    before = sha(path)
    with pytest.raises(ProjectFileError, match=r"p\.astproj: settings\.json: cannot be saved as JSON"):
        save_project(Project(sample_layout(), settings={"x": object()}), path)
    with pytest.raises(ProjectFileError, match="settings.json"):
        save_project(Project(sample_layout(), settings={"x": float("nan")}), path)
    assert sha(path) == before and sorted(os.listdir(tmp_path)) == ["p.astproj"]


def test_failing_replace_leaves_previous_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "p.astproj"
    save_project(Project(sample_layout()), path)
    before = sha(path)
    import ast_core.project.writer as writer

    real_replace = os.replace

    def broken_replace(src, dst):
        if Path(dst) == path:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(writer.os, "replace", broken_replace)
    changed = Project(sample_layout())
    changed.layout.set_prompts(base="new text")
    with pytest.raises(OSError):
        save_project(changed, path)
    monkeypatch.undo()
    assert sha(path) == before
    assert load_project(path).layout.base_prompt == sample_layout().base_prompt
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".saving")]


@pytest.mark.parametrize("die_at", ["write", "replace"])
def test_save_killed_midway_leaves_previous_file_loadable(tmp_path, die_at):
    path = tmp_path / "p.astproj"
    save_project(sample_project(), path)
    before = sha(path)
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        import ast_core.project.writer as writer
        from ast_core.project import load_project, save_project
        project = load_project({str(path)!r})
        project.layout.set_prompts(base="half-saved")
        real_fdopen = writer.os.fdopen
        class DyingFile:
            def __init__(self, f): self.f = f
            def __enter__(self): return self
            def __exit__(self, *a): self.f.close()
            def write(self, data):
                self.f.write(data[: len(data) // 2]); self.f.flush()
                os._exit(9)
        if {die_at!r} == "write":
            writer.os.fdopen = lambda fd, mode: DyingFile(real_fdopen(fd, mode))
        else:
            writer.os.replace = lambda src, dst: os._exit(9)
        save_project(project, {str(path)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == 9, proc.stderr.decode()
    assert sha(path) == before
    assert load_project(path).layout.base_prompt == sample_layout().base_prompt
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".saving")]
    assert leftovers  # the killed save's temp file...
    save_project(load_project(path), path)
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".saving")]  # ...is cleaned up by the next save


def test_archive_uses_no_pickle_and_only_json_and_png(tmp_path):
    path = tmp_path / "p.astproj"
    save_project(sample_project(), path)
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            assert name.endswith((".json", ".png")), name
            assert not zf.read(name).startswith(b"\x80"), name  # pickle protocol marker


def test_migrations_table_upgrades_older_files(tmp_path, monkeypatch):
    """A file of format N is upgraded by MIGRATIONS[N] before validation (simulated format N + 1)."""
    import ast_core.project.migrations as migrations

    path = tmp_path / "current.astproj"
    save_project(Project(sample_layout()), path)
    now = FORMAT_VERSION

    def upgrade(parts):
        parts["layout"]["base_prompt"] = parts["layout"]["base_prompt"].upper()
        return parts

    monkeypatch.setattr(migrations, "FORMAT_VERSION", now + 1)
    monkeypatch.setitem(migrations.MIGRATIONS, now, upgrade)
    assert load_project(path).layout.base_prompt == sample_layout().base_prompt.upper()
    monkeypatch.delitem(migrations.MIGRATIONS, now)
    with pytest.raises(ProjectFileError, match=f"no upgrade from project format {now} to {now + 1}"):
        load_project(path)


def test_layout_from_dict_names_the_field():
    from ast_core.project import FieldError

    d = layout_to_dict(sample_layout())
    d["instances"][1]["locked"] = "no"
    with pytest.raises(FieldError, match=r"instances\[1\]\.locked: must be true/false"):
        layout_from_dict(d)
