"""``render PROJECT.astproj -o OUT.png``: generate an image from a project, headless."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .errors import CommandError
from .quiet import quiet_libraries

DEFAULT_MODEL = "black-forest-labs/FLUX.1-dev"
_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def _size(text: str) -> tuple[int, int]:
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"size must look like 1024x768, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"must look like NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def method_parameters(method_name: str, pairs: list[tuple[str, str]]) -> dict:
    """``--param NAME=VALUE`` pairs as the method's typed parameters (range checks come later)."""
    from ..methods import MethodParameterError, method

    try:
        known = {p.name: p for p in method(method_name).parameters}
    except MethodParameterError as e:
        raise CommandError(str(e)) from None
    out: dict = {}
    for name, text in pairs:
        p = known.get(name)
        if p is None:
            if not known:
                raise CommandError(f"--param: method {method_name} takes no parameters")
            raise CommandError(f"--param: method {method_name} has no parameter {name!r} "
                               f"(its parameters: {', '.join(known)})")
        try:
            if p.kind == "int":
                out[name] = int(text)
            elif p.kind == "float":
                out[name] = float(text)
            elif p.kind == "bool":
                out[name] = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}[text.lower()]
            else:
                out[name] = text
        except (ValueError, KeyError):
            kind = {"int": "a whole number", "float": "a number", "bool": "true or false"}.get(p.kind, p.kind)
            raise CommandError(f"--param {name}: must be {kind}, got {text!r}") from None
    return out


def _warn(messages) -> None:
    for m in messages:
        print(f"ast-studio render: warning: {m}", file=sys.stderr)


def _project_generation(settings: dict) -> dict:
    """Steps/guidance/seed/method stored by the studio under settings["generation"] (bad values ignored)."""
    g = settings.get("generation") if isinstance(settings, dict) else None
    out = {}
    if isinstance(g, dict):
        for key, kind in (("steps", int), ("guidance", (int, float)), ("seed", int), ("method", str)):
            v = g.get(key)
            if isinstance(v, kind) and not isinstance(v, bool):
                out[key] = float(v) if key == "guidance" else v
    if isinstance(settings, dict) and isinstance(settings.get("seed"), int) and "seed" not in out:
        out["seed"] = settings["seed"]  # importers store the seed at the top level
    return out


def cmd_render(args) -> int:
    quiet_libraries()
    from ..document.layout import LayoutError
    from ..project import ProjectFileError, load_project

    out = Path(args.output)
    if out.suffix.lower() != ".png":
        raise CommandError(f"{out}: the output file name must end in .png")
    if not out.parent.is_dir():
        raise CommandError(f"{out}: folder {str(out.parent)!r} does not exist")
    if out.exists() and not out.is_file():
        raise CommandError(f"{out}: exists and is not a file")
    if out.exists() and not args.force:
        raise CommandError(f"{out}: already exists (use --force to replace it)")
    masks_dir = Path(args.save_masks) if args.save_masks else None
    if masks_dir is not None and masks_dir.exists() and not masks_dir.is_dir():
        raise CommandError(f"{masks_dir}: exists and is not a folder")
    try:
        project = load_project(args.project)
    except ProjectFileError as e:
        raise CommandError(str(e)) from None
    except OSError as e:
        raise CommandError(f"{args.project}: cannot be read ({e})") from None

    from ..generate import GenerationSettings, PromptError, SettingsError, generate
    from ..methods import DEFAULT_METHOD, method
    from ..out_of_memory import free_memory, is_out_of_memory, out_of_memory_advice
    from ..generation.png_text import save_png
    from ..models import ModelLoadError, load_model
    from ..schedule import Schedule

    values = _project_generation(project.settings)
    for key in ("steps", "seed", "method", "guidance"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.size is not None:
        values["width"], values["height"] = args.size
    if args.param:
        values["method_parameters"] = method_parameters(values.get("method", DEFAULT_METHOD), args.param)
    try:
        settings = GenerationSettings(**values).validate()
        schedule = Schedule.from_dict(project.schedule) if project.schedule else None
    except (SettingsError, ValueError) as e:
        raise CommandError(f"{args.project}: {e}") from None

    try:
        model = load_model(args.model, device=args.device, dtype=args.dtype, cpu_offload=args.cpu_offload)
    except ModelLoadError as e:
        hint = " (or use --model tiny-flux for the built-in test model)" if args.model == DEFAULT_MODEL else ""
        raise CommandError(f"{e}{hint}") from None

    layout = project.layout
    try:
        if masks_dir is not None:
            written = method(settings.method).save_masks(model, layout, settings, masks_dir)
            print(f"wrote {len(written) - 1} mask picture(s) and {written[-1].name} to {masks_dir}")
        result = generate(layout, schedule, settings, model)
    except (PromptError, SettingsError, LayoutError) as e:
        raise CommandError(f"{args.project}: {e}") from None
    except (RuntimeError, MemoryError) as e:
        if not is_out_of_memory(e):
            raise
        free_memory()
        raise CommandError(f"{args.project}: {out_of_memory_advice(settings.width, settings.height)}") from None
    _warn(result.warnings)
    try:
        paths = []
        for k, image in enumerate(result.images):
            path = out if k == 0 else out.with_name(f"{out.stem}-{k + 1}{out.suffix}")
            save_png(image, path, result.metadata)
            paths.append(path)
    except OSError as e:
        raise CommandError(f"{out}: cannot be written ({e})") from None
    md = result.metadata
    s = md["settings"]
    print(f"wrote {', '.join(map(str, paths))}: {s['width']}x{s['height']}, {s['steps']} steps, seed {md['seed']}, "
          f"method {md['method_used']}, model {md['model']['family']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render", help="generate an image from a .astproj project (headless)",
        description="Render a project's layout with a diffusion transformer under a layout control method. Settings not given "
        "here come from the project (steps, guidance, seed, method; size = canvas size), then from the model.",
    )
    p.add_argument("project", metavar="PROJECT.astproj")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"tiny-flux (built in), a diffusers folder, or a Hugging Face id in the local cache "
                   f"(default {DEFAULT_MODEL})")
    from ..methods import METHODS

    p.add_argument("--method", choices=list(METHODS), default=None,
                   help="; ".join(f"{m.name}: {m.label}" for m in METHODS.values()) + " (default: the project's, else ast)")
    p.add_argument("--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter of the method, repeatable; "
                   + "; ".join(f"{m.name}: " + ", ".join(f"{q.name} ({q.kind}, default {q.default})"
                                                          for q in m.parameters)
                               for m in METHODS.values() if m.parameters)
                   + " (metadata records every parameter)")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--guidance", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--size", type=_size, default=None, metavar="WxH", help="image size (default: canvas size)")
    p.add_argument("--save-masks", metavar="DIR", default=None,
                   help="write what the model sees as pictures: ast and none: the token-grid masks (PNG per "
                   "segment) and token_roles.json; regional: the region masks, the attention mask and regions.json")
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N, mps")
    p.add_argument("--dtype", default="auto", help="auto (bf16 on cuda, fp16 on mps, f32 on cpu), bf16, fp16, f32")
    p.add_argument("--cpu-offload", action="store_true", help="keep only the running model part on the GPU")
    p.add_argument("--force", action="store_true", help="replace OUT.png if it exists")
    p.set_defaults(func=cmd_render)
