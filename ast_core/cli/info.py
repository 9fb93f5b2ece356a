"""``info PROJECT.astproj``: what a project holds, with areas and warnings."""
from __future__ import annotations

import argparse
import json
import math
from typing import Any

import numpy as np

from ..document import Layout
from ..masks import fill
from ..methods import method as control_method
from ..project import ProjectFileError, load_project
from .errors import CommandError


def exclusive_areas(layout: Layout) -> tuple[dict[str, int], int]:
    """Canvas pixels each visible instance owns (the upper one wins where they overlap), and
    the background's: the pixel masks of ``rasterize``, counted one instance at a time so
    only one canvas-sized raster is ever in memory (a layout may hold 1,000 instances)."""
    covered = np.zeros((layout.height, layout.width), bool)
    areas: dict[str, int] = {}
    for inst in reversed(layout.visible_instances()):
        areas[inst.id] = 0
        if inst.is_empty:
            continue
        x0, y0, x1, y1 = inst.geometry.bounds
        c0, r0 = max(0, math.floor(x0)), max(0, math.floor(y0))
        c1, r1 = min(layout.width, math.ceil(x1) + 1), min(layout.height, math.ceil(y1) + 1)
        if c1 <= c0 or r1 <= r0:
            continue
        inside = fill(inst.geometry, c1 - c0, r1 - r0, 1.0, 1.0, origin=(c0, r0))
        window = covered[r0:r1, c0:c1]
        areas[inst.id] = int(np.count_nonzero(inside & ~window))
        window |= inside
    return areas, int(covered.size - np.count_nonzero(covered))


def summary(layout: Layout, method_name: str = "ast") -> dict[str, Any]:
    """Areas (exclusive by z-order, in canvas pixels) and warnings of a layout rendered with
    control method ``method_name`` (text missing from the base prompt is flagged only where the
    method needs it there, as the studio's prompt editors do)."""
    areas, bg = exclusive_areas(layout)
    total = layout.width * layout.height
    needs_text = control_method(method_name).needs_text_in_base_prompt
    missing = {i.id for i in layout.instances_missing_from_base_prompt()} if needs_text else set()
    instances, warnings = [], []
    for z, inst in enumerate(layout.instances):
        px = areas.get(inst.id)
        instances.append({"z": z, "id": inst.id, "name": inst.name, "prompt": inst.prompt, "color": inst.color,
                          "visible": inst.visible, "strength": inst.strength, "area_px": px,
                          "area_percent": None if px is None else round(100 * px / total, 2)})
        if inst.is_empty:
            warnings.append(f"instance {inst.name!r} is empty (it takes no part in generation)")
        elif px == 0:
            warnings.append(f"instance {inst.name!r} is entirely covered by instances above it")
        if not inst.visible:
            warnings.append(f"instance {inst.name!r} is hidden")
        if not inst.prompt.strip():
            warnings.append(f"instance {inst.name!r} has no prompt")
        elif inst.id in missing:
            warnings.append(f"instance {inst.name!r}: its prompt {inst.prompt!r} is not in the base prompt")
    if needs_text and layout.background_missing_from_base_prompt():
        warnings.append(f"the background prompt {layout.background_prompt!r} is not in the base prompt")
    if not layout.base_prompt.strip():
        warnings.append("the base prompt is empty")
    return {
        "width": layout.width, "height": layout.height, "base_prompt": layout.base_prompt,
        "background": {"prompt": layout.background_prompt, "area_px": bg, "area_percent": round(100 * bg / total, 2)},
        "instances": instances, "warnings": warnings,
    }


def _shown(text: str) -> str:
    """``text`` for a terminal: control and formatting characters (an escape sequence, a
    right-to-left override from a hostile file) are shown escaped instead of acting."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def cmd_info(args) -> int:
    try:
        project = load_project(args.project)
    except ProjectFileError as e:
        raise CommandError(str(e)) from None
    method_name = project.settings.generation.method
    s = summary(project.layout, method_name)
    s["method"] = method_name
    s["warnings"] += [f"settings: {w}" for w in project.settings.warnings]
    if project.schedule_problem:
        s["warnings"].append(f"schedule: cannot be read ({project.schedule_problem}); kept as it is")
    if args.json:
        s.update(file=args.project, created=project.created, modified=project.modified, renders=len(project.renders))
        print(json.dumps(s, indent=2, ensure_ascii=False))
        return 0
    n = len(s["instances"])
    print(f"{_shown(str(args.project))}: {s['width']}x{s['height']}, {n} instance{'s' * (n != 1)}, "
          f"{len(project.renders)} render{'s' * (len(project.renders) != 1)}")
    print(f"method:      {control_method(method_name).label}")
    print(f"base prompt: {_shown(s['base_prompt'])}")
    bg = s["background"]
    print(f"background:  {bg['prompt']!r}  {bg['area_px']} px ({bg['area_percent']:.1f}%)")
    print("instances (bottom to top):")
    width = max([len(_shown(i["name"])) for i in s["instances"]] + [4])
    for i in s["instances"]:
        area = "hidden" if i["area_px"] is None else f"{i['area_px']:>8} px ({i['area_percent']:5.1f}%)"
        strength = f"  strength {i['strength']:g}" if i["strength"] != 1.0 else ""
        print(f"  {i['z'] + 1:>2}. {_shown(i['name']):<{width}}  {area}  {i['prompt']!r}{strength}")
    if s["warnings"]:
        print("warnings:")
        for w in s["warnings"]:
            print(f"  - {_shown(w)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="show a project's instances, prompts, areas and warnings")
    p.add_argument("project", metavar="PROJECT.astproj")
    p.add_argument("--json", action="store_true", help="print the same as JSON")
    p.set_defaults(func=cmd_info)
