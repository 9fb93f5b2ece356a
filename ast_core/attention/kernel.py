"""The exact AST modulation of one joint attention call, memory-light.

For query row ``i`` and key ``j`` with scores ``S = QK^T * scale`` and ``P = softmax_j(S)``::

    P'[i,j] = P[i,j] * exp(c[i,j] * (M[i,j] - P[i,j]))      c = a[i] * w * treg of the block
    out[i]  = sum_j P'[i,j] V[j] / sum_j P'[i,j]

which is the method page's ``softmax(S + cM - c exp(S - lse))``. Rows are processed in chunks
that hold whole rows, so one ``[chunk, N]`` score block per head gives both passes. On the CPU
the block is kept in base-2 units, ``s = log2(e) (S - rowmax)`` (``exp2`` is several times
cheaper than ``exp`` there): ``E = 2^s`` and its row sum ``l`` give ``P = E / l``; on the
modulated columns ``s += log2(e) c (M - P)`` and the weights are ``2^s``, elsewhere (``c = 0``:
the T2I block, unmodulated blocks) they are ``E`` itself; the product with ``V`` is divided by
the weights' row sum. No second max is needed since ``|c (M - P)| <= |c| (max M + 1)``; when
that bound is large (unusually strong weights) the chunk subtracts the modulated row max
first, as a softmax would. ``c*M`` is added per chunk by a small matmul of per-token
membership tables (``M = row_members @ col_members``), never stored. Peak extra memory per
worker is ``2 * chunk * N`` floats and one head's K and V, plus the output, never ``N x N``.
(The batched accelerator schedule keeps the two-softmax form.)

Rows whose group has no modulated block go through ``scaled_dot_product_attention``.
"""
from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator

import torch
import torch.nn.functional as F

@dataclass
class BlockModulation:
    """One modulated block for a group of query rows.

    ``columns`` = ``(start, end)`` key tokens of the block; ``coef`` ``[R]`` is
    ``c = a[i] * w * treg`` for each row of the group; ``M[i, j] = row_members[i] @
    col_members[:, j]`` (+1 on the diagonal when ``identity``). With ``binary`` the map is
    set, not summed: ``M[i, j] = 1`` where that sum is positive, else 0 (the method's T2T
    map: a token's own entry and every token sharing a segment span with it are 1, also
    where spans overlap).
    """

    columns: tuple[int, int]
    coef: torch.Tensor
    row_members: torch.Tensor
    col_members: torch.Tensor
    identity: bool = False
    binary: bool = False


@dataclass
class RowGroup:
    """Query rows ``[start, end)`` and the blocks modulated for them (none = plain rows)."""

    rows: tuple[int, int]
    blocks: list[BlockModulation] = field(default_factory=list)


def _compute_dtype(t: torch.Tensor) -> torch.dtype:
    return t.dtype if t.dtype in (torch.float32, torch.float64) else torch.float32


def block_map(block: BlockModulation, r0: int, r1: int, group_start: int,
              dtype: torch.dtype) -> torch.Tensor:
    """``M[i, block columns]`` for rows ``r0..r1`` (absolute) of the group."""
    lo, hi = r0 - group_start, r1 - group_start
    m = block.row_members[lo:hi].to(dtype) @ block.col_members.to(dtype)
    if block.identity:
        # the diagonal of the joint sequence, i.e. query row i meets key column i
        m.diagonal(r0 - block.columns[0]).add_(1.0)
    if block.binary:
        m = (m > 0).to(dtype)
    return m


def _scaled_map(block: BlockModulation, r0: int, r1: int, group_start: int,
                dtype: torch.dtype) -> torch.Tensor:
    """``c[i] * M[i, block columns]`` for rows ``r0..r1`` (absolute) of the group."""
    lo, hi = r0 - group_start, r1 - group_start
    coef = block.coef[lo:hi].to(dtype)
    return block_map(block, r0, r1, group_start, dtype).mul_(coef[:, None])


def modulate_scores_chunk(
    scores: torch.Tensor,
    blocks: list[tuple[tuple[int, int], torch.Tensor, torch.Tensor]],
    probs: torch.Tensor,
) -> None:
    """In place: raw ``scores`` [..., C, N] -> the modulated, renormalised probabilities ``P''``.

    ``P'' = softmax(S + cM - cP)`` with ``P = softmax(S)``, which equals
    ``P * exp(c(M - P))`` renormalised over the whole row. ``blocks`` =
    ``[((c0, c1), cM [C, c1-c0], -c [C, 1]), ...]``; ``probs`` is scratch shaped as ``scores``.
    """
    torch.ops.aten._softmax.out(scores, -1, False, out=probs)
    for (c0, c1), cm, negc in blocks:
        s = scores[..., c0:c1]
        s.addcmul_(probs[..., c0:c1], negc)
        s.add_(cm)
    torch.ops.aten._softmax.out(scores, -1, False, out=scores)


LOG2E = 1.0 / math.log(2.0)
KEY_BLOCK = 1024            # key columns per QK^T product (the product then stays in L2)
GUARD_EXPONENT = 64.0        # beyond this bound on c*(M+1) the second pass subtracts its max


@dataclass
class _BlockPlan:
    """One modulated block restricted to a row chunk, in base-2 units (``log2(e) * c``)."""

    columns: tuple[int, int]
    weighted_rows: torch.Tensor      # [C, S]  log2(e) c[i] row_members[i]
    col_members: torch.Tensor        # [S, c1 - c0]
    neg_coef: torch.Tensor           # [C, 1]  -log2(e) c[i]
    diag: tuple[int, torch.Tensor] | None  # identity part: (diagonal offset, log2(e) c)
    dense: torch.Tensor | None = None  # [C, c1 - c0] log2(e) c M, for binary (set) maps


@dataclass
class _ChunkPlan:
    r0: int
    r1: int
    blocks: list[_BlockPlan]
    modulated_runs: list[tuple[int, int]]  # merged column intervals with c != 0
    plain_runs: list[tuple[int, int]]      # column intervals with c = 0 (only renormalised)
    guard: bool                            # exponents might leave the float range


def _chunk_plan(group: RowGroup, r0: int, r1: int, n: int, dtype: torch.dtype) -> _ChunkPlan:
    lo, hi = r0 - group.rows[0], r1 - group.rows[0]
    blocks: list[_BlockPlan] = []
    bound = 0.0
    for blk in sorted(group.blocks, key=lambda b: b.columns):
        coef = blk.coef[lo:hi].to(dtype) * LOG2E
        members = blk.row_members[lo:hi].to(dtype)
        cols = blk.col_members.to(dtype).contiguous()
        if blk.binary:
            # a set map is built once per chunk (it is small: text x text for T2T)
            dense = block_map(blk, r0, r1, group.rows[0], dtype).mul_(coef[:, None])
            bound = max(bound, float(coef.abs().max()) * 2.0)
            blocks.append(_BlockPlan(blk.columns, members, cols, (-coef)[:, None].contiguous(),
                                     None, dense.contiguous()))
            continue
        diag = (r0 - blk.columns[0], coef) if blk.identity else None
        # |c (M - P)| <= |c| (max M + 1), max M <= sum_s |row_s| max_j |col_s,j| (+1 identity)
        m_max = float((members.abs() @ cols.abs().amax(1)).max()) + (1.0 if blk.identity else 0.0)
        bound = max(bound, float(coef.abs().max()) * (m_max + 1.0))
        blocks.append(_BlockPlan(blk.columns, (members * coef[:, None]).contiguous(), cols,
                                 (-coef)[:, None].contiguous(), diag))
    modulated: list[tuple[int, int]] = []
    for blk in blocks:
        c0, c1 = blk.columns
        if modulated and modulated[-1][1] >= c0:
            modulated[-1] = (modulated[-1][0], max(modulated[-1][1], c1))
        else:
            modulated.append((c0, c1))
    plain, j = [], 0
    for c0, c1 in modulated:
        if c0 > j:
            plain.append((j, c0))
        j = c1
    if j < n:
        plain.append((j, n))
    return _ChunkPlan(r0, r1, blocks, modulated, plain, bound > GUARD_EXPONENT)


class _Buffers:
    """One worker's scratch, reused by every chunk: two ``[chunk, N]`` blocks, row stats and
    contiguous copies of the current head's K and V."""

    def __init__(self, rows: int, n: int, dtype: torch.dtype, device: torch.device,
                 key_dim: int, value_dim: int) -> None:
        self.keys = torch.empty(n, key_dim, dtype=dtype, device=device)
        self.values = torch.empty(n, value_dim, dtype=dtype, device=device)
        self.scores = torch.empty(rows, n, dtype=dtype, device=device)
        self.probs = torch.empty(rows, n, dtype=dtype, device=device)
        self.row_max = torch.empty(rows, 1, dtype=dtype, device=device)
        self.total = torch.empty(rows, 1, dtype=dtype, device=device)


def _modulated_chunk(qh: torch.Tensor, kh: torch.Tensor, vh: torch.Tensor, o: torch.Tensor,
                     plan: _ChunkPlan, scale: float, mask: torch.Tensor | None,
                     buf: _Buffers) -> None:
    """``o`` [C, D] = the modulated attention of rows ``plan.r0..r1`` of one head.

    Base-2 scores ``s = log2(e) * (S - max)``; ``E = 2^s = P * rowsum(E)``; on modulated
    columns ``s += log2(e) c (M - P)``; the result is ``2^s`` there and ``E`` elsewhere,
    normalised by its row sum after the product with ``V`` (the shift by the row max keeps
    ``2^s`` in range, with the guard for unusually strong coefficients).
    """
    c, n = plan.r1 - plan.r0, kh.shape[0]
    s, e = buf.scores[:c], buf.probs[:c]
    row_max, total = buf.row_max[:c], buf.total[:c]
    qc = qh[plan.r0:plan.r1]
    alpha = scale * LOG2E
    for j0 in range(0, n, KEY_BLOCK):
        blk = s[:, j0:j0 + KEY_BLOCK]
        torch.addmm(blk, qc, kh[j0:j0 + KEY_BLOCK].t(), beta=0, alpha=alpha, out=blk)
    if mask is not None:
        s.add_(mask, alpha=LOG2E)
    torch.amax(s, -1, keepdim=True, out=row_max)
    s.sub_(row_max)
    torch.exp2(s, out=e)
    torch.sum(e, -1, keepdim=True, out=total)
    for blk in plan.blocks:
        c0, c1 = blk.columns
        sb = s[:, c0:c1]
        sb.addcmul_(e[:, c0:c1], blk.neg_coef[:c] / total)             # - c P
        if blk.dense is not None:
            sb.add_(blk.dense[:c])                                      # + c M (set map)
            continue
        torch.addmm(sb, blk.weighted_rows[:c], blk.col_members, out=sb)  # + c M
        if blk.diag is not None:
            offset, coef = blk.diag
            sb.diagonal(offset).add_(coef[:c])
    if plan.guard:
        shift = torch.zeros_like(row_max)
        for c0, c1 in plan.modulated_runs:
            torch.maximum(shift, s[:, c0:c1].amax(-1, keepdim=True), out=shift)
        for c0, c1 in plan.modulated_runs:
            s[:, c0:c1].sub_(shift)
        if plan.plain_runs:
            factor = torch.exp2(-shift)
            for a, z in plan.plain_runs:
                e[:, a:z].mul_(factor)
    first = True
    for a, z, src in [(a, z, s) for a, z in plan.modulated_runs] + \
            [(a, z, e) for a, z in plan.plain_runs]:
        block = src[:, a:z]
        if src is s:
            block.exp2_()
        if first:
            torch.sum(block, -1, keepdim=True, out=total)
            torch.mm(block, vh[a:z], out=o)
            first = False
        else:
            total.add_(block.sum(-1, keepdim=True))
            o.addmm_(block, vh[a:z])
    o.div_(total)


def _mask_for(attn_mask: torch.Tensor | None, b: int, h: int, r0: int, r1: int,
              shape: tuple[int, int, int, int]) -> torch.Tensor | None:
    if attn_mask is None:
        return None
    m = attn_mask.expand(shape) if attn_mask.dim() == 4 else attn_mask.expand(shape[-2:])
    return m[b, h, r0:r1] if m.dim() == 4 else m[r0:r1]


def modulated_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    groups: list[RowGroup],
    *,
    scale: float | None = None,
    chunk_rows: int | None = None,
    attn_mask: torch.Tensor | None = None,
    workers: int | None = None,
    heads_at_once: bool | None = None,
) -> torch.Tensor:
    """Joint attention with the AST modulation; tensors are ``[B, N, H, D]`` (diffusers).

    ``groups`` must cover the query rows ``0..N-1`` in order. ``attn_mask`` (optional) is a
    bool (True = attend) or additive float mask broadcastable to ``[B, H, N, N]``; it
    enters the scores before the softmax, as in SDPA.

    Two schedules of the same arithmetic: on the CPU (default) each of ``workers`` threads
    owns whole heads and walks ``[chunk_rows, N]`` score blocks with single-threaded ops;
    with ``heads_at_once`` (default on accelerators) every head of a row chunk is one
    batched ``[B, H, chunk, N]`` block, sized to about 128 MiB.
    """
    B, N, H, D = query.shape
    expected = 0
    for g in groups:
        if g.rows[0] != expected or g.rows[1] <= g.rows[0]:
            raise ValueError("groups: must cover the query rows contiguously in order")
        expected = g.rows[1]
    if expected != N:
        raise ValueError(f"groups: cover {expected} rows, the sequence has {N}")
    if scale is None:
        scale = D ** -0.5
    dtype = _compute_dtype(query)
    q = query if query.dtype == dtype else query.to(dtype)
    k = key if key.dtype == dtype else key.to(dtype)
    v = value if value.dtype == dtype else value.to(dtype)
    out = torch.empty(B, N, H, value.shape[-1], dtype=dtype, device=query.device)
    mask_shape = (B, H, N, N)
    float_mask = None
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        float_mask = torch.zeros(attn_mask.shape, dtype=dtype, device=query.device)
        float_mask.masked_fill_(~attn_mask, float("-inf"))
    elif attn_mask is not None:
        float_mask = attn_mask.to(dtype)

    if heads_at_once is None:
        heads_at_once = query.device.type != "cpu"
    if chunk_rows is None:
        if heads_at_once:
            chunk_rows = max(16, min(1024, (1 << 25) // max(1, B * H * N)))
        else:
            chunk_rows = 256 if N <= 8192 else 128
    chunk_rows = max(1, int(chunk_rows))
    modulated = [g for g in groups if g.blocks]
    for group in groups:
        if group.blocks:
            continue
        g0, g1 = group.rows
        sub_mask = None
        if float_mask is not None:
            fm = float_mask.expand(mask_shape) if float_mask.dim() == 4 else \
                float_mask.expand(mask_shape[-2:])
            sub_mask = fm[..., g0:g1, :]
        o = F.scaled_dot_product_attention(
            q[:, g0:g1].transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
            attn_mask=sub_mask, scale=scale,
        )
        out[:, g0:g1] = o.transpose(1, 2)
    if not modulated:
        return out if out.dtype == query.dtype else out.to(query.dtype)

    if heads_at_once:
        _all_heads(q, k, v, out, modulated, scale, chunk_rows, float_mask, dtype)
        return out if out.dtype == query.dtype else out.to(query.dtype)

    plans = [_chunk_plan(g, r0, min(r0 + chunk_rows, g.rows[1]), N, dtype)
             for g in modulated for r0 in range(g.rows[0], g.rows[1], chunk_rows)]
    pairs = [(b, h) for b in range(B) for h in range(H)]
    workers = max(1, min(int(workers or torch.get_num_threads()), len(pairs)))
    rows = min(chunk_rows, max(g.rows[1] - g.rows[0] for g in modulated))

    def work(share: Iterator[tuple[int, int]]) -> None:
        buffers = _Buffers(rows, N, dtype, query.device, D, v.shape[-1])
        for b, h in share:
            kh, vh = buffers.keys.copy_(k[b, :, h]), buffers.values.copy_(v[b, :, h])
            for plan in plans:
                m = _mask_for(float_mask, b, h, plan.r0, plan.r1, mask_shape)
                _modulated_chunk(q[b, :, h], kh, vh, out[b, plan.r0:plan.r1, h], plan, scale, m,
                                 buffers)

    if workers == 1:
        work(iter(pairs))
    else:
        # Coarse parallelism: each worker owns whole heads and runs single-threaded ops
        # (thread-local setting), which beats fine-grained intra-op threading on small
        # per-chunk ops, especially on a busy machine.
        # grad and inference mode are thread-local: carry the caller's into the workers
        inference, grad = torch.is_inference_mode_enabled(), torch.is_grad_enabled()

        # heads are handed out one at a time, so a worker slowed by other load takes fewer
        lock = threading.Lock()
        queue = iter(pairs)

        def next_pairs() -> Iterator[tuple[int, int]]:
            while True:
                with lock:
                    pair = next(queue, None)
                if pair is None:
                    return
                yield pair

        def run_share() -> None:
            torch.set_num_threads(1)
            with torch.inference_mode(inference), torch.set_grad_enabled(grad):
                work(next_pairs())

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(run_share) for _ in range(workers)]:
                future.result()
    return out if out.dtype == query.dtype else out.to(query.dtype)


def _all_heads(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, out: torch.Tensor,
               groups: list[RowGroup], scale: float, chunk_rows: int,
               float_mask: torch.Tensor | None, dtype: torch.dtype) -> None:
    """The same computation with every (batch, head) of a row chunk in one block."""
    B, N, H, D = q.shape
    k_t = k.permute(0, 2, 3, 1)          # [B, H, D, N]
    v_h = v.transpose(1, 2)              # [B, H, N, D]
    for group in groups:
        g0, g1 = group.rows
        for r0 in range(g0, g1, chunk_rows):
            r1 = min(r0 + chunk_rows, g1)
            prepared = [
                (blk.columns, _scaled_map(blk, r0, r1, g0, dtype),
                 -blk.coef[r0 - g0:r1 - g0].to(dtype)[:, None])
                for blk in group.blocks
            ]
            scores = torch.matmul(q[:, r0:r1].transpose(1, 2) * scale, k_t)  # [B, H, C, N]
            if float_mask is not None:
                full = float_mask.expand(B, H, N, N) if float_mask.dim() == 4 else \
                    float_mask.expand(N, N)
                scores += full[..., r0:r1, :]
            modulate_scores_chunk(scores, prepared, torch.empty_like(scores))
            out[:, r0:r1] = torch.matmul(scores, v_h).transpose(1, 2)
