"""Render PNGs: the A1111 ``parameters`` chunk other tools read, the JSON chunk that reopens as a
project, old files, and hostile PNGs refused with one clear line (no torch needed)."""
from __future__ import annotations

import io
import json
import re
import struct
import zlib

import pytest
from PIL import Image
from shapely.geometry import box

from ast_core.document import Instance, Layout
from ast_core.project import layout_to_dict, load_project, save_project
from ast_core.project.settings import RenderSettings
from ast_core.provenance import METADATA_KEY, ProvenanceError, png_bytes, read_metadata, read_png
from ast_core.provenance import chunks as chunk_limits
from ast_core.provenance.a1111 import parameters_text, quote
from ast_core.schedule import preset_schedule

PRESET = "AST paper (FLUX.1-dev)"


def layout(base="a red cat, sitting,\na blue dog: sleeping on green grass") -> Layout:
    return Layout(64, 64, base, "green grass", [
        Instance(name="cat", prompt="a red cat", color="#e6194b", geometry=box(0, 8, 30, 60)),
        Instance(name="dog", prompt="a blue dog", color="#4363d8", geometry=box(34, 20, 62, 58)),
    ])


def metadata(**changes) -> dict:
    schedule = preset_schedule(PRESET)
    md = {
        "format": 2, "app": "ast-studio", "created": "2026-01-02T03:04:05+00:00",
        "model": {"source": "/models/flux, v2", "family": "FLUX.1-dev", "architecture": "flux", "dtype": "bf16",
                  "quantize": "fp8", "text_encoder_quantize": "none", "offload": "model",
                  "loras": [{"path": "/loras/ink.safetensors", "name": "ink.safetensors", "scale": 0.8,
                             "sha256": "0123456789abcdef" * 4},
                            {"path": "/loras/paper-grain.safetensors", "name": "paper-grain.safetensors",
                             "scale": 1.0, "sha256": "fedcba9876543210" * 4}]},
        "settings": {"width": 64, "height": 64, "steps": 28, "guidance": 3.5, "seed": 11, "method": "ast",
                     "max_sequence_length": 512, "num_images": 1, "method_parameters": {}},
        "seed": 11, "method": "ast", "method_used": "ast", "schedule": schedule.to_dict(),
        "layout": layout_to_dict(layout()), "segments": [], "timesteps": [1000.0, 500.0],
        "versions": {"ast-studio": "0.1.0"}, "warnings": [], "image": {"index": 2, "count": 4, "first_seed": 10},
    }
    md.update(changes)
    return md


def image() -> Image.Image:
    return Image.new("RGB", (64, 64), (40, 90, 160))


# ---------------------------------------------------------------- what other tools read
A1111_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def a1111_parse(text: str) -> dict:
    """A1111's documented rule for the ``parameters`` text, written out here: the last line holds the
    parameters when it has at least three ``key: value`` pairs; lines before are the prompt up to one
    starting "Negative prompt:"; a quoted value is JSON; ``WxH`` values split into ``-1``/``-2``."""
    *lines, last = text.strip().split("\n")
    if len(A1111_PARAM.findall(last)) < 3:
        lines.append(last)
        last = ""
    prompt, negative, in_negative = [], [], False
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            in_negative, line = True, line[len("Negative prompt:"):].strip()
        (negative if in_negative else prompt).append(line)
    out = {"Prompt": "\n".join(prompt), "Negative prompt": "\n".join(negative)}
    for key, value in A1111_PARAM.findall(last):
        if len(value) > 1 and value[0] == '"' and value[-1] == '"':
            value = json.loads(value)
        size = re.match(r"^(\d+)x(\d+)$", value)
        if size:
            out[f"{key}-1"], out[f"{key}-2"] = size.groups()
        else:
            out[key] = value
    return out


def civitai_details(text: str) -> dict:
    """civitai's reading: the line starting "Steps: " holds the details; a quoted value is itself a
    details line (how its "Lora hashes" become a name -> hash map)."""
    assert "Steps: " in text
    line = next(x for x in text.split("\n") if x.startswith("Steps: "))

    def parse(line: str) -> dict:
        out, key, value, quoted = {}, "", "", False
        for ch in line:
            if ch == '"':
                if quoted:
                    out[key] = parse(value.strip())
                    key = ""
                quoted = not quoted
            elif ch == ":" and not quoted:
                key, value = value.strip(), ""
            elif ch == "," and not quoted:
                if key:
                    out[key] = value.strip()
                key, value = "", ""
            else:
                value += ch
        if key:
            out[key] = value.strip()
        return out

    return parse(line)


def test_the_parameters_text_parses_with_a1111s_rules():
    md = metadata()
    text = parameters_text(md)
    got = a1111_parse(text)
    assert got["Prompt"] == "a red cat, sitting,\na blue dog: sleeping on green grass"  # the base prompt, as is
    assert got["Negative prompt"] == ""
    assert (got["Steps"], got["Sampler"], got["Seed"], got["Size-1"], got["Size-2"]) == ("28", "Euler", "11", "64", "64")
    # FLUX.1-dev is guidance-distilled: written as Forge writes FLUX (no CFG batch, distilled guidance 3.5)
    assert (got["CFG scale"], got["Distilled CFG Scale"]) == ("1", "3.5")
    assert got["Model"] == "flux, v2"  # a comma: JSON-quoted, and read back whole
    assert got["Layout control"] == "AST (attention specialty)" and got["AST schedule"] == PRESET
    assert got["AST weights"] == "t2t 3.5 / i2t 5 / i2i 3.5" and got["AST curves"] == "(t/1000)^3 on 16 steps"
    assert (got["Precision"], got["Quantization"], got["Offload"]) == ("bf16", "fp8", "model")
    assert "Text encoder quantization" not in got  # "none" is left out
    assert got["Lora hashes"] == "ink: 0123456789, paper-grain: fedcba9876"
    assert got["LoRAs"] == "ink: 0.8, paper-grain: 1"
    assert (got["Batch size"], got["Batch pos"]) == ("4", "1")  # A1111 counts batch positions from 0
    assert (got["Instances"], got["Version"]) == ("2", "AST Studio 0.1.0")
    assert text.split("\n")[-1].startswith("Steps: 28, ")  # civitai takes the line starting "Steps: "


def test_civitai_reads_steps_seed_and_lora_hashes():
    details = civitai_details(parameters_text(metadata()))
    assert (details["Steps"], details["Seed"], details["CFG scale"], details["Sampler"]) == ("28", "11", "1", "Euler")
    assert details["Lora hashes"] == {"ink": "0123456789", "paper-grain": "fedcba9876"}


def test_an_edited_schedule_and_other_methods_say_so():
    edited = preset_schedule(PRESET)
    edited.set_weight("i2t", 2.0)
    got = a1111_parse(parameters_text(metadata(schedule=edited.to_dict())))
    assert got["AST schedule"] == f"{PRESET} (edited)" and got["AST weights"] == "t2t 3.5 / i2t 2 / i2i 3.5"
    regional = metadata(method="regional", method_used="regional", schedule=None,
                        settings={**metadata()["settings"], "method": "regional",
                                  "method_parameters": {"inject_steps": 12, "base_ratio": 0.25}})
    got = a1111_parse(parameters_text(regional))
    assert got["Layout control"] == "Regional prompting" and "AST schedule" not in got
    assert (got["Regional inject steps"], got["Regional base ratio"], got["Regional single interval"]) == ("12", "0.25", "2")
    plain = metadata(method_used="none")  # the layout had nothing to control
    assert a1111_parse(parameters_text(plain))["Layout control"].endswith("(not applied: nothing to control)")
    schnell = metadata(model={"source": "tiny-sd3", "family": "tiny-sd3", "dtype": "f32"})
    got = a1111_parse(parameters_text(schnell))
    assert got["CFG scale"] == "3.5" and "Distilled CFG Scale" not in got and got["Model"] == "tiny-sd3"


def test_quote_follows_a1111():
    assert quote("Euler") == "Euler" and quote(3.5) == "3.5"
    assert quote("a, b") == '"a, b"' and quote("x: y") == '"x: y"' and quote('say "hi",') == '"say \\"hi\\","'
    assert quote("два, три") == '"два, три"'  # not escaped to \\u: A1111 writes ensure_ascii=False


def text_chunks(png: bytes) -> dict[str, str]:
    with Image.open(io.BytesIO(png)) as im:
        im.load()
        return dict(im.text)


def test_no_chunk_a_comfyui_loader_would_choke_on():
    """ComfyUI parses a PNG's ``workflow`` or ``prompt`` text as JSON when one is dropped on it, and
    imports A1111 ``parameters`` otherwise: ours has no such JSON chunk, and A1111 parameters."""
    texts = text_chunks(png_bytes(image(), metadata()))
    for key in ("workflow", "prompt"):
        if key in texts:
            json.loads(texts[key])
    assert "workflow" not in texts and "prompt" not in texts
    assert set(texts) == {"Software", "parameters", METADATA_KEY}
    assert "\nSteps: " in texts["parameters"]
    json.loads(texts[METADATA_KEY])  # the one JSON chunk is valid JSON


# ---------------------------------------------------------------- reading back
def test_a_png_reopens_as_the_project_that_made_it(tmp_path):
    md = metadata()
    png = png_bytes(image(), md)
    read = read_png(png, "cat.png")
    p = read.project
    assert layout_to_dict(p.layout) == md["layout"]
    g = p.settings.generation
    assert (g.steps, g.guidance, g.seed, g.seed_mode, g.method, g.count) == (28, 3.5, 11, "fixed", "ast", 1)
    assert p.schedule.to_dict() == md["schedule"]
    assert [(x.path, x.scale) for x in p.settings.loras] == [("/loras/ink.safetensors", 0.8),
                                                            ("/loras/paper-grain.safetensors", 1.0)]
    assert read.warnings == [] and read.metadata["settings"] == md["settings"]
    (render,) = p.renders
    assert render.image_png == png and render.layout == md["layout"] and render.created == md["created"]
    assert render.parameters["settings"]["seed"] == 11 and "layout" not in render.parameters["metadata"]
    path = tmp_path / "cat.astproj"  # what import-png and File > Open make of it saves and reopens
    save_project(p, path)
    again = load_project(path)
    assert again.renders[0].image_png == png and again.settings == p.settings


def test_what_the_project_cannot_hold_is_said():
    md = metadata(settings={**metadata()["settings"], "seed": 2**40, "width": 128, "height": 128})
    read = read_png(png_bytes(image(), md))
    assert read.project.settings.generation.seed == 0
    assert any("seed 1099511627776" in w and "--seed 1099511627776" in w for w in read.warnings)
    assert any("rendered at 128x128 from a 64x64 canvas" in w for w in read.warnings)


def test_format_1_pngs_of_the_earlier_command_line_still_open():
    md = metadata(format=1)
    lay = md.pop("layout")
    info_png = _png_with_chunks([
        _itxt(METADATA_KEY, json.dumps(md), compressed=True),
        _itxt("ast-studio:layout", json.dumps(lay), compressed=True),
    ])
    read = read_png(info_png, "old.png")
    assert layout_to_dict(read.project.layout) == lay and read.metadata["format"] == 2
    both = _png_with_chunks([_itxt(METADATA_KEY, json.dumps({**md, "layout": lay}))])
    assert read_metadata(both)["layout"] == lay


# ---------------------------------------------------------------- hostile and foreign PNGs
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _itxt(key: str, text: str, compressed: bool = False) -> bytes:
    data = zlib.compress(text.encode()) if compressed else text.encode()
    return _chunk(b"iTXt", key.encode("latin-1") + b"\x00" + bytes([int(compressed), 0]) + b"\x00\x00" + data)


def _png_with_chunks(extra: list[bytes], base: bytes | None = None) -> bytes:
    if base is None:
        buf = io.BytesIO()
        image().save(buf, format="PNG")
        base = buf.getvalue()
    end = base.rindex(b"IEND") - 4
    return base[:end] + b"".join(extra) + base[end:]


def _refused(data: bytes, *fragments: str, name: str = "bad.png") -> str:
    with pytest.raises(ProvenanceError) as e:
        read_png(data, name)
    message = str(e.value)
    assert message.startswith(f"{name}: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def _bomb_dimensions() -> bytes:
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _itxt(METADATA_KEY, json.dumps(metadata()))
            + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b""))


@pytest.mark.parametrize("make,fragments", [
    (lambda: _png_with_chunks([]), ["holds no AST Studio metadata", "only PNGs rendered by AST Studio"]),
    (lambda: _png_with_chunks([_chunk(b"tEXt", b"parameters\x00a cat\nSteps: 20, Sampler: Euler a, Seed: 1")]),
     ["holds no AST Studio metadata", "A1111/Forge"]),
    (lambda: _png_with_chunks([_itxt(METADATA_KEY, json.dumps(metadata(format=3)))]),
     ["newer AST Studio (metadata format 3)", "please update"]),
    (lambda: _png_with_chunks([_itxt(METADATA_KEY, '{"format": 2, "layout": ')]), [METADATA_KEY, "not valid JSON"]),
    (lambda: _png_with_chunks([_itxt(METADATA_KEY, "[" * 200 + "]" * 200)]), ["nested more than"]),
    (lambda: _png_with_chunks([_itxt(METADATA_KEY, json.dumps(metadata(layout=None)))]), ["layout", "missing"]),
    (lambda: _png_with_chunks([_itxt(METADATA_KEY, json.dumps(metadata(layout={**layout_to_dict(layout()),
                                                                              "width": "wide"})))]),
     ["ast-studio:metadata: layout.width"]),
    (lambda: _png_with_chunks([_itxt(METADATA_KEY, " " * (1 << 20) * 70, compressed=True)]),
     ["inflates to more than the limit"]),  # 70 KB that inflate to 70 MiB
    (lambda: _png_with_chunks([_itxt(METADATA_KEY, json.dumps(metadata())), _itxt(METADATA_KEY, "{}")]),
     ["twice"]),
    (_bomb_dimensions, ["100000x100000 pixels is larger than the limit"]),
    (lambda: png_bytes(image(), metadata())[:-8] + b"\x00\x00\x00\x00" + b"IEND", ["damaged"]),
    (lambda: b"GIF89a" + bytes(100), ["not a PNG image"]),
])
def test_hostile_and_foreign_pngs_are_refused_in_one_line(make, fragments):
    _refused(make(), *fragments)


def test_an_oversized_text_chunk_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(chunk_limits, "MAX_TEXT_BYTES", 1000)
    _refused(_png_with_chunks([_itxt(METADATA_KEY, json.dumps(metadata()))]), "larger than the limit of 1000")


def test_pixels_are_never_decoded():
    """Image data that would not decode does not matter: only the text chunks are read."""
    good = png_bytes(image(), metadata())
    start = good.index(b"IDAT") - 4
    length = struct.unpack(">I", good[start:start + 4])[0]
    broken = good[:start] + _chunk(b"IDAT", b"not zlib data at all") + good[start + 12 + length:]
    assert read_png(broken).project.settings.generation.seed == 11
    with pytest.raises(OSError):
        Image.open(io.BytesIO(broken)).load()


def test_files_that_are_not_there_or_too_large(tmp_path, monkeypatch):
    with pytest.raises(ProvenanceError, match="no such file"):
        read_png(tmp_path / "missing.png")
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(image(), metadata()))
    monkeypatch.setattr("ast_core.provenance.MAX_PNG_BYTES", 100)
    with pytest.raises(ProvenanceError, match="larger than the limit of 100 bytes"):
        read_png(path)


def test_render_settings_count_is_read_forgivingly():
    warnings: list[str] = []
    assert RenderSettings.from_dict({"count": 4}).count == 4
    assert RenderSettings.from_dict({"count": 40}, warnings).count == 1 and "count" in warnings[-1]
    assert RenderSettings.from_dict({}).count == 1 and RenderSettings().to_dict()["count"] == 1
    s = RenderSettings(seed=7, count=3, seed_mode="increment")
    assert s.engine_settings(64, 64, 7)["num_images"] == 3 and s.after_run(7, 3).seed == 10
