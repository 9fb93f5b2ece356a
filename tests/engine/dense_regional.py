"""Regional prompting's rules written out densely (the method page, literally): the reference the kernel is tested against."""
from __future__ import annotations

import math

import torch


def page_mask(instances: list[torch.Tensor], text_rows: int, order: str = "text_first") -> torch.Tensor:
    """The page's boolean mask ``[N, N]`` (True = may attend) for instance masks ``[HW]`` (raw,
    overlapping) and the background (uncovered tokens) as one more region when there are any.

    text of r -> text of r only; text of r -> image tokens in m_r; an image token in m_r -> text
    of r; image -> image: OR_r(m_r[p] AND m_r[q]) OR (both p and q outside every instance).
    """
    covered = torch.zeros_like(instances[0])
    for m in instances:
        covered = covered | m
    regions = list(instances) + ([~covered] if bool((~covered).any()) else [])
    hw = instances[0].numel()
    T = len(regions) * text_rows
    M = torch.zeros(T + hw, T + hw, dtype=torch.bool)
    for r, m in enumerate(regions):
        t0, t1 = r * text_rows, (r + 1) * text_rows
        M[t0:t1, t0:t1] = True
        M[t0:t1, T:] |= m[None, :]
        M[T:, t0:t1] |= m[:, None]
    for m in instances:
        M[T:, T:] |= m[:, None] & m[None, :]
    M[T:, T:] |= (~covered)[:, None] & (~covered)[None, :]
    if order == "image_first":
        perm = torch.cat([torch.arange(T, T + hw), torch.arange(T)])
        M = M[perm][:, perm]
    return M


def dense_attention(q, k, v, mask=None) -> torch.Tensor:
    """softmax(QK^T / sqrt(D)) V in float64, ``[B, N, H, D]``; ``mask`` bool ``[N, N]`` (True = attend)."""
    q, k, v = q.double(), k.double(), v.double()
    S = torch.einsum("bnhd,bmhd->bhnm", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        S = S.masked_fill(~mask, float("-inf"))
    return torch.einsum("bhnm,bmhd->bnhd", torch.softmax(S, -1), v)
