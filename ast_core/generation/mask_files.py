"""Write what the model sees: the token-grid masks actually used and the role of every text token."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from .plan import GenerationPlan

ROLES_FILE = "token_roles.json"


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return s[:40] or "instance"


def save_masks(plan: GenerationPlan, folder: str | Path) -> list[Path]:
    """One PNG per segment (token grid, white = the segment's tokens) and ``token_roles.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    cols, rows = plan.grid
    doc: dict = {
        "image_size": [plan.width, plan.height],
        "token_grid": {"cols": cols, "rows": rows, "order": "row-major (as the model packs latents)"},
        "segments": [],
        "text_tokens": [],
    }
    if plan.empty:
        doc["note"] = "no visible instance has an area: the render is the plain model, no masks are used"
    else:
        masks = plan.segment_masks().numpy().reshape(-1, rows, cols)
        segs = plan.analysis.segments if plan.analysis is not None else None
        names = ["background"] + [i.name for i in plan.instances]
        for k, name in enumerate(names):
            fname = f"mask-{k:02d}-{'background' if k == 0 else _slug(name)}.png"
            Image.fromarray((masks[k] * 255).astype(np.uint8), "L").save(folder / fname)
            written.append(folder / fname)
            entry = {"index": k, "name": name, "mask_file": fname, "tokens_in_mask": int(masks[k].sum())}
            if k > 0:
                inst = plan.instances[k - 1]
                entry.update(instance_id=inst.id, prompt=inst.prompt)
            if segs is not None:
                s = segs[k]
                entry.update(prompt=s.prompt, match=s.match, attribute_words=s.attribute_words,
                             text_rows=plan.analysis.segment_rows()[k],
                             attribute_rows=plan.analysis.attribute_rows()[k], parts={})
                for part, analysis in zip(plan.analysis.layout.parts, plan.analysis.parts):
                    ps, toks = analysis.segments[k], analysis.tokens
                    entry["parts"][part.name] = {
                        "span": ps.span, "span_tokens": [toks[t] for t in ps.span],
                        "attribute_tokens": ps.attribute_tokens,
                        "instance_tokens": ps.instance_tokens if k > 0 else [],
                        "rows_start": part.offset + part.bos,
                    }
            doc["segments"].append(entry)
        if plan.analysis is not None:
            doc["text_parts"] = [{"name": p.name, "rows_start": p.offset, "rows": p.length,
                                  "start_tokens": p.bos, "truncated": a.truncated}
                                 for p, a in zip(plan.analysis.layout.parts, plan.analysis.parts)]
            doc["text_tokens"] = plan.analysis.token_roles()
            doc["text_length"] = plan.analysis.text_len
    path = folder / ROLES_FILE
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)
    return written


REGIONS_FILE = "regions.json"
MAX_PICTURE_SIDE = 2048


def save_regional_masks(plan: GenerationPlan, regions: list, text_rows: int, order: str,
                        folder: str | Path, parameters: dict | None = None) -> list[Path]:
    """Regional prompting's view: one PNG per region (token grid, white = the region's image
    tokens, which see its text; regions may overlap), the attention mask of the masked blocks
    over the joint sequence (``regional-mask.png``, rows = queries, columns = keys, in the
    model's joint order) and its image -> image part (``regional-image-mask.png``, what an
    image-only attention uses), and ``regions.json``. A mask picture holds one token pair a
    pixel up to 2048 tokens; longer sequences take ``cell x cell`` pairs a pixel: white where
    every pair may attend, grey where some may, black where none may."""
    import torch

    from ..attention.regional_kernel import TEXT_FIRST, RegionTokens, mask_picture

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cols, rows = plan.grid
    written: list[Path] = []
    doc: dict = {
        "method": "regional",
        "image_size": [plan.width, plan.height],
        "token_grid": {"cols": cols, "rows": rows, "order": "row-major (as the model packs latents)"},
        "parameters": dict(parameters or {}),
        "regions": [],
    }
    if not any(r.instance_id is not None for r in regions):
        doc["note"] = "no instance covers a token: the render is the plain model, no masks are used"
    else:
        tokens = RegionTokens(torch.stack([r.mask for r in regions]), text_rows, order)
        image_len = tokens.image_len
        text_start = 0 if order == TEXT_FIRST else image_len
        for k, region in enumerate(regions):
            fname = f"region-{k:02d}-{_slug(region.name) if region.instance_id else 'background'}.png"
            grid = region.mask.numpy().reshape(rows, cols)
            Image.fromarray(grid.astype(np.uint8) * 255, "L").save(folder / fname)
            written.append(folder / fname)
            start = text_start + k * text_rows
            doc["regions"].append({
                "index": k, "name": region.name, "prompt": region.prompt, "instance_id": region.instance_id,
                "mask_file": fname, "image_tokens": int(region.mask.sum()),
                "text_rows": [start, start + text_rows],
            })
        pictures = {}
        for name, bits in (("regional-mask.png", tokens.joint_bits()),
                           ("regional-image-mask.png", tokens.image_bits())):
            cell = -(-int(bits.numel()) // MAX_PICTURE_SIDE)
            Image.fromarray(mask_picture(bits, cell), "L").save(folder / name)
            written.append(folder / name)
            pictures[name] = {"tokens": int(bits.numel()), "tokens_per_pixel": cell}
        doc["sequence"] = {
            "order": order, "text_rows_per_region": text_rows, "text_rows": tokens.text_len,
            "image_rows": [0, image_len] if order != TEXT_FIRST else [tokens.text_len, tokens.text_len + image_len],
            "rule": "query i may attend key j when they share a region (text rows: their region's; "
                    "image tokens: every region covering them)",
        }
        doc["pictures"] = pictures
    path = folder / REGIONS_FILE
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)
    return written
