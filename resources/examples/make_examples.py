"""Rebuild the example projects from the seed sketches (reproducible: same input, same bytes).

    .venv/bin/python resources/examples/make_examples.py

Reads tests/data/seed-examples/{beach,living_room,winter_night}.{png,json}, imports each
with the seed-sketch importer (the same as ``ast-studio import-seed``), gives the
instances stable ids and writes resources/examples/<name>.astproj.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from ast_core.importers import import_seed  # noqa: E402
from ast_core.project import Project, save_project  # noqa: E402

SEEDS = ROOT / "tests" / "data" / "seed-examples"
EXAMPLES = ("beach", "living_room", "winter_night")
#: Fixed timestamps so that rebuilding gives identical files.
STAMP = "2026-01-01T00:00:00+00:00"


def build(name: str, out_dir: Path = HERE) -> Path:
    result = import_seed(SEEDS / f"{name}.png", SEEDS / f"{name}.json")
    for k, inst in enumerate(result.layout.instances, start=1):
        inst.id = f"{name}-{k}"
    project = Project(result.layout, settings=result.project_settings(), created=STAMP)
    out = out_dir / f"{name}.astproj"
    save_project(project, out, keep_backup=False, modified=STAMP)
    return out


def main() -> int:
    for name in EXAMPLES:
        out = build(name)
        print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
