"""The method page's formula written out densely in float64: the reference every kernel is tested against."""
from __future__ import annotations

import math

import torch

from ast_core.attention import ModulationInputs
from ast_core.schedule import LayerPlan



def dense_reference(q, k, v, inputs: ModulationInputs, plan: LayerPlan, strength: dict,
                    sizereg_image: float, sizereg_text: float, mask=None, row_scale=None) -> torch.Tensor:
    """The method page written out densely in float64: P, M, P*exp(c(M-P)), renormalise.

    ``row_scale`` (optional, ``[N]`` in the joint order, text first): a multiplier on every
    entry of ``c`` in row ``i`` (per-instance strength, written out by the caller)."""
    q, k, v = q.double(), k.double(), v.double()
    B, N, H, D = q.shape
    T = inputs.text_len
    hw = N - T
    segs = inputs.segment_masks.double()
    num = segs.shape[0]

    def indicator(tokens):
        ind = torch.zeros(T, dtype=torch.float64)
        for t in tokens:
            ind[t] = 1.0
        return ind

    m_ii = sum(torch.outer(segs[s], segs[s]) for s in range(num))
    m_inst = sum((torch.outer(segs[s], segs[s]) for s in range(1, num)),
                 torch.zeros(hw, hw, dtype=torch.float64))
    a_img = 1 - sizereg_image * m_ii.sum(1) / hw
    a_inst = 1 - sizereg_image * m_inst.sum(1) / hw
    spans = [indicator(inputs.segment_spans[s]) for s in range(num)]
    # the demo sets the entries: eye(T), then 1 on every span x span block (never 2)
    m_tt = torch.eye(T, dtype=torch.float64)
    for x in spans:
        m_tt = torch.maximum(m_tt, torch.outer(x, x))
    a_txt = 1 - sizereg_text * m_tt.sum(1) / T
    maps = {
        "background": torch.outer(segs[0], spans[0]),
        "instance": torch.zeros(hw, T, dtype=torch.float64),
        "attribute": torch.zeros(hw, T, dtype=torch.float64),
    }
    for s in range(1, num):
        attrs = inputs.attribute_tokens[s]
        rest = [t for t in inputs.segment_spans[s] if t not in attrs]
        maps["instance"] += torch.outer(segs[s], indicator(rest))
        maps["attribute"] += torch.outer(segs[s], indicator(attrs))
    factors = {"a_img": a_img, "a_inst": a_inst}

    M = torch.zeros(N, N, dtype=torch.float64)
    C = torch.zeros(N, N, dtype=torch.float64)
    if plan.t2t:
        M[:T, :T] = m_tt
        C[:T, :T] = (a_txt * strength["t2t"])[:, None]
    if plan.i2t_maps:
        M[T:, :T] = sum(maps[name] for name in plan.i2t_maps)
        C[T:, :T] = (factors[plan.i2t_row_factor] * strength["i2t"])[:, None]
    if plan.i2i:
        M[T:, T:] = m_ii
        C[T:, T:] = (factors[plan.i2i_row_factor] * strength["i2i"])[:, None]

    if row_scale is not None:
        C = C * torch.as_tensor(row_scale, dtype=torch.float64)[:, None]

    S = torch.einsum("bnhd,bmhd->bhnm", q, k) / math.sqrt(D)
    if mask is not None:
        S = S + mask.double() if mask.dtype != torch.bool else \
            S.masked_fill(~mask, float("-inf"))
    P = torch.softmax(S, -1)
    P1 = P * torch.exp(C * (M - P))
    P2 = P1 / P1.sum(-1, keepdim=True)
    return torch.einsum("bhnm,bmhd->bnhd", P2, v)
