"""One AST-modulated FLUX attention layer vs plain SDPA and vs the demo's dense form.

FLUX's real attention shape: 24 heads, head dim 128, 512 text + 4096 image tokens (1024^2),
float32 on the CPU, batch 1. The modulated layer is the heaviest band of the paper preset
(single 6-15: I2I + T2T + I2T instance+attribute) on step 1 (treg = 1).

* Time: our kernel and ``F.scaled_dot_product_attention`` on the same q, k, v, run
  alternately; the ratio of the best times is printed (the CPU is shared, so best-of-N).
* Peak memory: each variant runs alone in a fresh subprocess that first allocates q, k, v
  and the token tables; the peak is ``ru_maxrss`` after the call minus the resident size
  before it (torch's CPU allocator is invisible to tracemalloc; RSS counts every page the
  call touched). The dense reference materialises scores/probabilities for all heads plus
  the ``N x N`` maps repeated per head, as the demo does.
* At 2048^2 (512 + 16384 tokens) the dense form's size is computed, not run; ours runs.

    .venv/bin/python benchmarks/attention_bench.py [--repeats N] [--skip-2048] [--skip-dense]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ast_core.attention import (  # noqa: E402
    ModulationInputs,
    TokenTables,
    build_row_groups,
    modulated_attention,
)
from ast_core.models.flux import AST_PAPER as AST_PAPER_FLUX  # noqa: E402
from ast_core.schedule import preset_schedule  # noqa: E402

HEADS, HEAD_DIM, TEXT = 24, 128, 512
LAYER = 30  # single block 12: i2i + t2t + i2t instance + attribute, a_inst
GiB = 1024 ** 3


def layout_inputs(side: int) -> ModulationInputs:
    """Background + 3 instances (two overlap) on a side x side token grid; a 60-token prompt."""
    g = torch.zeros(4, side, side, dtype=torch.bool)
    q = side // 8
    g[1, q:5 * q, q:4 * q] = True
    g[2, 3 * q:7 * q, 3 * q:6 * q] = True
    g[3, 5 * q:7 * q, 6 * q:8 * q] = True
    g[0] = ~g[1:].any(0)
    spans = [list(range(40, 52)), list(range(2, 10)), list(range(12, 24)), list(range(26, 38))]
    attrs = [[], [2, 3], [12, 13, 14], [26]]
    return ModulationInputs(g.reshape(4, side * side), TEXT, spans, attrs)


def make_case(side: int, seed: int = 0):
    n = TEXT + side * side
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(1, n, HEADS, HEAD_DIM, generator=gen) for _ in range(3))
    schedule = preset_schedule(AST_PAPER_FLUX)
    timesteps = [1000.0] + [1000.0 * (1 - i / 32) for i in range(1, 32)]
    inputs = layout_inputs(side)
    tables = TokenTables(inputs, schedule.sizereg_image, schedule.sizereg_text)
    strength = {kind: float(schedule.coefficient_table(kind, timesteps)[0, LAYER])
                for kind in ("i2i", "t2t", "i2t")}
    groups = build_row_groups(schedule.layer_plan(LAYER), strength, tables)
    return q, k, v, groups, tables, schedule.layer_plan(LAYER), strength


def sdpa(q, k, v):
    return F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)


def dense_demo(q, k, v, tables: TokenTables, plan, strength):
    """The demo's way: all heads' N x N probabilities and N x N maps repeated per head."""
    B, N, H, D = q.shape
    T = tables.text_len
    qh, kh, vh = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    scores = torch.matmul(qh, kh.transpose(-1, -2)) * D ** -0.5          # [B, H, N, N]
    probs = scores.softmax(-1)
    del scores
    maps = torch.zeros(N, N)
    coef = torch.zeros(N, N)
    mem = tables.image_members
    maps[:T, :T] = tables.t2t_map
    coef[:T, :T] = (tables.a_txt * strength["t2t"])[:, None]
    maps[T:, :T] = mem @ tables.i2t_columns(plan.i2t_maps)
    coef[T:, :T] = (tables.row_factor(plan.i2t_row_factor) * strength["i2t"])[:, None]
    maps[T:, T:] = mem @ mem.t()
    coef[T:, T:] = (tables.row_factor(plan.i2i_row_factor) * strength["i2i"])[:, None]
    maps = maps.repeat(B, H, 1, 1)
    coef = coef.repeat(B, H, 1, 1)
    maps.sub_(probs).mul_(coef).exp_()                                 # exp(c (M - P))
    del coef
    probs.mul_(maps)
    del maps
    probs.div_(probs.sum(-1, keepdim=True))
    return torch.matmul(probs, vh).transpose(1, 2)


def ours(q, k, v, groups):
    return modulated_attention(q, k, v, groups)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_memory_child(variant: str, side: int) -> None:
    q, k, v, groups, tables, plan, strength = make_case(side)
    small = make_case(8)  # load kernels/libraries on a tiny case first
    {"ours": lambda: ours(*small[:4]), "sdpa": lambda: sdpa(*small[:3]),
     "dense": lambda: dense_demo(*small[:3], small[4], small[5], small[6])}[variant]()
    before = rss_bytes()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0, c0 = time.perf_counter(), time.process_time()
    if variant == "ours":
        out = ours(q, k, v, groups)
    elif variant == "sdpa":
        out = sdpa(q, k, v)
    else:
        out = dense_demo(q, k, v, tables, plan, strength)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"variant": variant, "peak_extra": max(peak, peak_before) - before,
                      "seconds": seconds, "cpu_seconds": cpu,
                      "output_bytes": out.numel() * out.element_size()}))


def child_run(variant: str, side: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--side", str(side)],
        capture_output=True, text=True, timeout=900,
    )
    if proc.returncode != 0:
        return {"variant": variant, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def dense_would_be_bytes(n: int, heads: int = HEADS) -> int:
    """Live at the dense form's peak: probabilities, maps and coefficients, all per head."""
    return 3 * heads * n * n * 4


def time_case(side: int, repeats: int) -> dict:
    """Best-of-N wall and CPU seconds, SDPA and ours alternating on the same inputs."""
    q, k, v, groups, *_ = make_case(side)
    wall: dict[str, list[float]] = {"sdpa": [], "ours": []}
    cpu: dict[str, list[float]] = {"sdpa": [], "ours": []}
    for _ in range(repeats):
        for name, fn in (("sdpa", lambda: sdpa(q, k, v)), ("ours", lambda: ours(q, k, v, groups))):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {"wall": {n: sorted(t) for n, t in wall.items()},
            "cpu": {n: sorted(t) for n, t in cpu.items()}}


def print_memory(mem: dict, n: int) -> None:
    for name, m in mem.items():
        if "error" in m:
            print(f"peak  {name}: failed: {m['error']}")
        else:
            print(f"peak  {name:5s}: +{m['peak_extra'] / 2**20:6.0f} MiB "
                  f"(of which output {m['output_bytes'] / 2**20:.0f} MiB; one run "
                  f"{m['seconds']:.1f} s wall, {m['cpu_seconds']:.1f} s CPU)")
    dense_bytes = dense_would_be_bytes(n)
    measured = mem.get("dense", {}).get("peak_extra")
    ref, label = (measured, "measured dense") if measured else (dense_bytes, "dense would need")
    print(f"dense form holds >= {dense_bytes / GiB:.1f} GiB at its peak "
          f"(probabilities + maps + coefficients, 3 x heads x N^2 float32)")
    if "peak_extra" in mem.get("ours", {}):
        print(f"memory AST / {label} = {100 * mem['ours']['peak_extra'] / ref:.2f}% "
              "(target <= 2%)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--skip-2048", action="store_true")
    ap.add_argument("--skip-dense", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--side", type=int, default=64)
    args = ap.parse_args()
    if args.child:
        measure_memory_child(args.child, args.side)
        return

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, batch 1, "
          f"{HEADS} heads x {HEAD_DIM}, layer {LAYER + 1} of the paper preset, step 1")
    n = TEXT + 64 * 64
    print(f"\n== 1024x1024: {TEXT} text + 4096 image = {n} tokens ==")
    t = time_case(64, args.repeats)
    for kind in ("wall", "cpu"):
        s_, o_ = t[kind]["sdpa"], t[kind]["ours"]
        print(f"time  {kind:4s}: SDPA best {s_[0]:.2f} s (median {s_[len(s_) // 2]:.2f}), "
              f"AST best {o_[0]:.2f} s (median {o_[len(o_) // 2]:.2f}) -> "
              f"ratio {o_[0] / s_[0]:.2f}x (target <= 1.3x)")
    variants = ("sdpa", "ours") + (() if args.skip_dense else ("dense",))
    print_memory({name: child_run(name, 64) for name in variants}, n)

    if not args.skip_2048:
        n = TEXT + 128 * 128
        print(f"\n== 2048x2048: {TEXT} text + 16384 image = {n} tokens "
              "(one run each, fresh process) ==")
        mem = {name: child_run(name, 128) for name in ("sdpa", "ours")}
        if all("seconds" in m for m in mem.values()):
            for kind, key in (("wall", "seconds"), ("cpu", "cpu_seconds")):
                print(f"time  {kind:4s}: SDPA {mem['sdpa'][key]:.1f} s, AST {mem['ours'][key]:.1f} s"
                      f" -> ratio {mem['ours'][key] / mem['sdpa'][key]:.2f}x")
        print_memory(mem, n)


if __name__ == "__main__":
    main()
