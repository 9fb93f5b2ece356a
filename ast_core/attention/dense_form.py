"""The AST modulation written out densely: every head's ``N x N`` probabilities and maps.

This is how the method's public demo computes a modulated layer (and how the method page
states it): ``P = softmax(S)``, ``P' = P * exp(c (M - P))``, ``P'' = P' / rowsum(P')``,
``out = P'' V``. It needs several ``N x N`` tensors per head, so it is only for checks (in
float64 it is the reference every backend is tested against) and for the benchmarks (in
bf16 it is "the demo's dense form").
"""
from __future__ import annotations

import torch

from .kernel import RowGroup, block_map


def dense_maps(groups: list[RowGroup], n: int, batch: int,
               dtype: torch.dtype = torch.float64,
               device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``M`` ``[N, N]`` and ``c`` ``[B, N, N]`` of ``groups`` (``c`` is 0 outside every block)."""
    if device is None:
        device = groups[0].blocks[0].coef.device if any(g.blocks for g in groups) else "cpu"
    m = torch.zeros(n, n, dtype=dtype, device=device)
    c = torch.zeros(batch, n, n, dtype=dtype, device=device)
    for g in groups:
        g0, g1 = g.rows
        for blk in g.blocks:
            c0, c1 = blk.columns
            m[g0:g1, c0:c1] = block_map(blk, g0, g1, g0, dtype).to(device)
            coef = blk.coef.to(device=device, dtype=dtype)
            coef = coef.expand(batch, g1 - g0) if coef.dim() == 2 else coef[None].expand(batch, -1)
            c[:, g0:g1, c0:c1] = coef[:, :, None]
    return m, c


def dense_modulated_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                              groups: list[RowGroup], *, scale: float | None = None,
                              dtype: torch.dtype | None = None) -> torch.Tensor:
    """The modulated attention of ``[B, N, H, D]`` tensors computed densely in ``dtype``
    (default: the inputs'); returns ``[B, N, H, Dv]`` in ``dtype``."""
    dtype = dtype or query.dtype
    B, N, H, D = query.shape
    scale = D ** -0.5 if scale is None else scale
    q, k, v = (t.to(dtype).transpose(1, 2) for t in (query, key, value))   # [B, H, N, D]
    probs = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * scale, -1)
    m, c = dense_maps(groups, N, B, dtype, query.device)
    # the demo's order: exp(c (M - P)) in place, times P, renormalised over the row
    weights = m.expand(B, H, N, N) - probs
    weights.mul_(c[:, None]).exp_()
    weights.mul_(probs)
    del probs
    weights.div_(weights.sum(-1, keepdim=True))
    return torch.matmul(weights, v).transpose(1, 2)
