"""``render PROJECT.astproj -o OUT.png``: generate an image from a project, headless."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .errors import CommandError
from .quiet import quiet_libraries

_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def _size(text: str) -> tuple[int, int]:
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"size must look like 1024x768, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _builtins():
    from ..models import FAMILIES

    return [f for f in FAMILIES.values() if f.builtin]


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


def _model_choice(args) -> tuple[str, str, str, bool, str]:
    """(source, device, dtype, cpu_offload, hint on failure): ``--model`` and the flags when given,
    else the model configured in the studio's Model settings, else the default built-in model (with a note)."""
    from ..models import DEFAULT_FAMILY
    from ..models.configuration import configuration_path, configured_model

    if args.model is not None:
        builtin = any(args.model == f.name for f in _builtins())
        return (args.model, args.device or "auto", args.dtype or "auto", args.cpu_offload,
                "" if builtin else f" (--model {DEFAULT_FAMILY} renders with the built-in test model)")
    config, note = configured_model()
    if note:
        print(f"ast-studio render: note: {note} (or give --model)", file=sys.stderr)
    if config.missing_location():
        raise CommandError(f"the configured model: {config.missing_location()} (stored in "
                           f"{configuration_path()}), or give --model")
    hint = (f" (the model configured in {configuration_path()}; --model chooses another, --model {DEFAULT_FAMILY} "
            f"the built-in test model)")
    return (config.load_source(), args.device or config.device, args.dtype or config.dtype,
            args.cpu_offload or config.cpu_offload, hint)


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

    from ..generate import GenerationSettings, PromptError, SettingsError, generate, prepare
    from ..generation.mask_files import save_masks
    from ..out_of_memory import free_memory, is_out_of_memory, out_of_memory_advice
    from ..provenance import save_png
    from ..models import ModelLoadError, load_model
    from ..schedule import Schedule

    values = _project_generation(project.settings)
    for key in ("steps", "seed", "method", "guidance"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.size is not None:
        values["width"], values["height"] = args.size
    try:
        settings = GenerationSettings(**values).validate()
        schedule = Schedule.from_dict(project.schedule) if project.schedule else None
    except (SettingsError, ValueError) as e:
        raise CommandError(f"{args.project}: {e}") from None

    source, device, dtype, cpu_offload, hint = _model_choice(args)
    try:
        model = load_model(source, device=device, dtype=dtype, cpu_offload=cpu_offload)
    except ModelLoadError as e:
        raise CommandError(f"{e}{hint}") from None

    layout = project.layout
    try:
        if masks_dir is not None:
            _, plan = prepare(layout, settings, model)
            if plan.analysis is None and not plan.empty:
                # a method without spans: still show the token roles when they can be computed
                try:
                    _, plan = prepare(layout, settings, model, with_text=True)
                except PromptError:
                    pass
            written = save_masks(plan, masks_dir)
            print(f"wrote {len(written) - 1} mask(s) and {written[-1].name} to {masks_dir}")
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
    from ..methods import METHODS
    from ..models import DEFAULT_FAMILY

    p.add_argument("--model", default=None,
                   help=f"a built-in model ({', '.join(f.name for f in _builtins())}), a diffusers folder, or a "
                   f"Hugging Face id in the local cache (default: the model chosen in the studio's Model settings, "
                   f"else {DEFAULT_FAMILY})")
    p.add_argument("--method", choices=list(METHODS), default=None,
                   help="; ".join(f"{m.name}: {m.label}" for m in METHODS.values()) + " (default: the project's, else ast)")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--guidance", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--size", type=_size, default=None, metavar="WxH", help="image size (default: canvas size)")
    p.add_argument("--save-masks", metavar="DIR", default=None,
                   help="write the token-grid masks used (PNG per segment) and token_roles.json")
    p.add_argument("--device", default=None, help="auto (cuda > mps > cpu), cpu, cuda, cuda:N, mps "
                   "(default: the configured model's, else auto)")
    p.add_argument("--dtype", default=None, help="auto (bf16 on cuda, fp16 on mps, f32 on cpu), bf16, fp16, f32 "
                   "(default: the configured model's, else auto)")
    p.add_argument("--cpu-offload", action="store_true", help="keep only the running model part on the GPU")
    p.add_argument("--force", action="store_true", help="replace OUT.png if it exists")
    p.set_defaults(func=cmd_render)
