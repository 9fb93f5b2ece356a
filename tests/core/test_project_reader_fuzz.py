"""The .astproj reader on hostile or broken files: one error type, a clear message, nothing written."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

import ast_core.project.reader as reader
from ast_core.project import FORMAT_VERSION, ProjectFileError, load_project, read_thumbnail, save_project

from astproj_samples import as_json, members_of, png_bytes, png_claiming, sample_project, sha, write_zip


@pytest.fixture
def good(tmp_path) -> Path:
    path = tmp_path / "good.astproj"
    save_project(sample_project(), path)
    return path


def refused(path: Path, match: str = "") -> ProjectFileError:
    """Loading ``path`` raises ProjectFileError naming the file; the folder is left as it was."""
    before = sha(path) if path.is_file() else None
    listing = sorted(os.listdir(path.parent))
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    if match:
        assert match in message, message
    if before is not None:
        assert sha(path) == before
    assert sorted(os.listdir(path.parent)) == listing
    return info.value


def variant(good: Path, name: str, **changes) -> Path:
    """A copy of the good project with some members replaced (None = removed)."""
    members = members_of(good)
    for member, data in changes.items():
        member = member.replace("__", "/").replace("_json", ".json").replace("_png", ".png")
        if data is None:
            members.pop(member)
        else:
            members[member] = data
    return write_zip(good.parent / name, members)


def edited_json(good: Path, member: str, edit) -> bytes:
    value = json.loads(members_of(good)[member])
    edit(value)
    return as_json(value)


def test_missing_file_and_folder(tmp_path):
    refused(tmp_path / "nope.astproj", "no such file")
    with pytest.raises(ProjectFileError, match="not a file"):
        load_project(tmp_path)


@pytest.mark.parametrize("cut", [0, 1, 10, 100, 0.5, 0.9, -22, -1])
def test_truncated(good, cut):
    data = good.read_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else (cut if cut >= 0 else len(data) + cut)
    path = good.with_name("cut.astproj")
    path.write_bytes(data[:n])
    refused(path)


@pytest.mark.parametrize("seed", range(6))
def test_random_bytes(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / "noise.astproj"
    head = b"PK\x03\x04" if seed % 2 else b""
    path.write_bytes(head + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000))))
    refused(path)


def test_flipped_bytes_never_escape_as_other_errors(good):
    data = bytearray(good.read_bytes())
    rng = random.Random(1234)
    path = good.with_name("flipped.astproj")
    outcomes = set()
    for _ in range(60):
        mutated = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(mutated))
        try:
            load_project(path)
            outcomes.add("loaded")
        except ProjectFileError as e:
            assert str(e).startswith(str(path))
            outcomes.add("refused")
    assert "refused" in outcomes


def test_not_a_project_zip(tmp_path):
    refused(write_zip(tmp_path / "other.astproj", {"readme.txt": b"hello"}), "manifest.json: missing")


@pytest.mark.parametrize("member", ["layout.json", "renders/r1.png", "renders/r1.json"])
def test_missing_member(good, member):
    members = members_of(good)
    members.pop(member)
    refused(write_zip(good.with_name("m.astproj"), members), f"{member}: missing")


BAD_LAYOUT_EDITS = {
    "width as text": (lambda d: d.update(width="512"), "layout.json: width: must be a number"),
    "width not multiple of 16": (lambda d: d.update(width=500), "multiple of 16"),
    "width huge": (lambda d: d.update(width=10**9), "layout.json"),
    "width bool": (lambda d: d.update(width=True), "width: must be a number"),
    "no base prompt": (lambda d: d.pop("base_prompt"), "base_prompt: missing"),
    "instances object": (lambda d: d.update(instances={}), "instances: must be a list"),
    "instance not object": (lambda d: d["instances"].append(3), "instances[3]: must be a JSON object"),
    "colour number": (lambda d: d["instances"][0].update(color=123), "instances[0].color: must be a string"),
    "colour bad": (lambda d: d["instances"][0].update(color="red"), "instances[0].color"),
    "visible text": (lambda d: d["instances"][1].update(visible="yes"), "instances[1].visible: must be true/false"),
    "no geometry": (lambda d: d["instances"][1].pop("geometry"), "instances[1].geometry: missing"),
    "geometry garbage": (lambda d: d["instances"][0].update(geometry="POLYGON ((0 0, 1"), "not valid WKT"),
    "geometry point": (lambda d: d["instances"][0].update(geometry="POINT (1 2)"), "POLYGON or MULTIPOLYGON"),
    "geometry nan": (lambda d: d["instances"][0].update(geometry="POLYGON ((0 0, nan 0, 1 1, 0 0))"),
                     "instances[0].geometry"),
    "attribute words": (lambda d: d["instances"][0].update(attribute_words=["ok", 5]), "attribute_words[1]"),
    "duplicate id": (lambda d: d["instances"][1].update(id=d["instances"][0]["id"]), "instances[1].id"),
    "empty id": (lambda d: d["instances"][1].update(id=""), "instances[1].id"),
    "unknown field": (lambda d: d["instances"][0].update(colour="#ffffff"), "unknown field"),
    "not an object": (lambda d: d.clear(), "width: missing"),
}


@pytest.mark.parametrize("case", sorted(BAD_LAYOUT_EDITS))
def test_wrong_or_missing_layout_fields(good, case):
    edit, match = BAD_LAYOUT_EDITS[case]
    path = variant(good, "bad.astproj", layout_json=edited_json(good, "layout.json", edit))
    refused(path, match)


BAD_MANIFEST_EDITS = {
    "future version": (lambda m: m.update(format_version=FORMAT_VERSION + 1), "newer AST Studio"),
    "version zero": (lambda m: m.update(format_version=0), "unknown project format 0"),
    "version text": (lambda m: m.update(format_version="1"), "format_version: must be a number"),
    "no version": (lambda m: m.pop("format_version"), "format_version: missing"),
    "bad created": (lambda m: m.update(created="yesterday"), "created: not an ISO 8601"),
    "renders not list": (lambda m: m.update(renders="r1"), "renders: must be a list"),
    "render id escapes": (lambda m: m.update(renders=["../../etc/passwd"]), "renders[0]"),
    "render twice": (lambda m: m.update(renders=["r1", "r1"]), "listed twice"),
}


@pytest.mark.parametrize("case", sorted(BAD_MANIFEST_EDITS))
def test_bad_manifest(good, case):
    edit, match = BAD_MANIFEST_EDITS[case]
    path = variant(good, "bad.astproj", manifest_json=edited_json(good, "manifest.json", edit))
    refused(path, match)


@pytest.mark.parametrize("member,data,match", [
    ("settings.json", b"[1, 2]", "settings.json: must be a JSON object"),
    ("schedule.json", b"\"fast\"", "schedule.json: must be a JSON object"),
    ("settings.json", b"{\"a\": NaN}", "settings.json: not valid JSON"),
    ("settings.json", b"{\"a\": 1, \"a\": 2}", "duplicate key"),
    ("settings.json", b"\xff\xfe{}", "not UTF-8"),
    ("layout.json", b"{\"width\": 5", "layout.json: not valid JSON"),
    ("manifest.json", b"[]", "manifest.json: must be a JSON object"),
    ("renders/r1.png", b"GIF89a....", "renders/r1.png: not a PNG"),
    ("renders/r1.png", png_bytes()[:40], "renders/r1.png: PNG image is cut short"),
    ("renders/r1.json", b"{\"id\": \"r2\", \"parameters\": {}, \"layout\": {}}", "must match the file name"),
    ("renders/r1.json", b"{\"id\": \"r1\", \"parameters\": [], \"layout\": {}}", "parameters: must be an object"),
    ("renders/r1.json", b"{\"id\": \"r1\", \"parameters\": {}, \"layout\": {}}", "layout.width: missing"),
    ("thumbnail.png", b"nope", "thumbnail.png: not a PNG"),
])
def test_wrong_member_content(good, member, data, match):
    members = members_of(good)
    members[member] = data
    refused(write_zip(good.with_name("bad.astproj"), members), match)


@pytest.mark.parametrize("name", ["../evil.json", "/abs/evil.json", "renders/../../evil.json", "C:/evil.json",
                                  "renders\\..\\evil.json", "./manifest.json", "a//b.json"])
def test_member_names_that_could_escape(good, name):
    members = list(members_of(good).items()) + [(name, b"{}")]
    refused(write_zip(good.with_name("evil.astproj"), members), "unsafe member name")


def test_duplicate_member_names(good):
    members = list(members_of(good).items()) + [("layout.json", b"{}")]
    with pytest.warns(UserWarning):
        path = write_zip(good.with_name("dup.astproj"), members)
    refused(path, "appears twice")


def test_oversized_member(good, monkeypatch):
    members = members_of(good)
    members["settings.json"] = b"{\"pad\": \"" + b" " * 300_000 + b"\"}"
    path = write_zip(good.with_name("big.astproj"), members)
    monkeypatch.setattr(reader, "MAX_MEMBER_BYTES", 100_000)
    refused(path, "settings.json: member of")


def test_total_size_capped(good, monkeypatch):
    members = members_of(good)
    for i in range(5):
        members[f"extra/{i}.bin"] = bytes(50_000)
    path = write_zip(good.with_name("many-bytes.astproj"), members)
    monkeypatch.setattr(reader, "MAX_TOTAL_BYTES", 200_000)
    refused(path, "more than the limit")


def test_too_many_members(good, monkeypatch):
    members = members_of(good)
    for i in range(30):
        members[f"extra/{i}.txt"] = b"x"
    path = write_zip(good.with_name("many.astproj"), members)
    monkeypatch.setattr(reader, "MAX_MEMBERS", 20)
    refused(path, "more than the limit of 20")


def test_image_claiming_huge_pixel_count(good):
    bomb = png_claiming(100_000, 100_000)
    assert len(bomb) < 200
    refused(variant(good, "bomb.astproj", renders__r1_png=bomb), "larger than the limit")
    path = variant(good, "bomb-thumb.astproj", thumbnail_png=bomb)
    refused(path, "thumbnail.png: image of 100000x100000")
    with pytest.raises(ProjectFileError, match="thumbnail.png"):
        read_thumbnail(path)


def test_good_file_still_loads(good):
    assert load_project(good).layout.same_as(sample_project().layout)
