"""``render PROJECT.astproj -o OUT.png``: generate an image from a project, headless."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..models.architectures import DEFAULT_FAMILY, family_names
from .errors import CommandError
from .progress import RenderProgress
from .quiet import quiet_libraries

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


def _project_generation(generation) -> dict:
    """The engine settings a project's RenderSettings give (None = the model's default)."""
    values = {"steps": generation.steps, "guidance": generation.guidance, "seed": generation.seed,
              "method": generation.method, "num_images": generation.count}
    return {k: v for k, v in values.items() if v is not None}


def output_paths(out: Path, count: int) -> list[Path]:
    """``OUT.png`` for one image; ``OUT-1.png`` ... ``OUT-N.png`` (numbers padded alike) for several."""
    if count == 1:
        return [out]
    width = len(str(count))
    return [out.with_name(f"{out.stem}-{k:0{width}d}{out.suffix}") for k in range(1, count + 1)]


def model_options(args, project_settings):
    """(ModelOptions, hint on failure): ``--model`` when given, else the model configured in the
    studio's Model settings, else the default built-in model (with a one-line note); each flag
    given overrides that choice's option; LoRAs: ``--lora`` flags, else the project's list."""
    from dataclasses import replace

    from ..models.configuration import configuration_path, configured_model
    from ..models.options import ModelOptions, OptionError, parse_lora

    if args.model is not None:
        chosen = ModelOptions(source=args.model)
        builtin = args.model in family_names(builtin=True)
        hint = "" if builtin else f" (--model {DEFAULT_FAMILY} renders with the built-in test model)"
    else:
        config, note = configured_model()
        if note and not args.quiet:
            print(f"ast-studio render: note: {note} (or give --model)", file=sys.stderr)
        if config.missing_location():
            raise CommandError(f"the configured model: {config.missing_location()} (stored in "
                               f"{configuration_path()}), or give --model")
        chosen = config.options()
        hint = (f" (the model configured in {configuration_path()}; --model chooses another, "
                f"--model {DEFAULT_FAMILY} the built-in test model)")
    offload = args.offload or ("model" if args.cpu_offload else None)
    given = {"base": args.base, "vae": args.vae, "device": args.device, "dtype": args.dtype,
             "quantize": args.quantize, "text_encoder_quantize": args.text_encoder_quantize,
             "offload": offload, "vae_tiling": args.vae_tiling,
             "text_encoders": tuple(args.text_encoder) or None}
    try:
        loras = tuple(parse_lora(text) for text in args.lora) if args.lora else project_settings.loras
        options = replace(chosen, loras=loras, **{k: v for k, v in given.items() if v is not None})
        return options.validate(), hint
    except OptionError as e:
        raise CommandError(str(e)) from None


def cmd_render(args) -> int:
    quiet_libraries()
    from ..document.layout import LayoutError
    from ..project import ProjectFileError, load_project

    out = Path(args.output)
    if out.suffix.lower() != ".png":
        raise CommandError(f"{out}: the output file name must end in .png")
    if not out.parent.is_dir():
        raise CommandError(f"{out}: folder {str(out.parent)!r} does not exist")
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
    from ..methods import DEFAULT_METHOD, METHODS, method
    from ..out_of_memory import free_memory, is_out_of_memory, out_of_memory_advice
    from ..provenance import save_png
    from ..models import ModelLoadError, load_model

    values = _project_generation(project.settings.generation)
    if project.schedule_problem:
        _warn([f"the project's schedule could not be read ({project.schedule_problem}); rendering with the "
               "model's default schedule"])
    for key in ("steps", "seed", "method", "guidance"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.count is not None:
        from ..project.settings import MAX_IMAGES

        if not 1 <= args.count <= MAX_IMAGES:
            raise CommandError(f"--count must be between 1 and {MAX_IMAGES}, got {args.count}")
        values["num_images"] = args.count
    if args.size is not None:
        values["width"], values["height"] = args.size
    chosen_method = values.get("method", DEFAULT_METHOD)
    # the project's parameters for the method, then --param NAME=VALUE on top
    stored = project.settings.method_parameters(chosen_method) if chosen_method in METHODS else {}
    values["method_parameters"] = {**stored, **method_parameters(chosen_method, args.param)}
    try:
        settings = GenerationSettings(**values).validate()
        schedule = project.schedule
        method(settings.method).check_prompts(project.layout)  # before a model loads for a minute
    except (SettingsError, ValueError) as e:  # PromptError is a ValueError
        raise CommandError(f"{args.project}: {e}") from None
    paths = output_paths(out, settings.num_images)
    for path in paths:
        if path.exists() and not path.is_file():
            raise CommandError(f"{path}: exists and is not a file")
        if path.exists() and not args.force:
            raise CommandError(f"{path}: already exists (use --force to replace it)")

    options, hint = model_options(args, project.settings)
    progress = RenderProgress(RenderProgress.wanted(args.quiet))
    try:
        try:
            model = load_model(options, on_progress=progress.stage)
        except ModelLoadError as e:
            raise CommandError(f"{e}{hint}") from None
        layout = project.layout
        try:
            if masks_dir is not None:
                written = method(settings.method).save_masks(model, layout, settings, masks_dir)
                if not args.quiet:
                    print(f"wrote {len(written) - 1} mask picture(s) and {written[-1].name} to {masks_dir}")
            result = generate(layout, schedule, settings, model, on_step=progress.step if progress.enabled else None,
                              on_stage=progress.stage)
        except (PromptError, SettingsError, LayoutError) as e:
            raise CommandError(f"{args.project}: {e}") from None
        except (RuntimeError, MemoryError) as e:
            if not is_out_of_memory(e):
                raise
            free_memory()
            raise CommandError(f"{args.project}: {out_of_memory_advice(settings.width, settings.height)}") from None
    finally:
        progress.close()
    _warn(result.warnings)
    try:
        for path, image, metadata in zip(paths, result.images, result.image_metadata):
            save_png(image, path, metadata)
    except OSError as e:
        raise CommandError(f"{out}: cannot be written ({e})") from None
    if not args.quiet:
        print(f"wrote {', '.join(map(str, paths))}: {_summary(result.metadata)}")
    return 0


def _summary(md: dict) -> str:
    s = md["settings"]
    n = s["num_images"]
    seeds = f"seed {s['seed']}" if n == 1 else f"seeds {s['seed']}-{s['seed'] + n - 1}"
    loras = md["model"].get("loras") or []
    extra = f", {len(loras)} LoRA{'s' if len(loras) != 1 else ''}" if loras else ""
    return (f"{s['width']}x{s['height']}, {s['steps']} steps, {seeds}, method {md['method_used']}, "
            f"model {md['model']['family']} on {md['model']['device_name']}{extra}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render", help="generate an image from a .astproj project (headless)",
        description="Render a project's layout with a diffusion transformer under a layout control method. Settings not given "
        "here come from the project (steps, guidance, seed, method; size = canvas size), then from the model.",
    )
    p.add_argument("project", metavar="PROJECT.astproj")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png")
    p.add_argument("--model", default=None,
                   help=f"{' or '.join(family_names(builtin=True))} (built in), a diffusers folder, a Hugging Face id in "
                   f"the local cache, or one weights file (.safetensors / .gguf transformer or all-in-one checkpoint) "
                   f"(default: the model chosen in the studio's Model settings, else {DEFAULT_FAMILY})")
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
    p.add_argument("--count", type=int, default=None, metavar="N",
                   help="images to make, seeds S, S+1, ... (variations; default: the project's, else 1); "
                   "several are written as OUT-1.png ... OUT-N.png, each with its own seed in its metadata")
    p.add_argument("--size", type=_size, default=None, metavar="WxH", help="image size (default: canvas size)")
    p.add_argument("--save-masks", metavar="DIR", default=None,
                   help="write what the model sees as pictures: ast and none: the token-grid masks (PNG per "
                   "segment) and token_roles.json; regional: the region masks, the attention mask and regions.json")
    from ..models.options import OFFLOADS, QUANTISATIONS, VAE_TILINGS

    p.add_argument("--base", default=None, metavar="FOLDER|HF_ID",
                   help="with a single-file --model: where the other parts and the configs come from (default: the "
                   "model family's usual repository in the Hugging Face cache)")
    p.add_argument("--vae", default=None, metavar="FILE", help="a VAE file replacing the model's")
    p.add_argument("--text-encoder", action="append", default=[], metavar="FILE",
                   help="a text encoder file (CLIP-L, CLIP-G or T5, told apart by its contents); repeatable")
    p.add_argument("--device", default=None,
                   help="auto (cuda/ROCm > xpu > mps > cpu), cpu, cuda, cuda:N, xpu, mps")
    p.add_argument("--dtype", default=None,
                   help="auto (bf16 on GPUs and on Apple MPS with macOS 14+, f32 on cpu), bf16, fp16, f32")
    p.add_argument("--quantize", choices=list(QUANTISATIONS), default=None,
                   help="transformer weights: " + "; ".join(f"{k}: {v}" for k, v in QUANTISATIONS.items() if k != "none")
                   + ". GGUF files are quantised already")
    p.add_argument("--text-encoder-quantize", "--t5-quantize", choices=list(QUANTISATIONS), default=None,
                   help="the T5 text encoder's weights (fp8, int8, nf4, torchao-int8...)")
    p.add_argument("--offload", choices=list(OFFLOADS), default=None,
                   help="; ".join(f"{k}: {v}" for k, v in OFFLOADS.items()))
    p.add_argument("--cpu-offload", action="store_true", help="the same as --offload model")
    p.add_argument("--vae-tiling", choices=list(VAE_TILINGS), default=None,
                   help="; ".join(f"{k}: {v}" for k, v in VAE_TILINGS.items()))
    p.add_argument("--lora", action="append", default=[], metavar="FILE[:SCALE]",
                   help="a LoRA and its strength (default 1); repeatable. Given, these replace the project's LoRAs")
    p.add_argument("--force", action="store_true", help="replace OUT.png if it exists")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print only warnings and errors (no progress bar, no summary)")
    p.set_defaults(func=cmd_render)
