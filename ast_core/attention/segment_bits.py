"""Row groups as compact per-token vectors: what the fused GPU kernels read.

A fused kernel computes ``M`` and ``c`` of a score tile in registers from a few small
vectors instead of reading ``N x N`` maps:

* The key columns are cut into **regions** at every block boundary of every group (FLUX:
  text | image; SD3: image | text). Inside a region, each query row meets at most one block.
* ``col_bits[j, w]`` (int32): for every block covering column ``j``, its column memberships
  ``col_members[:, j]`` as bits at that block's bit offset in ``j``'s region.
* ``row_bits[i, r, w]`` (int32): row ``i``'s ``row_members`` of the block its group has in
  region ``r``, at the same offset. So ``M[i, j] = popcount(row_bits & col_bits)`` summed over
  the words (``(row_bits & col_bits) != 0`` for a set map, or whenever no row has two bits).
  Blocks meeting the same region from different groups get disjoint bit ranges; 31 bits per
  word (the sign bit stays clear), up to :data:`MAX_WORDS` words.
* ``row_flags[i, r]``: bit 0 = set (binary) map, bit 1 = identity (+1 where ``j == i``).
* The coefficients ``c[b, i, r]`` (float32) are gathered per call from the blocks' ``coef``
  (``[R]`` or per sample ``[B, R]``) with one index; everything else depends only on the
  groups' structure and member tables and is cached across calls and layers.

Member values must be 0/1 and a group's blocks must not share columns; otherwise
:func:`segment_bits` raises :class:`Unsupported` with the reason (the caller then falls
back to the torch kernels).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .kernel import RowGroup

BITS_PER_WORD = 31
MAX_WORDS = 4
MAX_REGIONS = 31  # one bit each in a tile's int32 mask of active regions
LOG2E = 1.0 / math.log(2.0)
# With |c| log2(e) (max M + 1) at most this, exp2(log2 P + c (M - P)) stays inside float32
# (no running max needed); stronger rows take the running-max loop.
FIXED_REFERENCE_BOUND = 64.0


class Unsupported(ValueError):
    """The groups cannot be written as segment bits (the message says why)."""


@dataclass
class SegmentBits:
    n: int
    regions: list[tuple[int, int]]
    col_region: torch.Tensor      # [N] int32
    col_bits: torch.Tensor        # [N, W] int32
    row_bits: torch.Tensor        # [N, R, W] int32
    row_flags: torch.Tensor       # [N, R] int32 (1 = set map, 2 = identity)
    row_bound: torch.Tensor       # [N, R] float32: max M of the row in the region + 1
    coef_index: torch.Tensor      # [N * R] int64 into [0, coefs of block 0, block 1, ...]
    coef_lengths: list[int]       # rows of each block, in the order coefficients are gathered
    words: int
    popcount: bool                # some summed (not set) map has rows with several bits
    _tiles: dict[int, torch.Tensor] = field(default_factory=dict)

    @property
    def num_regions(self) -> int:
        return len(self.regions)

    def coefficients(self, groups: list[RowGroup], batch: int) -> torch.Tensor:
        """``c[b, i, r]`` ``[B, N, R]`` float32 for this call's coefficients."""
        parts = [torch.zeros(batch, 1, dtype=torch.float32, device=self.col_bits.device)]
        for g in groups:
            for blk in g.blocks:
                coef = blk.coef.to(device=self.col_bits.device, dtype=torch.float32)
                if coef.dim() == 2 and coef.shape[0] not in (1, batch):
                    raise ValueError(f"coef: {coef.shape[0]} samples, the batch has {batch}")
                parts.append(coef.expand(batch, -1) if coef.dim() == 1 else
                             coef.expand(batch, -1))
        flat = torch.cat(parts, 1)
        return flat.index_select(1, self.coef_index).view(batch, self.n, self.num_regions)

    def tile_regions(self, block_n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Per key tile of ``block_n`` keys: its region, or -1 where it spans several; and
        ``[start, first region, last region]`` of each such boundary tile."""
        if block_n not in self._tiles:
            tiles = -(-self.n // block_n)
            pad = tiles * block_n - self.n
            # the tail padding (past N) belongs to the last region
            reg = F.pad(self.col_region, (0, pad), value=self.num_regions - 1)
            reg = reg.view(tiles, block_n)
            lo, hi = reg.amin(1), reg.amax(1)
            boundary = torch.nonzero(lo != hi).flatten()
            table = torch.stack([boundary * block_n, lo[boundary], hi[boundary]], 1)
            self._tiles[block_n] = (
                torch.where(lo == hi, lo, -1).to(torch.int32).contiguous(),
                F.pad(table.reshape(-1), (0, 3)).to(torch.int32).contiguous())
        return self._tiles[block_n]


def _check_members(name: str, t: torch.Tensor) -> None:
    if t.numel() and not bool(((t == 0) | (t == 1)).all()):
        raise Unsupported(f"{name} has values other than 0 and 1")


def _build(groups: list[RowGroup], n: int, device: torch.device) -> SegmentBits:
    cuts = {0, n}
    for g in groups:
        spans = sorted(blk.columns for blk in g.blocks)
        for (a0, a1), (b0, _b1) in zip(spans, spans[1:]):
            if b0 < a1:
                raise Unsupported(f"rows {g.rows}: two blocks share columns ({a0}..{a1})")
        for c0, c1 in spans:
            if not 0 <= c0 < c1 <= n:
                raise Unsupported(f"block columns {c0}..{c1} outside 0..{n}")
            cuts.update((c0, c1))
    bounds = sorted(cuts)
    regions = list(zip(bounds[:-1], bounds[1:]))
    R = len(regions)
    if R > MAX_REGIONS:
        raise Unsupported(f"{R} key regions (at most {MAX_REGIONS})")

    # bit offsets: per region, each block covering it gets its own bit range
    used = [0] * R
    offsets: dict[tuple[int, int, int], int] = {}   # (group, block, region) -> first bit
    for gi, g in enumerate(groups):
        for bi, blk in enumerate(g.blocks):
            S = blk.row_members.shape[1]
            if blk.col_members.shape[0] != S:
                raise Unsupported(f"rows {g.rows}: row_members has {S} segments, col_members "
                                  f"{blk.col_members.shape[0]}")
            for r, (a, z) in enumerate(regions):
                if blk.columns[0] <= a and z <= blk.columns[1]:
                    offsets[gi, bi, r] = used[r]
                    used[r] += S
    words = max(1, max(-(-u // BITS_PER_WORD) for u in used))
    if words > MAX_WORDS:
        raise Unsupported(f"{max(used)} segment bits in one key region (at most "
                          f"{MAX_WORDS * BITS_PER_WORD})")

    i64 = torch.int64
    col_region = torch.empty(n, dtype=i64, device=device)
    for r, (a, z) in enumerate(regions):
        col_region[a:z] = r
    col_bits = torch.zeros(n, words, dtype=i64, device=device)
    row_bits = torch.zeros(n, R, words, dtype=i64, device=device)
    row_flags = torch.zeros(n, R, dtype=i64, device=device)
    row_bound = torch.zeros(n, R, dtype=torch.float32, device=device)
    coef_index = torch.zeros(n, R, dtype=i64, device=device)
    lengths: list[int] = []
    popcount = False
    start = 1
    for gi, g in enumerate(groups):
        g0, g1 = g.rows
        for bi, blk in enumerate(g.blocks):
            rows = blk.row_members.to(device)
            cols = blk.col_members.to(device)
            if rows.shape[0] != g1 - g0 or cols.shape[1] != blk.columns[1] - blk.columns[0]:
                raise Unsupported(f"rows {g.rows}: member tables do not match the block's "
                                  f"rows/columns")
            _check_members(f"rows {g.rows}: row_members", rows)
            _check_members(f"rows {g.rows}: col_members", cols)
            coef_rows = blk.coef.shape[-1]
            if coef_rows != g1 - g0:
                raise Unsupported(f"rows {g.rows}: coef has {coef_rows} rows")
            rows_hit = rows != 0
            per_row = rows_hit.sum(1)
            if not blk.binary and bool((per_row > 1).any()):
                popcount = True
            bound = (torch.ones_like(per_row) if blk.binary else
                     per_row + int(blk.identity)).to(torch.float32) + 1.0
            flags = int(blk.binary) | (2 * int(blk.identity))
            for r, (a, z) in enumerate(regions):
                off = offsets.get((gi, bi, r))
                if off is None:
                    continue
                c0 = blk.columns[0]
                for s in range(rows.shape[1]):
                    w, bit = divmod(off + s, BITS_PER_WORD)
                    row_bits[g0:g1, r, w] += rows_hit[:, s].to(i64) << bit
                    col_bits[a:z, w] += (cols[s, a - c0:z - c0] != 0).to(i64) << bit
                row_flags[g0:g1, r] = flags
                row_bound[g0:g1, r] = bound
                coef_index[g0:g1, r] = torch.arange(start, start + g1 - g0, device=device)
            lengths.append(g1 - g0)
            start += g1 - g0
    i32 = torch.int32
    return SegmentBits(
        n=n, regions=regions, col_region=col_region.to(i32).contiguous(),
        col_bits=col_bits.to(i32).contiguous(), row_bits=row_bits.to(i32).contiguous(),
        row_flags=row_flags.to(i32).contiguous(), row_bound=row_bound.contiguous(),
        coef_index=coef_index.reshape(-1).contiguous(), coef_lengths=lengths, words=words,
        popcount=popcount)


def _tensor_key(t: torch.Tensor) -> tuple:
    try:
        version = t._version
    except RuntimeError:  # inference tensors keep no version counter
        version = None
    return (t.data_ptr(), tuple(t.shape), tuple(t.stride()), t.dtype, str(t.device), version)


class _Cache:
    """Structures by the identity of their member tables (the entry holds the tables, so
    their memory cannot be reused by other tensors while it lives; ``_version`` catches
    in-place edits)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self.entries: OrderedDict[tuple, tuple[SegmentBits, list[torch.Tensor]]] = OrderedDict()

    def get(self, groups: list[RowGroup], n: int, device: torch.device) -> SegmentBits:
        held: list[torch.Tensor] = []
        parts: list[tuple] = [(n, str(device))]
        for g in groups:
            blocks = []
            for blk in g.blocks:
                held += [blk.row_members, blk.col_members]
                blocks.append((blk.columns, blk.identity, blk.binary, blk.coef.shape[-1],
                               _tensor_key(blk.row_members), _tensor_key(blk.col_members)))
            parts.append((g.rows, tuple(blocks)))
        key = tuple(parts)
        hit = self.entries.get(key)
        if hit is not None:
            self.entries.move_to_end(key)
            return hit[0]
        bits = _build(groups, n, device)
        self.entries[key] = (bits, held)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return bits


_cache = _Cache()


def segment_bits(groups: list[RowGroup], n: int, device: torch.device) -> SegmentBits:
    """The compact form of ``groups`` for a sequence of ``n`` tokens (cached)."""
    return _cache.get(groups, n, torch.device(device))


@dataclass
class TileTables:
    """Per-call tables of one launch: coefficients and what each row tile must do."""

    coef: torch.Tensor     # [B, N, R] float32, c * log2(e)
    active: torch.Tensor   # [B, row tiles] int32, bit r: some row of the tile has c != 0 in r
    mode: torch.Tensor     # [B, row tiles] int32: 0 plain, 1 fixed reference, 2 running max
    tiles: torch.Tensor    # [key tiles] int32 region (-1 = across a region boundary)
    boundary: torch.Tensor  # [3 * boundary tiles (+3)] int32: start, first, last region
    boundary_tiles: int


def tile_tables(bits: SegmentBits, groups: list[RowGroup], batch: int, block_m: int,
                block_n: int, fixed_reference: bool = True) -> TileTables:
    """Everything a launch with ``block_m`` x ``block_n`` tiles reads besides q, k, v.
    ``fixed_reference=False`` keeps a running max on every modulated tile (float16: its
    range cannot hold the weights ``2^(z - lse)``, which may exceed 1)."""
    coef = bits.coefficients(groups, batch).mul_(LOG2E)
    row_tiles = -(-bits.n // block_m)
    pad = row_tiles * block_m - bits.n
    nonzero = F.pad(coef != 0, (0, 0, 0, pad)).view(batch, row_tiles, block_m, -1)
    active = nonzero.any(2)
    strength = F.pad((coef.abs() * bits.row_bound).amax(-1), (0, pad))
    strong = strength.view(batch, row_tiles, block_m).amax(-1) > FIXED_REFERENCE_BOUND
    if not fixed_reference:
        strong = torch.ones_like(strong)
    mode = torch.where(active.any(-1), torch.where(strong, 2, 1), 0).to(torch.int32)
    tiles, boundary = bits.tile_regions(block_n)
    weights = torch.pow(2, torch.arange(bits.num_regions, device=coef.device))
    active_bits = (active.to(torch.int64) * weights).sum(-1).to(torch.int32)
    return TileTables(coef.contiguous(), active_bits.contiguous(), mode.contiguous(), tiles,
                      boundary, (boundary.numel() - 3) // 3)
