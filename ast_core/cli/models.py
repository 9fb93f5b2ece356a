"""``models scan DIR``: list the weight files of a models folder (ComfyUI layout or any folder) and what each is."""
from __future__ import annotations

import argparse
import json

from .errors import CommandError


def cmd_models_scan(args) -> int:
    from ..models.checkpoint_files import CheckpointFileError, scan_folder

    try:
        found, problems = scan_folder(args.folder)
    except CheckpointFileError as e:
        raise CommandError(str(e)) from None
    if args.json:
        print(json.dumps({"files": [f.to_dict() for f in found], "problems": problems}, indent=2))
        return 0
    if not found and not problems:
        print(f"no .safetensors or .gguf files under {args.folder}")
        return 0
    from pathlib import Path

    root = Path(args.folder).expanduser()
    width = max((len(str(f.path.relative_to(root))) for f in found), default=0)
    for f in found:
        print(f"{str(f.path.relative_to(root)):<{width}}  {f.describe()}")
    for line in problems:
        print(f"unreadable: {line}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="look at model files (scan a models folder)",
                       description="Commands about model weight files.")
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    scan = msub.add_parser(
        "scan", help="list the weight files under DIR with what each holds",
        description="List every .safetensors/.gguf file under DIR (e.g. ComfyUI's models folder with checkpoints/, "
        "diffusion_models/ or unet/, clip/ or text_encoders/, vae/, loras/) with what it holds: transformer, "
        "all-in-one checkpoint, VAE, text encoder (CLIP-L, CLIP-G, T5) or LoRA, the model family it fits and "
        "its storage type. Only file headers are read.")
    scan.add_argument("folder", metavar="DIR")
    scan.add_argument("--json", action="store_true", help="print JSON instead of a table")
    scan.set_defaults(func=cmd_models_scan)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])
