"""Damaged and hostile .astproj files, by category, derived from the example projects (seeded).

``cases(category, rng, bases)`` returns ``(name, make)`` pairs; ``make(path)`` writes the
case at ``path`` (a file, or a symlink, FIFO or folder for the "filesystem" category).
Every category of issue 17 is here: truncation, byte flips, wrong types, huge numbers,
deep nesting, bad WKT, zip structure (zip-slip names, symlink members, zip-in-zip),
codecs (LZMA, bzip2, deflate, unknown methods), bombs, odd encodings, render parameters of
unexpected types, images, and file-system oddities.
"""
from __future__ import annotations

from ast_core.project import ProjectSettings

import copy
import io
import json
import math
import os
import random
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable

from astproj_samples import png_bytes, png_claiming, sample_project

Members = list[tuple[str, bytes]]
Make = Callable[[Path], None]

HUGE_FLOATS = ["1e400", "-1e400", "1e308", "-1e-400", "1.7976931348623157e308", "4.9e-324"]
HUGE_INTS = [str(2**64), str(2**64 + 1), "-" + str(2**63), "1" + "0" * 30, "9" * 4400]


# ----------------------------------------------------------------------------- bases
def studio_like_project():
    """The sample project with two renders whose parameters look like the studio's."""
    from ast_core.models.flux import AST_PAPER
    from ast_core.project import Render, layout_to_dict
    from ast_core.schedule import preset_schedule

    project = sample_project()
    schedule = preset_schedule(AST_PAPER).to_dict()
    project.schedule = preset_schedule(AST_PAPER)
    project.settings = ProjectSettings.from_dict(
        {"generation": {"steps": 4, "guidance": 3.5, "seed": 7, "seed_mode": "fixed", "method": "ast"}})
    for rid, seed in (("r2", 8), ("r3", 9)):
        parameters = {
            "settings": {"width": 256, "height": 192, "steps": 4, "guidance": 3.5, "seed": seed, "method": "ast"},
            "render_settings": {"steps": 4, "guidance": 3.5, "seed": seed, "seed_mode": "fixed", "method": "ast"},
            "schedule": schedule, "model": {"model": "tiny-flux", "device": "cpu"},
            "metadata": {"format": 1, "timesteps": [1.0, 0.75, 0.5, 0.25], "warnings": []},
            "seconds": 1.25, "warnings": ["a warning"],
        }
        project.renders.append(Render(png_bytes((48, 36), (seed * 20, 90, 30)), parameters,
                                      layout_to_dict(project.layout), "2026-01-02T03:04:05+00:00", rid))
    return project


def base_files(folder: Path) -> dict[str, bytes]:
    """The example projects plus two samples with renders, as file bytes."""
    from ast_core.project import save_project

    examples = Path(__file__).resolve().parents[2] / "resources" / "examples"
    out = {p.stem: p.read_bytes() for p in sorted(examples.glob("*.astproj"))}
    for name, project in (("sample", sample_project()), ("studio", studio_like_project())):
        path = folder / f"base-{name}.astproj"
        save_project(project, path, modified="2026-01-02T03:04:05+00:00")
        out[name] = path.read_bytes()
    return out


# ----------------------------------------------------------------------------- zip helpers
def members(data: bytes) -> Members:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def rezip(items: Members, method: int = zipfile.ZIP_DEFLATED, methods: dict[str, int] | None = None,
          attrs: dict[str, int] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in items:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = (methods or {}).get(name, method)
            if attrs and name in attrs:
                info.external_attr = attrs[name]
            zf.writestr(info, data)
    return buf.getvalue()


def replaced(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    items = [(n, changes.get(n, d)) for n, d in members(data) if changes.get(n, d) is not None]
    names = {n for n, _ in items}
    items += [(n, d) for n, d in changes.items() if d is not None and n not in names]
    return rezip(items)


def json_of(data: bytes, member: str) -> Any:
    return json.loads(dict(members(data))[member])


def with_json(data: bytes, member: str, value: Any) -> bytes:
    return replaced(data, {member: json.dumps(value).encode()})


def with_raw_json(data: bytes, member: str, text: str) -> bytes:
    return replaced(data, {member: text.encode("utf-8", "surrogatepass")})


def file_case(data: bytes) -> Make:
    return lambda path: path.write_bytes(data)


def json_members(data: bytes) -> list[str]:
    return [n for n, _ in members(data) if n.endswith(".json")]


def paths_in(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys/indices) to a value inside ``value``."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths_in(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths_in(v, prefix + (i,))
    return out


def set_at(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    value = copy.deepcopy(value)
    target = value
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return value


def raw_json_with(value: Any, path: tuple, raw: str) -> str:
    """The JSON text of ``value`` with the value at ``path`` replaced by the raw text ``raw``."""
    marker = "\u0001MARK\u0001"
    return json.dumps(set_at(value, path, marker)).replace(json.dumps(marker), raw)


# ----------------------------------------------------------------------------- case makers
Cases = list[tuple[str, Make]]


def edited(data: bytes, member: str, path: tuple, new: Any) -> Make:
    """The file with the value at ``path`` of a JSON member replaced."""
    return file_case(with_json(data, member, set_at(json_of(data, member), path, new)))


def edited_raw(data: bytes, member: str, path: tuple, raw: str) -> Make:
    """The file with the value at ``path`` of a JSON member replaced by raw JSON text."""
    return file_case(with_raw_json(data, member, raw_json_with(json_of(data, member), path, raw)))


def with_members(data: bytes, **changes: bytes | None) -> Make:
    """The file with members replaced (None: removed); ``renders__r2_png`` names ``renders/r2.png``."""
    names = {k.replace("__", "/").replace("_json", ".json").replace("_png", ".png"): v for k, v in changes.items()}
    return file_case(replaced(data, names))


def geometry(data: bytes, text: str, index: int = 0) -> Make:
    return edited(data, "layout.json", ("instances", index, "geometry"), text)


# ----------------------------------------------------------------------------- categories
def truncation(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    out = []
    for name, data in bases.items():
        n = len(data)
        for cut in sorted({0, 1, 4, 30, n - 1, n - 22, n - 23} | {rng.randrange(n) for _ in range(3)}):
            out.append((f"{name} cut at {cut}", file_case(data[:max(0, cut)])))
    return out


def byte_flips(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    out = []
    for name, data in bases.items():
        for _ in range(8):
            mutated = bytearray(data)
            spots = [rng.randrange(len(data)) for _ in range(rng.randrange(1, 5))]
            for spot in spots:
                mutated[spot] ^= 1 << rng.randrange(8)
            out.append((f"{name} bits flipped at {spots}", file_case(bytes(mutated))))
        # A byte replaced inside a member, the zip's own checksum made to match.
        for member in rng.sample(json_members(data), 2):
            items = members(data)
            for i, (n, d) in enumerate(items):
                if n == member and d:
                    b = bytearray(d)
                    b[rng.randrange(len(b))] = rng.randrange(256)
                    items[i] = (n, bytes(b))
            out.append((f"{name} {member} byte replaced (CRC fixed)", file_case(rezip(items))))
    return out


_OTHER_VALUES: list[Any] = ["", "text", "x" * 30_000, 0, -1, 3.5, True, False, None, [], [1, "a"], {}, {"k": "v"}]


def wrong_types(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    out = []
    for name in ("studio", "sample", "beach"):
        data = bases[name]
        for member in json_members(data):
            paths = paths_in(json_of(data, member))
            for path in rng.sample(paths, min(4, len(paths))):
                new = rng.choice(_OTHER_VALUES)
                out.append((f"{name} {member} {list(path)} = {str(new)[:20]!r}", edited(data, member, path, new)))
    return out


def huge_numbers(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    data = bases["studio"]
    out = []
    targets = [("settings.json", ("generation", "steps")), ("settings.json", ("generation", "seed")),
               ("settings.json", ("generation", "guidance")), ("settings.json", ("extra",)),
               ("schedule.json", ("format_version",)), ("layout.json", ("width",)),
               ("renders/r2.json", ("parameters", "seconds")), ("renders/r2.json", ("parameters", "settings", "seed")),
               ("renders/r3.json", ("parameters", "model")), ("manifest.json", ("format_version",))]
    for member, path in targets:
        for raw in rng.sample(HUGE_FLOATS, 2) + rng.sample(HUGE_INTS, 2):
            out.append((f"{member} {list(path)} = {raw[:24]}", edited_raw(data, member, path, raw)))
    for c in ("1e300", "1e400", "1e7", "1e6", "-999999", "1e-320", "1e308"):
        out.append((f"coordinates {c}", geometry(data, f"POLYGON ((0 0, {c} 0, {c} {c}, 0 {c}, 0 0))")))
    return out


def _nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def deep_nesting(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    data = bases["studio"]
    out = []
    for member, path in (("settings.json", ("deep",)), ("schedule.json", ("deep",)),
                         ("renders/r2.json", ("parameters", "deep")), ("renders/r3.json", ("parameters", "model"))):
        for depth in (30, 62, 63, 64, 100, 500, 999, 5_000, 50_000):
            kind = rng.choice(["array", "object"])
            out.append((f"{member} {list(path)} {kind} nested {depth}", edited_raw(data, member, path, _nested(depth, kind))))
    for text in ("GEOMETRYCOLLECTION (" * 50_000 + ")" * 50_000,  # crashed GEOS's WKT reader
                 "MULTIPOLYGON " + "(" * 50_000 + "0 0" + ")" * 50_000,
                 "POLYGON " + "(" * 5_000 + ")" * 5_000):
        out.append((f"WKT {text[:14]} nested", geometry(data, text, 1)))
    return out


def _wkt(points) -> str:
    points = list(points)
    return "POLYGON ((" + ", ".join(f"{x!r} {y!r}" for x, y in points + points[:1]) + "))"


def _random_polygon(rng: random.Random, n: int) -> str:
    return _wkt((rng.uniform(0, 250), rng.uniform(0, 190)) for _ in range(n))


def _ring(n: int, cx=128.0, cy=96.0, r_even=80.0, r_odd=80.0) -> str:
    """A circle of ``n`` vertices, or a star when the odd ones have another radius."""
    radii = (r_even, r_odd)
    return _wkt((cx + radii[i % 2] * math.cos(2 * math.pi * i / n), cy + radii[i % 2] * math.sin(2 * math.pi * i / n))
                for i in range(n))


def _comb(teeth: int, height: float = 190.0, width: float = 250.0) -> str:
    """A valid polygon of thin teeth spanning the canvas: a long outline from few vertices."""
    step = width / teeth
    pts = [(0.0, height + 1)]
    for k in range(teeth):
        x = k * step
        pts += [(x, 0.0), (x + step / 2, 0.0), (x + step / 2, height), (x + step, height)]
    return _wkt(pts + [(width, height + 1)])


def bad_wkt(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    data = bases["studio"]
    texts = {
        "curved": "CURVEPOLYGON (CIRCULARSTRING (0 0, 40 0, 40 40, 0 40, 0 0))",
        "curved inside polygon": "POLYGON (CIRCULARSTRING (0 0, 40 0, 40 40, 0 40, 0 0))",
        "multisurface": "MULTISURFACE (CURVEPOLYGON (CIRCULARSTRING (0 0, 4 0, 4 4, 0 4, 0 0)))",
        "point": "POINT (1 2)", "linestring": "LINESTRING (0 0, 10 10)", "garbage": "POLYGON ((0 0, 1",
        "empty text": "", "just a word": "hello", "empty polygon": "POLYGON EMPTY", "empty multi": "MULTIPOLYGON EMPTY",
        "z": "POLYGON Z ((0 0 0, 10 0 0, 10 10 0, 0 0 0))", "m": "POLYGON M ((0 0 0, 10 0 0, 10 10 0, 0 0 0))",
        "3 numbers": "POLYGON ((0 0 1, 10 0 1, 10 10 1, 0 0 1))", "nan": "POLYGON ((0 0, nan 0, 10 10, 0 0))",
        "inf": "POLYGON ((0 0, inf 0, 10 10, 0 0))", "unclosed": "POLYGON ((0 0, 10 0, 10 10, 0 10))",
        "two points": "POLYGON ((0 0, 10 0, 0 0))", "unbalanced": "POLYGON ((0 0, 10 0, 10 10, 0 0)))",
        "non-ascii": "POLYGON ((0 0, 1０ 0, 10 10, 0 0))", "lowercase": "polygon ((0 0, 40 0, 40 40, 0 0))",
        "bowtie": "POLYGON ((0 0, 100 100, 100 0, 0 100, 0 0))",
        "hole outside shell": "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (20 20, 30 20, 30 30, 20 30, 20 20))",
        "overlapping parts": "MULTIPOLYGON (((0 0, 50 0, 50 50, 0 50, 0 0)), ((25 25, 75 25, 75 75, 25 75, 25 25)))",
        "tiny area": "POLYGON ((0 0, 0.1 0, 0.1 0.1, 0 0))",
        "random 30": _random_polygon(rng, 30), "random 400": _random_polygon(rng, 400),
        "random 1000": _random_polygon(rng, 1000), "random 20000": _random_polygon(rng, 20_000),
        "circle 20000": _ring(20_000), "spiky star 2000": _ring(2_000, r_odd=20.0),
        "spiky star 30000": _ring(30_000, r_odd=20.0), "too many vertices": _ring(100_001),
        "long number": "POLYGON ((0 0, 1" + "0" * 5000 + " 0, 10 10, 0 0))",
        "comb of 2000 teeth": _comb(2000), "comb of 20000 teeth": _comb(20_000),
    }
    out = [(f"WKT {label}", geometry(data, text)) for label, text in texts.items()]
    layout = json_of(data, "layout.json")
    first = layout["instances"][0]
    tangled = [dict(first, id=f"i{k}", geometry=_random_polygon(random.Random(k), 60)) for k in range(12)]
    out.append(("12 tangled instances", edited(data, "layout.json", ("instances",), tangled)))
    snapshot_path = ("layout", "instances", 0, "geometry")
    out.append(("tangled render snapshot", edited(data, "renders/r2.json", snapshot_path, _random_polygon(rng, 60))))
    return out


def zip_structure(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    data = bases["sample"]
    items = members(data)
    link = (stat.S_IFLNK | 0o777) << 16
    out = [(f"member named {name[:20]!r}", file_case(rezip(items + [(name, b"{}")])))
           for name in ("../evil.json", "/abs.json", "renders/../../x.json", "C:/x.json", "a\\b.json",
                        "./manifest.json", "a//b.json", "", "x" * 300, "nul\x00.json")]
    encrypted = bytearray(data)
    encrypted[encrypted.find(b"PK\x01\x02") + 8] |= 1
    out += [
        ("duplicate layout.json", file_case(rezip(items + [("layout.json", b"{}")]))),
        ("symlink member", file_case(rezip(items + [("link", b"/etc/passwd")], attrs={"link": link}))),
        ("layout.json is a symlink member", file_case(rezip(items, attrs={"layout.json": link}))),
        ("folder entries", file_case(rezip(items + [("renders/", b""), ("extra/", b"")]))),
        ("zip in zip", file_case(rezip([("project.astproj", data)]))),
        ("zip in member", with_members(data, settings_json=data)),
        ("zip in render png", with_members(data, renders__r1_png=data)),
        ("empty zip", file_case(rezip([]))),
        ("only manifest", file_case(rezip([items[0]]))),
        ("encrypted flag", file_case(bytes(encrypted))),
        ("garbage before", file_case(b"#!/bin/sh\nexit 0\n" + data)),
        ("garbage after", file_case(data + bytes(rng.randrange(256) for _ in range(300)))),
        ("comment", file_case(data[:-2] + struct.pack("<H", 60) + b"c" * 60)),
        ("not a zip", file_case(b"{\"format_version\": 1}")),
        ("random bytes with zip head", file_case(b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(2000)))),
    ]
    return out


def _corrupt(data: bytes, rng: random.Random, member: str) -> bytes:
    """``data`` with the compressed bytes of ``member`` overwritten (the local header kept)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    out = bytearray(data)
    for k in range(start + 2, start + max(3, info.compress_size - 2), max(1, info.compress_size // 8)):
        out[k] = rng.randrange(256)
    return bytes(out)


def codecs(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    data = bases["sample"]
    items = members(data)
    out = []
    for method, label in ((zipfile.ZIP_LZMA, "lzma"), (zipfile.ZIP_BZIP2, "bzip2"),
                          (zipfile.ZIP_DEFLATED, "deflate"), (zipfile.ZIP_STORED, "stored")):
        packed = rezip(items, method)
        out.append((f"all members {label}", file_case(packed)))
        for member in ("manifest.json", "layout.json", "renders/r1.png"):
            out.append((f"{label} {member} corrupt", file_case(_corrupt(packed, rng, member))))
    for method in (1, 6, 9, 97, 98, 99, 93, 95):  # methods zipfile does not know (93: zstd before 3.14)
        patched = bytearray(rezip(items, zipfile.ZIP_STORED))
        pos = 0
        while (pos := patched.find(b"PK\x01\x02", pos)) >= 0:
            patched[pos + 10:pos + 12] = struct.pack("<H", method)
            pos += 4
        out.append((f"compression method {method}", file_case(bytes(patched))))
    return out


def _json_bomb(unit: str, count: int) -> bytes:
    return b'{"a": [' + ((unit + ",") * count + unit).encode() + b"]}"


def bombs(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    data = bases["sample"]
    keys = ("{" + ",".join(f'"{k}":0' for k in range(1_100_000)) + "}").encode()
    out = [
        ("57 MiB of {}", with_members(data, settings_json=_json_bomb("{}", 19_000_000))),
        ("arrays", with_members(data, schedule_json=_json_bomb("[]", 3_000_000))),
        ("strings", with_members(data, renders__r1_json=_json_bomb('"ab"', 2_000_000))),
        ("numbers", with_members(data, settings_json=_json_bomb("1.5", 1_100_000))),
        ("nulls", with_members(data, settings_json=_json_bomb("null", 2_000_000))),
        ("keys", with_members(data, settings_json=keys)),
        ("70 MiB member", with_members(data, settings_json=b'{"a": "' + b" " * (70 << 20) + b'"}')),
        ("pixel bomb render", with_members(data, renders__r1_png=png_claiming(100_000, 100_000))),
        ("pixel bomb thumbnail", with_members(data, thumbnail_png=png_claiming(60_000, 60_000))),
        ("settings and schedule of 50000 values",
         with_members(data, settings_json=_json_bomb("0", 50_000), schedule_json=_json_bomb("0", 50_000))),
        ("2001 renders listed", edited(data, "manifest.json", ("renders",), [f"x{k}" for k in range(2001)])),
    ]
    layout = json_of(data, "layout.json")
    first = layout["instances"][0]
    big = [dict(first, id=f"i{k}", geometry=f"POLYGON (({k} 0, {k + 4000} 0, {k + 4000} 4000, {k} 0))")
           for k in range(1000)]
    out.append(("1000 canvas-sized instances", file_case(with_json(data, "layout.json",
                                                                    dict(layout, width=4096, height=4096, instances=big)))))
    small = [dict(first, id=f"i{k}", geometry=f"POLYGON (({k} {k}, {k + 40} {k}, {k + 40} {k + 30}, {k} {k}))")
             for k in range(1001)]
    for n in (1000, 1001):
        out.append((f"{n} small instances", file_case(with_json(data, "layout.json",
                                                                 dict(layout, width=1024, height=1024, instances=small[:n])))))
    return out


def encodings(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    data = bases["studio"]
    layout = json_of(data, "layout.json")
    text = dict(members(data))["layout.json"].decode()
    out = [
        ("layout utf-16", with_members(data, layout_json=text.encode("utf-16"))),
        ("layout utf-8 BOM", with_members(data, layout_json=b"\xef\xbb\xbf" + text.encode())),
        ("layout latin-1", with_members(data, layout_json=json.dumps(dict(layout, base_prompt="café")).encode("latin-1"))),
        ("overlong utf-8", with_members(data, layout_json=text.replace('"width"', '"wid\xc0\xb4th"').encode("latin-1", "replace"))),
        ("raw surrogate bytes",
         with_members(data, layout_json=text.replace("a red fox", "a \ud800 fox").encode("utf-8", "surrogatepass"))),
    ]
    for member, path in (("layout.json", ("base_prompt",)), ("layout.json", ("instances", 0, "name")),
                         ("layout.json", ("instances", 1, "prompt")), ("layout.json", ("instances", 0, "attribute_words")),
                         ("settings.json", ("generation", "method")), ("renders/r2.json", ("parameters", "model", "model")),
                         ("renders/r3.json", ("layout", "instances", 0, "prompt")), ("schedule.json", ("preset",))):
        for raw in ('"\\ud800"', '"a\\udc00b"', '"\\ud83d\\ude00 ok"', '"\\ud83d"', '["\\udfff"]'):
            out.append((f"{member} {list(path)} = {raw}", edited_raw(data, member, path, raw)))
    settings = json.dumps(json_of(data, "settings.json"))
    out.append(("surrogate key", file_case(with_raw_json(data, "settings.json", settings[:-1] + ', "\\ud800": 1}'))))
    odd = {"NUL": "a\x00b", "controls": "\x07\x1b[31mred\x1b[0m", "rtl": "\u202eevil\u202c", "combining": "e\u0301" * 50,
           "emoji": "🦊🐐", "newlines": "line\nline\r\n", "bom": "\ufeffname", "private use": "\ue000\U0010fffd"}
    for label, s in odd.items():
        value = set_at(set_at(layout, ("base_prompt",), s + layout["base_prompt"]), ("instances", 0, "name"), s)
        out.append((f"prompt with {label}", file_case(with_json(data, "layout.json", value))))
    return out


def render_parameters(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    data = bases["studio"]
    odd_values = ["tiny-flux", ["a"], 5, None, True, {"model": ["x"]}, {"model": {"deep": 1}}, "", 1.5, {}]
    out = []
    for key in ("model", "settings", "render_settings", "schedule", "metadata", "seconds", "warnings"):
        for value in rng.sample(odd_values, 4):
            out.append((f"parameters.{key} = {str(value)[:16]!r}", edited(data, "renders/r2.json", ("parameters", key), value)))
    for path, value in ((("parameters", "settings", "seed"), "seven"), (("parameters", "settings", "seed"), 2**64),
                        (("parameters", "render_settings", "steps"), -5), (("parameters", "schedule", "curves"), "x"),
                        (("parameters",), {}), (("parameters", "settings"), {"method": ["ast"]})):
        out.append((f"{'.'.join(map(str, path))} = {str(value)[:16]!r}", edited(data, "renders/r2.json", path, value)))
    for path, value in ((("curves",), "x"), (("layers",), [None]), (("weights",), 1e308), (("bands",), {"a": []})):
        out.append((f"schedule.json {path} = {str(value)[:12]!r}", edited(data, "schedule.json", path, value)))
    return out


def _with_chunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """``png`` with the first ``kind`` chunk's data replaced, its checksum made to match."""
    pos = png.find(kind) - 4
    length = struct.unpack(">I", png[pos:pos + 4])[0]
    crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return png[:pos] + struct.pack(">I", len(body)) + kind + body + crc + png[pos + 12 + length:]


def _png_with_bad_pixels() -> bytes:
    """A PNG whose structure and checksums are right but whose image data is not a zlib stream."""
    return _with_chunk(png_bytes((40, 30)), b"IDAT", bytes(range(256)) * 2)


def _png_16bit(size=(64, 48)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("I;16", size, 40000).save(buf, format="PNG")
    return buf.getvalue()


def images(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    data = bases["studio"]
    png = png_bytes((40, 30))
    header = bytearray(png[16:29])
    header[8] = 7  # bit depth 7
    flipped = bytearray(png)
    flipped[rng.randrange(40, len(png) - 12)] ^= 0x10
    out = [
        ("render pixels damaged (checksums right)", with_members(data, renders__r2_png=_png_with_bad_pixels())),
        ("thumbnail pixels damaged", with_members(data, thumbnail_png=_png_with_bad_pixels())),
        ("render 16-bit grey", with_members(data, renders__r3_png=_png_16bit())),
        ("render truncated", with_members(data, renders__r2_png=png[:len(png) // 2])),
        ("render bit depth 7", with_members(data, renders__r2_png=_with_chunk(png, b"IHDR", bytes(header)))),
        ("render GIF", with_members(data, renders__r2_png=b"GIF89a" + bytes(100))),
        ("render empty", with_members(data, renders__r2_png=b"")),
        ("render is a JPEG", with_members(data, renders__r2_png=b"\xff\xd8\xff\xe0" + bytes(50))),
        ("render missing", with_members(data, renders__r3_png=None)),
        ("render header claims 8192x8192", with_members(data, renders__r2_png=png_claiming(8192, 8192))),
        ("render header claims 8193x8192", with_members(data, renders__r2_png=png_claiming(8193, 8192))),
        ("render with trailing bytes", with_members(data, renders__r2_png=png + b"extra")),
        ("thumbnail missing", with_members(data, thumbnail_png=None)),
        ("render one bit flipped", with_members(data, renders__r2_png=bytes(flipped))),
    ]
    return out


def filesystem(rng: random.Random, bases: dict[str, bytes]) -> Cases:
    good = bases["sample"]

    def symlink_to_good(path: Path) -> None:
        target = path.with_name(path.name + ".target")
        target.write_bytes(good)
        path.symlink_to(target)

    return [
        ("empty file", file_case(b"")),
        ("symlink to a good file", symlink_to_good),
        ("symlink to /dev/zero", lambda p: p.symlink_to("/dev/zero")),
        ("FIFO", lambda p: os.mkfifo(p)),
        ("folder", lambda p: p.mkdir()),
        ("symlink loop", lambda p: p.symlink_to(p.name)),
        ("dangling symlink", lambda p: p.symlink_to(p.name + ".missing")),
    ]


CATEGORIES: dict[str, Callable[[random.Random, dict[str, bytes]], Cases]] = {
    "truncation": truncation, "byte_flips": byte_flips, "wrong_types": wrong_types, "huge_numbers": huge_numbers,
    "deep_nesting": deep_nesting, "bad_wkt": bad_wkt, "zip_structure": zip_structure, "codecs": codecs,
    "bombs": bombs, "encodings": encodings, "render_parameters": render_parameters, "images": images,
    "filesystem": filesystem,
}


def cases(category: str, seed: int, bases: dict[str, bytes]) -> Cases:
    return CATEGORIES[category](random.Random(f"{seed}-{category}"), bases)
