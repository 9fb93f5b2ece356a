"""The ``parameters`` text chunk, written the way A1111 / Forge's "PNG Info" and civitai read it.

    a red cat and a blue dog on green grass
    Steps: 28, Sampler: Euler, CFG scale: 1, Distilled CFG Scale: 3.5, Seed: 11, Size: 1024x1024,
    Model: FLUX.1-dev, Precision: bf16, Layout control: AST (attention specialty), AST schedule: AST
    paper (FLUX.1-dev), AST weights: t2t 3.5 / i2t 5 / i2i 3.5, AST curves: (t/1000)^3 on 16 steps,
    Instances: 2, Version: AST Studio 0.1.0

(the second part is one line). The rules the readers apply, which this writer keeps:

* A1111 (``modules/infotext_utils.py``, ``parse_generation_parameters``) takes the last line as
  the parameters when its ``key: value`` pairs number at least three, the lines before it as the
  prompt (up to a line starting ``Negative prompt:``). A key is a word character followed by
  word characters, spaces, ``-`` or ``/``; a value runs to the next comma unless it is
  JSON-quoted. A1111 quotes (``json.dumps``) every value holding a comma, a colon or a newline:
  :func:`quote` does the same.
* civitai reads the chunk when it contains ``Steps: `` and takes the line *starting* with
  ``Steps: `` as the parameters, so Steps comes first. Its ``Lora hashes`` value is a quoted
  ``name: hash, name: hash`` list (civitai matches the hash against its files; the hash here is
  AutoV2, the first 10 hex digits of the file's sha256).
* Guidance-distilled models (FLUX.1-dev) run without a classifier-free-guidance batch: their
  guidance is written as Forge writes FLUX's, ``CFG scale: 1, Distilled CFG Scale: G``, so a
  paste into Forge sets both the way they ran. Other models write ``CFG scale: G``.
* The extra fields (method, schedule, weights, model options, LoRA strengths) use keys A1111 and
  civitai do not know, so they show them and leave them alone.

Everything needed to rebuild the project is in the JSON chunk; this text is for other tools and
people, and is never read back.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..methods import METHODS


def quote(value: Any) -> str:
    """``value`` as A1111 writes it: JSON-quoted when it holds a comma, a colon or a newline."""
    text = str(value)
    if "," not in text and ":" not in text and "\n" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return f"{value:g}" if isinstance(value, float) else str(value)


def _model_name(model: dict) -> str | None:
    """What A1111 calls the checkpoint: a file's stem, a folder's name, a Hugging Face id or a built-in name."""
    source = model.get("source")
    if not isinstance(source, str) or not source.strip():
        return model.get("family") if isinstance(model.get("family"), str) else None
    path = Path(source)
    if path.suffix.lower() in (".safetensors", ".sft", ".gguf"):
        return path.stem
    if source.startswith(("/", "~", ".")) or "\\" in source or len(path.parts) > 2:
        return path.name
    return source


def _guidance_distilled(family: Any) -> bool:
    from ..models.architectures import FAMILIES

    fam = FAMILIES.get(family) if isinstance(family, str) else None
    return bool(fam is not None and fam.guidance_distilled)


def _curve_text(curve: dict) -> str:
    if curve.get("type") == "power":
        decay = _number(curve.get("decay")) or "?"
        if _number(curve.get("modulated_fraction")) is not None:
            share = float(curve["modulated_fraction"]) * 100
            return f"(t/1000)^{decay} on {share:g}% of the steps"
        return f"(t/1000)^{decay} on {_number(curve.get('modulated_steps')) or '?'} steps"
    if curve.get("type") == "keyframes":
        points = curve.get("points")
        return f"keyframes ({len(points) if isinstance(points, list) else '?'} points)"
    return "?"


def _schedule_fields(schedule: dict) -> list[tuple[str, Any]]:
    name = schedule.get("preset") if isinstance(schedule.get("preset"), str) else ""
    edited = True
    if name:
        try:
            from ..schedule import Schedule, preset_schedule

            here = Schedule.from_dict(schedule)
            edited = preset_schedule(name, here.structure).to_dict() != here.to_dict()
        except (ValueError, KeyError):
            edited = True
    label = (name or "custom") + (" (edited)" if name and edited else "")
    weights = _object(schedule.get("weights"))
    kinds = ("t2t", "i2t", "i2i")
    weight_text = " / ".join(f"{k} {_number(weights.get(k)) or '?'}" for k in kinds)
    curves = _object(schedule.get("curves"))
    texts = {k: _curve_text(_object(curves.get(k))) for k in kinds}
    curve_text = texts["t2t"] if len(set(texts.values())) == 1 else "; ".join(f"{k} {texts[k]}" for k in kinds)
    return [("AST schedule", label), ("AST weights", weight_text), ("AST curves", curve_text)]


def _method_fields(metadata: dict, settings: dict) -> list[tuple[str, Any]]:
    name = settings.get("method", metadata.get("method"))
    control = METHODS.get(name) if isinstance(name, str) else None
    if control is None:
        return []
    used = metadata.get("method_used")
    label = control.label + (" (not applied: nothing to control)" if used is not None and used != name else "")
    fields: list[tuple[str, Any]] = [("Layout control", label)]
    if control.uses_schedule and isinstance(metadata.get("schedule"), dict):
        fields += _schedule_fields(metadata["schedule"])
    values = _object(settings.get("method_parameters"))
    for p in control.parameters:
        value = values.get(p.name, p.default)
        text = _number(value) if p.kind in ("int", "float") else str(value)
        fields.append((f"{name.capitalize()} {p.name.replace('_', ' ')}", text))
    return fields


def _model_fields(model: dict) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = [("Precision", model.get("dtype"))]
    for key, label in (("quantize", "Quantization"), ("text_encoder_quantize", "Text encoder quantization"),
                       ("offload", "Offload")):
        value = model.get(key)
        if isinstance(value, str) and value != "none":
            fields.append((label, value))
    loras = [x for x in model.get("loras") or [] if isinstance(x, dict)] if isinstance(model.get("loras"), list) else []
    if loras:
        names = [Path(str(x.get("name") or x.get("path") or "?")).stem for x in loras]
        hashes = [(n, x.get("sha256")) for n, x in zip(names, loras)]
        if all(isinstance(h, str) and len(h) >= 10 for _, h in hashes):
            fields.append(("Lora hashes", ", ".join(f"{n}: {h[:10]}" for n, h in hashes)))
        fields.append(("LoRAs", ", ".join(f"{n}: {_number(x.get('scale')) or '?'}" for n, x in zip(names, loras))))
    return fields


def parameters_text(metadata: dict) -> str:
    """The A1111-style parameters of a render from its metadata (missing fields are left out)."""
    md = _object(metadata)
    layout, settings, model = _object(md.get("layout")), _object(md.get("settings")), _object(md.get("model"))
    prompt = layout.get("base_prompt") if isinstance(layout.get("base_prompt"), str) else ""
    guidance = _number(settings.get("guidance"))
    fields: list[tuple[str, Any]] = [("Steps", _number(settings.get("steps"))), ("Sampler", "Euler")]
    if _guidance_distilled(model.get("family")):
        fields += [("CFG scale", "1"), ("Distilled CFG Scale", guidance)]
    else:
        fields.append(("CFG scale", guidance))
    seed = settings.get("seed", md.get("seed"))
    width, height = _number(settings.get("width")), _number(settings.get("height"))
    fields += [("Seed", _number(seed)), ("Size", f"{width}x{height}" if width and height else None),
               ("Model", _model_name(model))]
    image = _object(md.get("image"))
    count, index = image.get("count"), image.get("index")
    if isinstance(count, int) and isinstance(index, int) and count > 1:
        fields += [("Batch size", str(count)), ("Batch pos", str(index - 1))]  # A1111 counts from 0
    fields += _model_fields(model)
    fields += _method_fields(md, settings)
    instances = layout.get("instances")
    if isinstance(instances, list):
        fields.append(("Instances", str(len(instances))))
    version = _object(md.get("versions")).get("ast-studio")
    fields.append(("Version", f"AST Studio {version}" if isinstance(version, str) else "AST Studio"))
    line = ", ".join(f"{key}: {quote(value)}" for key, value in fields if value not in (None, ""))
    prompt = "\n".join(part.strip() for part in prompt.strip().splitlines())
    return f"{prompt}\n{line}" if prompt else line
