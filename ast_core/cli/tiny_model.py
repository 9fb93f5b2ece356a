"""``export-tiny-model DIR``: write a built-in tiny model as a diffusers folder."""
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
    quiet_libraries()
    from ..models import ModelLoadError, export_tiny_model

    name = _builtin_for(args.family)
    try:
        folder = export_tiny_model(args.folder, name)
    except ModelLoadError as e:
        raise CommandError(str(e)) from None
    except OSError as e:
        raise CommandError(f"{args.folder}: cannot be written ({e})") from None
    print(f"wrote {name} to {folder} (diffusers folder layout, safetensors); load it with --model {folder}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from ..models import DEFAULT_FAMILY, FAMILIES

    builtins = [f for f in FAMILIES.values() if f.builtin]
    p = sub.add_parser(
        "export-tiny-model", help="write a built-in tiny test model as a diffusers folder",
        description="Write a built-in tiny model (random weights, the real architecture's structure) in "
        "diffusers' folder layout so it can also be loaded as a model folder.",
    )
    p.add_argument("folder", metavar="DIR", help="new or empty folder (a previous export is replaced)")
    p.add_argument("--family", default=DEFAULT_FAMILY, metavar="NAME",
                   help="architecture or built-in model: " + ", ".join(
                       f"{f.architecture_name} ({f.name})" for f in builtins) + f" (default {DEFAULT_FAMILY})")
    p.set_defaults(func=cmd_export_tiny_model)
