"""A fused Triton kernel for the exact AST attention (FlashAttention-style tiles).

One program owns ``BLOCK_M`` query rows of one (sample, head) and walks the keys twice,
in base-2 units (``s = log2(e) * scale * q.k``):

1. **Log-sum-exp.** ``lse = log2 sum_j 2^s`` with a running max; no ``P V`` product.
   Skipped for row tiles whose coefficients are all 0 (e.g. the unconditional half of a
   classifier-free-guidance batch).
2. **Modulated softmax.** Per key tile, ``z = s + c (M - 2^(s - lse))`` (the method page's
   ``S + c (M - exp(S - lse))`` in base 2), accumulated online like any softmax:
   ``out = sum 2^z V / sum 2^z``. Where ``|c| (max M + 1)`` is moderate (the demo's
   weights) no running max is needed: ``z - lse <= |c| (max M + 1)`` stays inside the
   float32/bf16 range, so the weights are ``2^(z - lse)`` directly; stronger rows, and
   every row in float16 (its range cannot hold weights above 65504), keep a running max.

``M`` and ``c`` come from the per-token vectors of :mod:`.segment_bits`: a tile reads its
rows' bits and coefficient for the tile's key region and its keys' bits, and computes
``M = popcount(row_bits & col_bits)`` (or ``!= 0`` for set maps / single-bit rows) in
registers; the diagonal (+1, or set to 1 for a set map) only on tiles that cross it.
Tiles whose rows all have ``c = 0`` in that region are plain softmax tiles. A key tile that
crosses a region boundary (only when a boundary is not a tile multiple, e.g. an SD3 image
of 48 x 84 tokens; FLUX's 512 text tokens are) is taken after the main loop, once per
region with the other keys masked, so the hot loop only ever sees one region per tile.
Scores, softmax statistics and the output accumulate in float32; the products run in the
input precision (bf16/fp16), or as 3xTF32 (float32 accuracy) for float32 inputs.

With ``TRITON_INTERPRET=1`` set before triton is first imported, the kernel runs on CPU
tensors through Triton's interpreter, which is how the tests check it without a GPU.
"""
from __future__ import annotations

import contextlib
import functools
import os

import torch
import triton
import triton.language as tl

from .kernel import RowGroup
from .segment_bits import LOG2E, SegmentBits, segment_bits, tile_tables

INTERPRETED = os.environ.get("TRITON_INTERPRET", "0") == "1"


@triton.jit
def _popcount(x):
    # SWAR popcount of int32 words whose sign bit is clear (31 bits per word)
    x = x - ((x >> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F
    x = x + (x >> 8)
    x = x + (x >> 16)
    return x & 0x3F


@triton.jit
def _mma(a, b, acc, PRECISION: tl.constexpr, WIDEN: tl.constexpr):
    """``a @ b (+ acc)`` in float32. ``WIDEN`` (interpreter only): its dot cannot take bf16
    (numpy has none), so the bf16 operands are widened first: the same products and
    float32 sums as the tensor cores."""
    if WIDEN:
        return tl.dot(a.to(tl.float32), b.to(tl.float32), acc, input_precision="ieee")
    else:
        return tl.dot(a, b, acc, input_precision=PRECISION)


@triton.jit
def _to_input_type(x, like, WIDEN: tl.constexpr):
    """``x`` (float32) in the inputs' precision, rounded to nearest even as on the GPU.
    ``WIDEN`` (interpreter only, bf16): its casts truncate, so the rounding is done on the
    bits and the bf16 value stays in a float32."""
    if WIDEN:
        bits = x.to(tl.int32, bitcast=True)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & -65536
        return bits.to(tl.float32, bitcast=True)
    else:
        return x.to(like.dtype)


@triton.jit
def _row_values(COEF, ROW_BITS, ROW_FLAGS, b, offs_m, region, N,
                REGIONS: tl.constexpr, WORDS: tl.constexpr):
    """The tile rows' coefficient, first bit word and flags for key region ``region``."""
    row_ok = offs_m < N
    coef = tl.load(COEF + (b * N + offs_m) * REGIONS + region, mask=row_ok, other=0.0)
    bits = tl.load(ROW_BITS + (offs_m * REGIONS + region) * WORDS, mask=row_ok, other=0)
    flags = tl.load(ROW_FLAGS + offs_m * REGIONS + region, mask=row_ok, other=0)
    return coef, bits, flags


@triton.jit
def _modulate(z, lse, coef, row_bits, col_bits, flags, ROW_BITS, COL_BITS,
              pid_m, start, offs_m, offs_n, region, N,
              REGIONS: tl.constexpr, WORDS: tl.constexpr, POPCOUNT: tl.constexpr,
              BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """``z + c (M - 2^(z - lse))`` for one tile of one key region. ``M`` comes from the
    first bit words given (``row_bits`` per row, ``col_bits`` per key; further words are
    read here), plus the diagonal on tiles that cross it (+1 for identity blocks, or set
    to 1 for a set map). Only the score tile crosses a branch: ``c`` is a per-row vector
    and ``M`` is computed in place."""
    x = row_bits[:, None] & col_bits[None, :]
    if POPCOUNT:
        hits = _popcount(x)
    else:
        hits = x
    for w in tl.static_range(1, WORDS):
        rb = tl.load(ROW_BITS + (offs_m * REGIONS + region) * WORDS + w, mask=offs_m < N,
                     other=0)
        cb = tl.load(COL_BITS + offs_n * WORDS + w, mask=offs_n < N, other=0)
        x = rb[:, None] & cb[None, :]
        if POPCOUNT:
            hits += _popcount(x)
        else:
            hits = hits | x
    is_set = (flags & 1) != 0
    if POPCOUNT:
        m = tl.where(is_set[:, None], (hits > 0).to(tl.float32), hits.to(tl.float32))
    else:
        m = (hits != 0).to(tl.float32)
    m0 = pid_m * BLOCK_M
    if (start < m0 + BLOCK_M) & (start + BLOCK_N > m0):
        diag = (offs_m[:, None] == offs_n[None, :]) & ((flags & 2) != 0)[:, None]
        m = tl.where(diag, tl.where(is_set[:, None], 1.0, m + 1.0), m)
    return z + coef[:, None] * (m - tl.math.exp2(z - lse[:, None]))


@triton.jit
def _accumulate(acc, total, run_max, z, v, lse, mode,
                PRECISION: tl.constexpr, WIDEN: tl.constexpr):
    """One key tile of the online softmax of ``z``."""
    if mode == 1:
        # moderate coefficients: 2^(z - lse) stays in range, no running max (nor the
        # rescaling of the accumulator it brings)
        w = tl.math.exp2(z - lse[:, None])
        total += tl.sum(w, 1)
    else:
        # plain rows (mode 0) and unusually strong coefficients (mode 2)
        new_max = tl.maximum(run_max, tl.max(z, 1))
        alpha = tl.math.exp2(run_max - new_max)
        w = tl.math.exp2(z - new_max[:, None])
        total = total * alpha + tl.sum(w, 1)
        acc = acc * alpha[:, None]
        run_max = new_max
    acc = _mma(_to_input_type(w, v, WIDEN), v, acc, PRECISION, WIDEN)
    return acc, total, run_max


@triton.jit(do_not_specialize=["boundary_tiles"])
def _ast_attention_kernel(
    Q, K, V, O,
    COEF, ACTIVE, MODE, TILES, BOUNDARY, COL_REGION, COL_BITS, ROW_BITS, ROW_FLAGS,
    sqb, sqn, sqh, sqd, skb, skn, skh, skd, svb, svn, svh, svd, sob, son, soh, sod,
    N, H, D, DV, qk_scale, boundary_tiles,
    REGIONS: tl.constexpr, WORDS: tl.constexpr, POPCOUNT: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
    BLOCK_DV: tl.constexpr, EVEN_N: tl.constexpr, EVEN_D: tl.constexpr,
    PRECISION: tl.constexpr, WIDEN: tl.constexpr,
):
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = pid_bh // H
    h = pid_bh % H
    row_tiles = tl.cdiv(N, BLOCK_M)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_j = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    offs_dv = tl.arange(0, BLOCK_DV)
    row_ok = offs_m < N
    d_ok = offs_d < D
    dv_ok = offs_dv < DV

    q_ptrs = Q + b * sqb + h * sqh + offs_m[:, None] * sqn + offs_d[None, :] * sqd
    if EVEN_N and EVEN_D:
        q = tl.load(q_ptrs)
    else:
        q = tl.load(q_ptrs, mask=row_ok[:, None] & d_ok[None, :], other=0.0)
    k_base = K + b * skb + h * skh + offs_d[None, :] * skd
    v_base = V + b * svb + h * svh + offs_dv[None, :] * svd
    mode = tl.load(MODE + b * row_tiles + pid_m)
    # bit r: some row of this tile has c != 0 in key region r
    active = tl.load(ACTIVE + b * row_tiles + pid_m)

    # ---- pass 1: each row's log-sum-exp (base 2), no P V product
    lse = tl.zeros([BLOCK_M], dtype=tl.float32)
    if mode != 0:
        run_max = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
        run_sum = tl.zeros([BLOCK_M], dtype=tl.float32)
        for start in range(0, N, BLOCK_N):
            offs_n = start + offs_j
            if EVEN_N and EVEN_D:
                k = tl.load(k_base + offs_n[:, None] * skn)
            else:
                k = tl.load(k_base + offs_n[:, None] * skn,
                            mask=(offs_n < N)[:, None] & d_ok[None, :], other=0.0)
            s = _mma(q, tl.trans(k), None, PRECISION, WIDEN) * qk_scale
            if not EVEN_N:
                s = tl.where((offs_n < N)[None, :], s, float("-inf"))
            new_max = tl.maximum(run_max, tl.max(s, 1))
            run_sum = run_sum * tl.math.exp2(run_max - new_max) + \
                tl.sum(tl.math.exp2(s - new_max[:, None]), 1)
            run_max = new_max
        lse = run_max + tl.math.log2(run_sum)

    # ---- pass 2: softmax of z = s + c (M - 2^(s - lse)), accumulated online
    acc = tl.zeros([BLOCK_M, BLOCK_DV], dtype=tl.float32)
    total = tl.zeros([BLOCK_M], dtype=tl.float32)
    # finite, so that a tile left to the boundary loop (all -inf) cannot make 0 * inf
    run_max = tl.full([BLOCK_M], -1.0e30, dtype=tl.float32)
    # the rows' values of the region last seen (regions change a few times per row, so
    # they are read once per region, not once per tile)
    seen = -1
    coef, row_bits, flags = _row_values(COEF, ROW_BITS, ROW_FLAGS, b, offs_m, 0, N,
                                        REGIONS, WORDS)
    for start in range(0, N, BLOCK_N):
        offs_n = start + offs_j
        if EVEN_N and EVEN_D:
            k = tl.load(k_base + offs_n[:, None] * skn)
            v = tl.load(v_base + offs_n[:, None] * svn)
        else:
            k = tl.load(k_base + offs_n[:, None] * skn,
                        mask=(offs_n < N)[:, None] & d_ok[None, :], other=0.0)
            v = tl.load(v_base + offs_n[:, None] * svn,
                        mask=(offs_n < N)[:, None] & dv_ok[None, :], other=0.0)
        if EVEN_N:
            col_bits = tl.load(COL_BITS + offs_n * WORDS)
        else:
            col_bits = tl.load(COL_BITS + offs_n * WORDS, mask=offs_n < N, other=0)
        region = tl.load(TILES + start // BLOCK_N)
        z = _mma(q, tl.trans(k), None, PRECISION, WIDEN) * qk_scale
        if not EVEN_N:
            z = tl.where((offs_n < N)[None, :], z, float("-inf"))
        if region >= 0:
            if ((active >> region) & 1) != 0:
                if region != seen:
                    coef, row_bits, flags = _row_values(COEF, ROW_BITS, ROW_FLAGS, b, offs_m,
                                                        region, N, REGIONS, WORDS)
                    seen = region
                z = _modulate(z, lse, coef, row_bits, col_bits, flags, ROW_BITS, COL_BITS,
                              pid_m, start, offs_m, offs_n, region, N,
                              REGIONS, WORDS, POPCOUNT, BLOCK_M, BLOCK_N)
        else:
            z = tl.full([BLOCK_M, BLOCK_N], float("-inf"), dtype=tl.float32)
        acc, total, run_max = _accumulate(acc, total, run_max, z, v, lse, mode,
                                          PRECISION, WIDEN)

    # tiles across a key-region boundary (none when the boundaries are tile multiples, as
    # in FLUX and SD3): once per region, the other keys masked
    for i in range(0, boundary_tiles):
        start = tl.load(BOUNDARY + 3 * i)
        first = tl.load(BOUNDARY + 3 * i + 1)
        last = tl.load(BOUNDARY + 3 * i + 2)
        offs_n = start + offs_j
        k = tl.load(k_base + offs_n[:, None] * skn,
                    mask=(offs_n < N)[:, None] & d_ok[None, :], other=0.0)
        v = tl.load(v_base + offs_n[:, None] * svn,
                    mask=(offs_n < N)[:, None] & dv_ok[None, :], other=0.0)
        col_region = tl.load(COL_REGION + offs_n, mask=offs_n < N, other=-1)
        col_bits = tl.load(COL_BITS + offs_n * WORDS, mask=offs_n < N, other=0)
        s = _mma(q, tl.trans(k), None, PRECISION, WIDEN) * qk_scale
        for region in range(first, last + 1):
            z = tl.where((col_region == region)[None, :], s, float("-inf"))
            if ((active >> region) & 1) != 0:
                coef, row_bits, flags = _row_values(COEF, ROW_BITS, ROW_FLAGS, b, offs_m,
                                                    region, N, REGIONS, WORDS)
                z = _modulate(z, lse, coef, row_bits, col_bits, flags, ROW_BITS, COL_BITS,
                              pid_m, start, offs_m, offs_n, region, N,
                              REGIONS, WORDS, POPCOUNT, BLOCK_M, BLOCK_N)
            acc, total, run_max = _accumulate(acc, total, run_max, z, v, lse, mode,
                                              PRECISION, WIDEN)

    out = _to_input_type(acc / total[:, None], q, WIDEN)
    o_ptrs = O + b * sob + h * soh + offs_m[:, None] * son + offs_dv[None, :] * sod
    tl.store(o_ptrs, out.to(O.dtype.element_ty), mask=row_ok[:, None] & dv_ok[None, :])


SUPPORTED_DTYPES = (torch.bfloat16, torch.float16, torch.float32)
MAX_HEAD_DIM = 256


def default_config(head_dim: int, dtype: torch.dtype,
                   shared_memory: int | None = None) -> dict[str, int]:
    """Tile sizes and launch settings by head size and precision (chosen so the hot loops
    keep within the registers on sm_90; no autotuning: every setting is a compile).
    ``shared_memory`` (bytes per block) trims the pipeline depth on smaller GPUs."""
    if dtype == torch.float32:
        cfg = (64, 64, 4, 2) if head_dim <= 64 else (128, 32, 8, 2) if head_dim <= 128 \
            else (32, 32, 4, 1)
    elif head_dim <= 128:
        # the fastest of the benchmark's tile sweep on an H200 at both 512 + 4096 and 512 + 16384
        # tokens, bf16, head dim 128 (1.98 vs 2.21 ms and 19.6 vs 22.4 ms for 128 x 64 / 8 warps)
        cfg = (64, 64, 4, 3)
    else:
        cfg = (64, 32, 4, 2)
    block_m, block_n, warps, stages = cfg
    size = 4 if dtype == torch.float32 else 2

    def shared(bm: int, st: int) -> int:  # q, K/V stages (+ a margin), as Triton lays it out
        return size * (bm * head_dim + st * 2 * block_n * head_dim) + 4096

    while shared_memory and shared(block_m, stages) > shared_memory:
        if stages > 2:
            stages -= 1
        elif block_m > 64:
            block_m, warps = 64, 4
        elif stages > 1:
            stages -= 1
        else:
            break
    return {"block_m": block_m, "block_n": block_n, "num_warps": warps, "num_stages": stages}


@functools.lru_cache(maxsize=None)
def _shared_memory(device: torch.device) -> int | None:
    if device.type != "cuda":
        return None
    props = torch.cuda.get_device_properties(device)
    return getattr(props, "shared_memory_per_block_optin", None)


def _fp32_precision() -> str:
    # IEEE fp32 dots take the FMA path (slow, register-starved); 3xTF32 keeps float32
    # accuracy on the tensor cores. ROCm's Triton offers IEEE only.
    return "ieee" if INTERPRETED or torch.version.hip else "tf32x3"


def check_inputs(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> str | None:
    """Why the kernel cannot take these tensors, or None."""
    if query.dtype not in SUPPORTED_DTYPES:
        return f"dtype {query.dtype} (bf16, fp16 or float32 only)"
    if key.dtype != query.dtype or value.dtype != query.dtype:
        return "query, key and value have different dtypes"
    if query.shape[-1] > MAX_HEAD_DIM or value.shape[-1] > MAX_HEAD_DIM:
        return f"head size above {MAX_HEAD_DIM}"
    if query.device.type == "cpu" and not INTERPRETED:
        return "tensors are on the CPU (the Triton kernel needs a GPU)"
    return None


def triton_modulated_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                               groups: list[RowGroup], scale: float,
                               bits: SegmentBits | None = None,
                               config: dict[str, int] | None = None) -> torch.Tensor:
    """The AST attention of ``[B, N, H, D]`` tensors with the fused kernel; ``[B, N, H, Dv]``.

    ``bits`` (optional) is the groups' :func:`segment_bits` form (built and cached when
    not given); ``config`` overrides :func:`default_config` (the benchmarks sweep it).
    """
    B, N, H, D = query.shape
    DV = value.shape[-1]
    if bits is None:
        bits = segment_bits(groups, N, query.device)
    cfg = dict(default_config(max(D, DV), query.dtype, _shared_memory(query.device)),
               **(config or {}))
    bm, bn = cfg["block_m"], cfg["block_n"]
    tables = tile_tables(bits, groups, B, bm, bn, fixed_reference=query.dtype != torch.float16)
    out = torch.empty(B, N, H, DV, dtype=query.dtype, device=query.device)
    block_d = max(16, triton.next_power_of_2(D))
    block_dv = max(16, triton.next_power_of_2(DV))
    grid = (triton.cdiv(N, bm), B * H)
    with torch.cuda.device(query.device) if query.device.type == "cuda" else _nothing():
        _launch(grid, query, key, value, out, tables, bits, N, H, D, DV, scale, cfg,
                block_d, block_dv)
    return out


@contextlib.contextmanager
def _nothing():
    yield


def _launch(grid, query, key, value, out, tables, bits, N, H, D, DV, scale, cfg, block_d,
            block_dv) -> None:
    bm, bn = cfg["block_m"], cfg["block_n"]
    _ast_attention_kernel[grid](
        query, key, value, out,
        tables.coef, tables.active, tables.mode, tables.tiles, tables.boundary,
        bits.col_region, bits.col_bits, bits.row_bits, bits.row_flags,
        *query.stride(), *key.stride(), *value.stride(), *out.stride(),
        N, H, D, DV, float(scale) * LOG2E, tables.boundary_tiles,
        REGIONS=bits.num_regions, WORDS=bits.words, POPCOUNT=bits.popcount,
        BLOCK_M=bm, BLOCK_N=bn, BLOCK_D=block_d, BLOCK_DV=block_dv,
        EVEN_N=(N % bm == 0 and N % bn == 0), EVEN_D=(block_d == D and block_dv == DV),
        PRECISION=_fp32_precision() if query.dtype == torch.float32 else None,
        WIDEN=INTERPRETED and query.dtype == torch.bfloat16,
        num_warps=cfg["num_warps"], num_stages=cfg["num_stages"],
        enable_fp_fusion=True,  # multiply-adds fused (Triton 3.10 turns it off by default)
    )
