"""``import-seed``, ``import-boxes``, ``import-masks``, ``import-png``, ``export-sketch``, ``export-masks``."""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
from pathlib import Path

from ..document.layout import LayoutError
from ..exporters import MasksTooLarge, mask_files, render_sketch
from ..importers import ImportFileError, Imported, import_boxes, import_masks, import_seed
from ..project import Project, ProjectFileError, load_project, save_project
from .errors import CommandError

PROJECT_SUFFIX = ".astproj"


def check_new_file(path: str | Path, force: bool, inputs: list[str | Path] = (), suffix: str | None = None) -> Path:
    """``path`` as a file the command may create (or replace with ``--force``)."""
    path = Path(path)
    if suffix and path.suffix.lower() != suffix:
        raise CommandError(f"{path}: the output file name must end in {suffix}")
    if not path.parent.is_dir():
        raise CommandError(f"{path}: folder {str(path.parent)!r} does not exist")
    if path.exists() and not path.is_file():
        raise CommandError(f"{path}: exists and is not a file")
    for src in inputs:
        if path.exists() and Path(src).exists() and path.resolve() == Path(src).resolve():
            raise CommandError(f"{path}: the output would overwrite an input file")
    if path.exists() and not force:
        raise CommandError(f"{path}: already exists (use --force to replace it)")
    return path


def warn(command: str, messages: list[str]) -> None:
    for m in messages:
        print(f"ast-studio {command}: warning: {m}", file=sys.stderr)


def _save_imported(command: str, result: Imported, out: Path) -> int:
    warn(command, result.warnings)
    try:
        save_project(Project(result.layout, settings=result.project_settings()), out)
    except ProjectFileError as e:
        raise CommandError(f"{out}: cannot be written ({e.problem})") from None
    except OSError as e:
        raise CommandError(f"{out}: cannot be written ({e.strerror or e})") from None
    n = len(result.layout.instances)
    print(f"wrote {out}: {result.layout.width}x{result.layout.height}, {n} instance{'s' * (n != 1)}")
    return 0


def _import(command: str, args, inputs: list, run) -> int:
    out = check_new_file(args.output, args.force, inputs, PROJECT_SUFFIX)
    try:
        result = run()
    except (ImportFileError, LayoutError) as e:
        raise CommandError(str(e)) from None
    return _save_imported(command, result, out)


def cmd_import_seed(args) -> int:
    return _import("import-seed", args, [args.layout, args.prompts], lambda: import_seed(args.layout, args.prompts, colours="sketch" if args.keep_colours else "palette"))


def cmd_import_boxes(args) -> int:
    return _import("import-boxes", args, [args.boxes],
                   lambda: import_boxes(args.boxes, args.index, args.name, args.append_to_base))


def cmd_import_masks(args) -> int:
    inputs = list(args.masks) + ([args.prompts] if args.prompts else [])
    return _import("import-masks", args, inputs, lambda: import_masks(args.masks, args.prompts))


def _load(path: str) -> Project:
    try:
        return load_project(path)
    except ProjectFileError as e:
        raise CommandError(str(e)) from None


def _temp(path: Path) -> Path:
    return path.with_name(f".{path.name}.writing")


def _write_all(files: dict[Path, bytes]) -> None:
    """Write prepared files: each to a temp file first, and only when all of them are on the
    disk, move them into place. On failure (a full disk) no temp file stays behind, and no
    existing file has been replaced."""
    path = None
    try:
        for path, data in files.items():
            with open(_temp(path), "wb") as f:
                f.write(data)
        for path in files:
            os.replace(_temp(path), path)
    except OSError as e:
        for p in files:
            try:
                _temp(p).unlink(missing_ok=True)
            except OSError:
                pass
        raise CommandError(f"{path}: cannot be written ({e.strerror or e})") from None


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def cmd_export_sketch(args) -> int:
    out = check_new_file(args.output, args.force, [args.project], ".png")
    json_out = check_new_file(out.with_suffix(".json"), args.force, [args.project])
    project = _load(args.project)
    sketch = render_sketch(project.layout, out.name)
    sketch.prompts["seed"] = project.settings.generation.seed
    warn("export-sketch", sketch.warnings)
    _write_all({out: _png(sketch.image),
                json_out: (json.dumps(sketch.prompts, indent=2, ensure_ascii=False) + "\n").encode()})
    print(f"wrote {out} and {json_out}: {len(sketch.prompts['segments']) - 1} instances")
    return 0


def parse_grid(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*", text or "")
    if not m or not (0 < int(m.group(1)) <= 8192 and 0 < int(m.group(2)) <= 8192):
        raise CommandError(f"--grid {text!r}: expected COLSxROWS, e.g. 64x64 (1 to 8192 each)")
    return int(m.group(1)), int(m.group(2))


def cmd_export_masks(args) -> int:
    grid = parse_grid(args.grid) if args.grid else None
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"{folder}: exists and is not a folder")
    if not folder.parent.is_dir():
        raise CommandError(f"{folder}: folder {str(folder.parent)!r} does not exist")
    project = _load(args.project)
    try:
        files, index = mask_files(project.layout, grid, args.soft)
    except MasksTooLarge as e:
        raise CommandError(f"{e}: export a smaller --grid (or hide some instances)") from None
    planned = {folder / f.name: _png(f.image) for f in files}
    planned[folder / "masks.json"] = (json.dumps(index, indent=2, ensure_ascii=False) + "\n").encode()
    clashes = [p.name for p in planned if p.exists()]
    if clashes and not args.force:
        raise CommandError(f"{folder}: would overwrite {len(clashes)} file(s) such as {clashes[0]} (use --force)")
    created = not folder.exists()
    try:
        folder.mkdir(exist_ok=True)
    except OSError as e:
        raise CommandError(f"{folder}: cannot create the folder ({e.strerror or e})") from None
    try:
        _write_all(planned)
    except CommandError:
        if created:
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    cols, rows = index["grid"]
    print(f"wrote {len(files)} masks ({cols}x{rows}, {'soft' if args.soft else 'binary'}) and masks.json to {folder}")
    return 0


def cmd_import_png(args) -> int:
    """A render PNG of AST Studio (command line or studio) -> the project that made it, the PNG in its history."""
    from ..provenance import ProvenanceError, read_png

    out = check_new_file(args.output, args.force, [args.image], PROJECT_SUFFIX)
    try:
        read = read_png(args.image)
    except ProvenanceError as e:
        raise CommandError(str(e)) from None
    warn("import-png", read.warnings)
    try:
        save_project(read.project, out)
    except ProjectFileError as e:
        raise CommandError(f"{out}: cannot be written ({e.problem})") from None
    except OSError as e:
        raise CommandError(f"{out}: cannot be written ({e.strerror or e})") from None
    layout, generation = read.project.layout, read.project.settings.generation
    n = len(layout.instances)
    model = read.metadata.get("model") if isinstance(read.metadata.get("model"), dict) else {}
    made = f", made with {model['family']}" if isinstance(model.get("family"), str) else ""
    print(f"wrote {out}: {layout.width}x{layout.height}, {n} instance{'s' * (n != 1)}, seed {generation.seed}, "
          f"method {generation.method}{made}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    force = dict(action="store_true", help="replace an existing output")

    p = sub.add_parser("import-seed", help="colour sketch PNG + prompts JSON (original AST demo format) -> project",
                       description="White = background = segments[0]; other colours ranked by pixel count = "
                                   "segments[1..]; black is ignored.")
    p.add_argument("layout", metavar="LAYOUT.png")
    p.add_argument("prompts", metavar="PROMPTS.json")
    p.add_argument("-o", "--output", required=True, metavar="OUT.astproj")
    p.add_argument("--keep-colours", action="store_true",
                   help="keep the sketch's own colours (default: the studio's distinct palette)")
    p.add_argument("--force", **force)
    p.set_defaults(func=cmd_import_seed)

    p = sub.add_parser("import-boxes", help="regional-prompting box list JSON (its public examples' format) -> project",
                       description="Regions become rectangular instances whose prompts are the region descriptions. "
                                   "AST needs each instance's text inside the base prompt: --append-to-base adds the "
                                   "missing descriptions to it.")
    p.add_argument("boxes", metavar="BOXES.json")
    p.add_argument("-o", "--output", required=True, metavar="OUT.astproj")
    p.add_argument("--index", type=int, metavar="N", help="which layout of a list (0-based)")
    p.add_argument("--name", metavar="NAME", help="which layout of a list, by its \"name\"")
    p.add_argument("--append-to-base", action="store_true",
                   help="append region descriptions missing from the base prompt to it")
    p.add_argument("--force", **force)
    p.set_defaults(func=cmd_import_boxes)

    p = sub.add_parser("import-masks", help="black/white mask PNGs (one per instance) -> project",
                       description="White (> 127) = inside. Masks are stacked in the order given (last on top). "
                                   "PROMPTS.json: seed form {\"prompt\", \"segments\": [background, one per mask]} or "
                                   "{\"base_prompt\", \"background_prompt\", \"instances\": [prompt or "
                                   "{\"prompt\", \"name\", \"color\"}, one per mask]}.")
    p.add_argument("masks", nargs="+", metavar="MASK.png")
    p.add_argument("--prompts", metavar="PROMPTS.json")
    p.add_argument("-o", "--output", required=True, metavar="OUT.astproj")
    p.add_argument("--force", **force)
    p.set_defaults(func=cmd_import_masks)

    p = sub.add_parser("import-png", help="a render PNG of AST Studio -> the project that made it",
                       description="Reads the PNG's ast-studio:metadata chunk (written by `render` and the studio's "
                                   "history export): layout, prompts, settings, method parameters, schedule, LoRAs and "
                                   "the image's own seed; the PNG joins the project's history. Nothing is decoded "
                                   "but the text chunks.")
    p.add_argument("image", metavar="IMAGE.png")
    p.add_argument("-o", "--output", required=True, metavar="OUT.astproj")
    p.add_argument("--force", **force)
    p.set_defaults(func=cmd_import_png)

    p = sub.add_parser("export-sketch", help="project -> colour sketch PNG + prompts JSON (seed format)",
                       description="Writes OUT.png and OUT.json next to it; import-seed reads them back.")
    p.add_argument("project", metavar="PROJECT.astproj")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png")
    p.add_argument("--force", **force)
    p.set_defaults(func=cmd_export_sketch)

    p = sub.add_parser("export-masks", help="project -> one mask PNG per instance + background + masks.json",
                       description="Masks are exclusive by z-order (an overlapped pixel belongs to the upper "
                                   "instance); --grid gives another grid, e.g. 64x64 for the transformer's 16-pixel tokens at 1024x1024.")
    p.add_argument("project", metavar="PROJECT.astproj")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--grid", metavar="WxH", help="mask grid in cells (default: the canvas pixels)")
    p.add_argument("--soft", action="store_true", help="grey levels = area coverage instead of black/white")
    p.add_argument("--force", **force)
    p.set_defaults(func=cmd_export_masks)
