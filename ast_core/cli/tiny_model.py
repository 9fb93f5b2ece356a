"""``export-tiny-model DIR`` / ``--single-file FILE``: write a built-in tiny model as a diffusers folder,
or its transformer as one file in the architecture's original key layout (safetensors or GGUF)."""
from __future__ import annotations

import argparse

from .errors import CommandError
from .quiet import quiet_libraries


def _builtin_for(name: str) -> str:
    """A built-in family name, or an architecture name ("flux", "sd3") -> its built-in family."""
    from ..models import FAMILIES

    builtins = [f for f in FAMILIES.values() if f.builtin]
    for fam in builtins:
        if name in (fam.name, fam.architecture_name):
            return fam.name
    choices = sorted({f.architecture_name for f in builtins} | {f.name for f in builtins})
    raise CommandError(f"--family: no built-in model for {name!r}; choose one of {', '.join(choices)}")


def cmd_export_tiny_model(args) -> int:
    if not args.folder and not args.single_file:
        raise CommandError("give a folder (DIR) and/or --single-file FILE")
    quiet_libraries()
    from ..models import ModelLoadError, export_tiny_model, export_tiny_single_file
    from ..models.quantisation import QuantisationError

    name = _builtin_for(args.family)
    try:
        if args.folder:
            folder = export_tiny_model(args.folder, name)
            print(f"wrote {name} to {folder} (diffusers folder layout, safetensors); load it with --model {folder}")
        if args.single_file:
            path = export_tiny_single_file(args.single_file, name, args.gguf_type)
            kind = f"GGUF, {args.gguf_type}" if path.suffix.lower() == ".gguf" else "safetensors, float32"
            print(f"wrote {name}'s transformer to {path} (original single-file key layout, {kind}); "
                  f"load it with --model {path}")
    except (ModelLoadError, QuantisationError, ValueError) as e:
        raise CommandError(str(e)) from None
    except OSError as e:
        raise CommandError(f"{args.single_file or args.folder}: cannot be written ({e})") from None
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from ..models import DEFAULT_FAMILY, FAMILIES
    from ..models.gguf_files import WRITABLE

    builtins = [f for f in FAMILIES.values() if f.builtin]
    p = sub.add_parser(
        "export-tiny-model", help="write a built-in tiny test model as a diffusers folder or a single file",
        description="Write a built-in tiny model (random weights, the real architecture's structure) in "
        "diffusers' folder layout so it can also be loaded as a model folder, and/or its transformer as one "
        "file in the original single-file key layout (.safetensors, or .gguf quantised) as published "
        "checkpoints are.",
    )
    p.add_argument("folder", metavar="DIR", nargs="?", default=None,
                   help="new or empty folder (a previous export is replaced)")
    p.add_argument("--single-file", metavar="FILE", default=None,
                   help="write the transformer alone to FILE (.safetensors or .gguf)")
    p.add_argument("--gguf-type", choices=list(WRITABLE), default="Q8_0",
                   help="quantisation of a .gguf single file (default Q8_0)")
    p.add_argument("--family", default=DEFAULT_FAMILY, metavar="NAME",
                   help="architecture or built-in model: " + ", ".join(
                       f"{f.architecture_name} ({f.name})" for f in builtins) + f" (default {DEFAULT_FAMILY})")
    p.set_defaults(func=cmd_export_tiny_model)
