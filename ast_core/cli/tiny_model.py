"""``export-tiny-model DIR``: write the built-in tiny-flux model as a diffusers folder."""
from __future__ import annotations

import argparse

from .errors import CommandError
from .quiet import quiet_libraries


def cmd_export_tiny_model(args) -> int:
    quiet_libraries()
    from ..models import ModelLoadError, export_tiny_model

    try:
        folder = export_tiny_model(args.folder)
    except ModelLoadError as e:
        raise CommandError(str(e)) from None
    except OSError as e:
        raise CommandError(f"{args.folder}: cannot be written ({e})") from None
    print(f"wrote tiny-flux to {folder} (diffusers folder layout, safetensors); load it with --model {folder}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-tiny-model", help="write the built-in tiny-flux test model as a diffusers folder",
        description="Write the built-in tiny-flux model (random weights, real FLUX structure) in diffusers' "
        "folder layout so it can also be loaded as a model folder.",
    )
    p.add_argument("folder", metavar="DIR", help="new or empty folder (a previous export is replaced)")
    p.set_defaults(func=cmd_export_tiny_model)
