"""The AST attention as two FlexAttention calls (``torch.nn.attention.flex_attention``).

1. A plain call that returns each row's log-sum-exp ``lse`` (its output is not used).
2. A call whose ``score_mod`` adds ``c (M - exp(score - lse))``, with ``M`` and ``c`` read
   from the per-token vectors of :mod:`.segment_bits` (``M = popcount(row_bits & col_bits)``,
   or ``!= 0`` for set maps, plus the diagonal): nothing of size ``N x N`` is stored.

Both calls run inside one ``torch.compile``\\ d function (FlexAttention is a slow reference
implementation that materialises the scores when not compiled); ``compiled=False`` runs
them eagerly, which the CPU tests use. Compiled FlexAttention needs Triton on a GPU
(inductor generates Triton kernels); on the CPU torch 2.13 cannot return the
log-sum-exp from a compiled call, so there this backend is unavailable.
"""
from __future__ import annotations

import functools

import torch

from .kernel import RowGroup
from .segment_bits import SegmentBits, segment_bits

SUPPORTED_DTYPES = (torch.bfloat16, torch.float16, torch.float32)


def _flex():
    from torch.nn.attention import flex_attention as module
    return module


def _lse_call(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> torch.Tensor:
    """Natural-log ``lse`` ``[B, H, N]`` of plain attention (one FlexAttention call)."""
    flex = _flex()
    aux_request = getattr(flex, "AuxRequest", None)
    if aux_request is not None:
        _, aux = flex.flex_attention(q, k, v, scale=scale, return_aux=aux_request(lse=True))
        return aux.lse
    _, lse = flex.flex_attention(q, k, v, scale=scale, return_lse=True)
    return lse


def _popcount(x: torch.Tensor) -> torch.Tensor:
    x = x - ((x >> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F
    x = x + (x >> 8)
    x = x + (x >> 16)
    return x & 0x3F


def _two_pass(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, coef: torch.Tensor,
              row_bits: torch.Tensor, row_flags: torch.Tensor, col_bits: torch.Tensor,
              col_region: torch.Tensor, scale: float, words: int,
              popcount: bool) -> torch.Tensor:
    """``[B, H, N, D]`` tensors -> ``[B, H, N, Dv]``; ``coef`` ``[B, N, R]`` (natural units)."""
    lse = _lse_call(q, k, v, scale)

    def score_mod(score, b, h, i, j):
        r = col_region[j]
        flags = row_flags[i, r]
        hits = row_bits[i, r, 0] & col_bits[j, 0]
        if popcount:
            hits = _popcount(hits)
        for w in range(1, words):
            x = row_bits[i, r, w] & col_bits[j, w]
            hits = hits + _popcount(x) if popcount else hits | x
        is_set = (flags & 1) != 0
        hit = (hits != 0).to(score.dtype)
        m = torch.where(is_set, hit, hits.to(score.dtype)) if popcount else hit
        diag = (i == j) & ((flags & 2) != 0)
        m = torch.where(diag, torch.where(is_set, torch.ones_like(m), m + 1.0), m)
        p = torch.exp(score - lse[b, h, i])
        return score + coef[b, i, r] * (m - p)

    return _flex().flex_attention(q, k, v, score_mod=score_mod, scale=scale)


@functools.lru_cache(maxsize=None)
def _compiled():
    return torch.compile(_two_pass, dynamic=False)


def check_inputs(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> str | None:
    """Why FlexAttention cannot take these tensors, or None."""
    if query.dtype not in SUPPORTED_DTYPES:
        return f"dtype {query.dtype} (bf16, fp16 or float32 only)"
    if key.dtype != query.dtype or value.dtype != query.dtype:
        return "query, key and value have different dtypes"
    return None


def flex_modulated_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                             groups: list[RowGroup], scale: float,
                             bits: SegmentBits | None = None,
                             compiled: bool = True) -> torch.Tensor:
    """The AST attention of ``[B, N, H, D]`` tensors with FlexAttention; ``[B, N, H, Dv]``."""
    B, N, H, D = query.shape
    if bits is None:
        bits = segment_bits(groups, N, query.device)
    coef = bits.coefficients(groups, B)  # float32: the scores are float32 in the kernel
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))
    run = _compiled() if compiled else _two_pass
    out = run(q, k, v, coef, bits.row_bits, bits.row_flags, bits.col_bits, bits.col_region,
              float(scale), bits.words, bits.popcount)
    return out.transpose(1, 2)
