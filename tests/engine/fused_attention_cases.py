"""Inputs and cases for the fused AST attention backends (used by test_attention_backends).

Run as a script (``TRITON_INTERPRET=1``, set before anything imports triton: Triton decides
at decoration time, also for its own library functions, whether a kernel is interpreted)
it runs every Triton-kernel case on the CPU and prints one JSON line: case -> relative L2
error against the dense float64 formula (or the error text).
"""
from __future__ import annotations

import json
import logging
import sys
import traceback

import torch
from dense_attention import dense_reference
from test_attention import PLANS, STRENGTH, make_inputs

from ast_core.attention import (
    BlockModulation,
    ModulationInputs,
    RowGroup,
    TokenTables,
    build_row_groups,
    modulated_attention,
    stack_sample_groups,
)
from ast_core.attention.segment_bits import segment_bits
from ast_core.schedule import LayerPlan

TOLERANCE = {torch.float32: 1e-5, torch.bfloat16: 3e-3, torch.float16: 3e-3}
STRONG = {"i2i": 120.0, "t2t": 120.0, "i2t": 120.0}
ZERO = {"i2i": 0.0, "t2t": 0.0, "i2t": 0.0}


def layout(grid=(5, 6), text=16, segments=4, overlap=True, seed=0) -> ModulationInputs:
    """``segments - 1`` instances as random rectangles (overlapping or z-ordered exclusive),
    three pixels in no segment, one span per segment with an attribute on every other."""
    rows, cols = grid
    g = torch.Generator().manual_seed(seed)
    inst = torch.zeros(segments - 1, rows, cols, dtype=torch.bool)
    owner = torch.full((rows, cols), -1)
    for s in range(segments - 1):
        r0 = int(torch.randint(0, rows - 1, (1,), generator=g))
        c0 = int(torch.randint(0, cols - 1, (1,), generator=g))
        r1 = r0 + 1 + int(torch.randint(0, rows - r0, (1,), generator=g))
        c1 = c0 + 1 + int(torch.randint(0, cols - c0, (1,), generator=g))
        inst[s, r0:r1, c0:c1] = True
        owner[r0:r1, c0:c1] = s
    if not overlap:  # the upper instance owns an overlap
        inst = torch.stack([owner == s for s in range(segments - 1)])
    background = ~inst.any(0)
    background.view(-1)[:3] = False                       # pixels in no segment
    masks = torch.cat([background[None], inst]).reshape(segments, rows * cols)
    width = max(1, (text - 2) // segments)
    spans = [list(range(1 + s * width, 1 + (s + 1) * width)) for s in range(segments)]
    attrs = [[]] + [[span[0]] if s % 2 and len(span) > 1 else [] for s, span in
                    enumerate(spans[1:], 1)]
    return ModulationInputs(masks, text, spans, attrs)


def qkv(B, N, H, D, dtype, seed=0, spread=2.0, value_dim=None):
    g = torch.Generator().manual_seed(seed)
    shapes = [(B, N, H, D), (B, N, H, D), (B, N, H, value_dim or D)]
    return [(torch.randn(*s, generator=g) * spread).to(dtype) for s in shapes]


def rel_l2(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float((out.double() - ref).norm() / ref.norm())


def image_first(groups: list[RowGroup], text: int, n: int) -> list[RowGroup]:
    """The same groups for the SD3 order (image tokens first, then text)."""
    hw = n - text

    def move(span):
        a, z = span
        return (a + hw, z + hw) if z <= text else (a - text, z - text)

    moved = [RowGroup(move(g.rows), [BlockModulation(move(b.columns), b.coef, b.row_members,
                                                     b.col_members, b.identity, b.binary)
                                     for b in g.blocks]) for g in groups]
    return sorted(moved, key=lambda g: g.rows)


def to_image_first(t: torch.Tensor, text: int) -> torch.Tensor:
    return torch.cat([t[:, text:], t[:, :text]], 1)


def reference(q, k, v, inputs, plan, strengths, sizereg=(1.0, 4.0)):
    """Dense float64 result; ``strengths`` per sample (a sample's own tables)."""
    return torch.cat([dense_reference(q[b:b + 1], k[b:b + 1], v[b:b + 1], inputs, plan, st,
                                      *sizereg) for b, st in enumerate(strengths)])


def batch_groups(plan, strengths, tables):
    """Groups for one sample per strength (None = a plain sample): ``[R]`` coefficients for
    one sample, ``[B, R]`` for several."""
    if len(strengths) == 1:
        return build_row_groups(plan, strengths[0], tables)
    return stack_sample_groups([build_row_groups(plan, st, tables) if st else None
                                for st in strengths])


# --------------------------------------------------------------------------- Triton cases

# id: (plan, dtype, (grid, text), tiles (block_m, block_n), head dim, strengths per sample
#      (None = a plain sample), orders)
BOTH = ("text-first", "image-first")
CASES = {
    "overlaps-f32": ("all-maps-a_inst-i2i", torch.float32, ((5, 6), 16), (16, 16), 16,
                     [STRENGTH], BOTH),
    "overlaps-bf16-mixed-tiles": ("all-maps-a_inst-i2i", torch.bfloat16, ((5, 6), 16),
                                  (16, 32), 16, [STRENGTH], BOTH),
    "fp16-one-tile": ("i2t-instance-background", torch.float16, ((5, 6), 16), (64, 64), 16,
                      [STRENGTH], ("text-first",)),
    "t2t-set-map-plain-image-rows": ("t2t", torch.bfloat16, ((5, 6), 16), (16, 16), 16,
                                     [STRENGTH], ("text-first",)),
    "tile-multiple": ("i2t-instance-attribute", torch.float32, ((4, 4), 16), (16, 16), 16,
                      [STRENGTH], ("text-first",)),
    "odd-sizes-head64": ("all-maps-a_inst-i2i", torch.float32, ((7, 7), 16), (32, 16), 64,
                         [STRENGTH], ("text-first",)),
    "head128-bf16": ("i2t-instance-attribute", torch.bfloat16, ((5, 6), 16), (32, 32), 128,
                     [STRENGTH], ("text-first",)),
    # exclusive segments, 4x the weights: below the no-running-max bound, but 2^(z - lse)
    # would overflow float16's range (65504) in the P V product
    "fp16-exclusive-4x-weights": ("all-maps-a_inst-i2i", torch.float16, ((5, 6), 16),
                                  (16, 16), 16, [{k: 4 * w for k, w in STRENGTH.items()}],
                                  ("text-first",)),
    "strong-f32": ("all-maps-a_inst-i2i", torch.float32, ((5, 6), 16), (32, 32), 16,
                   [STRONG], ("text-first",)),
    "strong-bf16": ("all-maps-a_inst-i2i", torch.bfloat16, ((5, 6), 16), (32, 16), 16,
                    [STRONG], BOTH),
    "batch2-cfg-plain-sample": ("all-maps-a_inst-i2i", torch.bfloat16, ((5, 6), 16),
                                (16, 32), 16, [None, STRENGTH], BOTH),
    "batch2-per-sample-f32": ("i2t-instance-background", torch.float32, ((5, 6), 16),
                              (16, 32), 16, [STRENGTH, {"i2i": 1.0, "t2t": 2.0, "i2t": 7.0}],
                              ("text-first",)),
}
CASE_IDS = [f"{name}/{order}" for name, case in CASES.items() for order in case[-1]]


def case_inputs(name: str, order: str):
    """q, k, v, groups and the dense float64 reference of one case."""
    plan, dtype, (grid, text), _tiles, head_dim, strengths, _orders = CASES[name]
    inputs = make_inputs() if name == "overlaps-f32" else \
        layout(grid, text, overlap="exclusive" not in name)
    tables = TokenTables(inputs, 1.0, 4.0)
    B, N = len(strengths), inputs.total_len
    q, k, v = qkv(B, N, 2, head_dim, dtype, seed=len(name))
    groups = batch_groups(PLANS[plan], strengths, tables)
    ref = reference(q, k, v, inputs, PLANS[plan], [s or ZERO for s in strengths])
    plain = reference(q, k, v, inputs, LayerPlan(), [ZERO] * B)
    if order == "image-first":
        groups = image_first(groups, text, N)
        q, k, v, ref, plain = (to_image_first(t, text) for t in (q, k, v, ref, plain))
    return q, k, v, groups, ref, plain


def run_triton_cases() -> dict[str, object]:
    from ast_core.attention.triton_kernel import INTERPRETED, triton_modulated_attention
    assert INTERPRETED, "set TRITON_INTERPRET=1 before running these cases"
    results: dict[str, object] = {}

    def measure(key, fn):
        try:
            results[key] = fn()
        except Exception:
            results[key] = traceback.format_exc(limit=3)

    for case_id in CASE_IDS:
        name, order = case_id.split("/")

        def one(name=name, order=order):
            q, k, v, groups, ref, plain = case_inputs(name, order)
            bm, bn = CASES[name][3]
            out = triton_modulated_attention(q, k, v, groups, q.shape[-1] ** -0.5,
                                             config={"block_m": bm, "block_n": bn})
            assert out.dtype == q.dtype and out.shape == v.shape
            return {"error": rel_l2(out, ref), "modulation": rel_l2(plain, ref),
                    "tolerance": TOLERANCE[q.dtype]}
        measure(case_id, one)

    def bit_words():
        found = []
        for inputs, words, popcount in ((layout((6, 6), 24, 5, overlap=False), 1, False),
                                        (layout((6, 7), 48, 20, seed=3), 2, True)):
            tables = TokenTables(inputs, 1.0, 4.0)
            plan = PLANS["all-maps-a_inst-i2i"]
            groups = build_row_groups(plan, STRENGTH, tables)
            bits = segment_bits(groups, inputs.total_len, torch.device("cpu"))
            q, k, v = qkv(1, inputs.total_len, 2, 32, torch.float32, value_dim=24)
            out = triton_modulated_attention(q, k, v, groups, 32 ** -0.5,
                                             config={"block_m": 32, "block_n": 32})
            ref = dense_reference(q, k, v, inputs, plan, STRENGTH, 1.0, 4.0)
            found.append([bits.words, bits.popcount, rel_l2(out, ref)])
        return found
    measure("bit-words", bit_words)

    def through_modulated_attention():
        inputs = make_inputs()
        tables = TokenTables(inputs, 1.0, 4.0)
        plan = PLANS["i2t-instance-attribute"]
        groups = build_row_groups(plan, STRENGTH, tables)
        q, k, v = qkv(1, inputs.total_len, 2, 16, torch.float32)
        ref = dense_reference(q, k, v, inputs, plan, STRENGTH, 1.0, 4.0)
        default_tiles = rel_l2(modulated_attention(q, k, v, groups, backend="triton"), ref)
        keep = torch.ones(1, 1, 1, inputs.total_len, dtype=torch.bool)
        soft = [RowGroup(g.rows, [BlockModulation(b.columns, b.coef, b.row_members * 0.5,
                                                  b.col_members, b.identity, b.binary)
                                  for b in g.blocks]) for g in groups]
        records: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: records.append(record.getMessage())
        logging.getLogger("ast_core.attention.backends").addHandler(handler)
        masked = rel_l2(modulated_attention(q, k, v, groups, backend="triton", attn_mask=keep),
                        ref)
        halves = modulated_attention(q, k, v, soft, backend="triton")
        same = bool(torch.equal(halves, modulated_attention(q, k, v, soft, backend="torch")))
        return {"default_tiles": default_tiles, "masked": masked, "soft_equal_torch": same,
                "log": records}
    measure("backend", through_modulated_attention)
    return results


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(json.dumps(run_triton_cases()))
    sys.stdout.flush()
