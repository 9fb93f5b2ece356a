"""One regional-prompting attention layer vs plain SDPA, at 1024^2 and 2048^2 (CPU, or a GPU).

FLUX.1-dev's attention shape: 24 heads x 128, batch 1; 3 instances (two overlap) + the
background = 4 regions of 512 T5 rows each (2048 text rows), then 4096 (1024^2) or 16384
(2048^2) image tokens. Variants, all on the same q, k, v:

* ``sdpa``      plain ``scaled_dot_product_attention`` over the main sequence (4 x 512 + HW)
* ``masked``    the regional mask over the same sequence (ours; ``--backend`` torch / flex)
* ``layer``     what a masked layer of an inject step costs in attention: the base pass
                (SDPA over 512 + HW), the masked main pass and the blend
* ``stock``     SDPA over the base prompt's sequence alone (512 + HW): what ``none`` pays
* ``dense``     the public code's way: SDPA with a dense ``N x N`` boolean mask (its size is
                printed; it runs where it fits, ``--skip-dense`` leaves it out)

CPU: float32; time = best of ``--repeats`` wall and CPU seconds (CPU time is steadier on a
shared machine), the variants alternating; peak memory
= each variant alone in a fresh subprocess, ``ru_maxrss`` after the call minus the resident
size before it. GPU (``--device cuda``, needs no diffusers): bfloat16, CUDA events, one warm-up
(the flex compile is timed apart), peak = ``max_memory_allocated`` above the inputs; the
masked backends are checked against each other (max abs difference) at every size.

    .venv/bin/python benchmarks/regional_bench.py [--repeats N] [--skip-1024|--skip-2048] [--skip-dense]
                                                  [--skip-memory]
    python benchmarks/regional_bench.py --device cuda [--backend flex|torch|both]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ast_core.attention.regional_kernel import (  # noqa: E402
    RegionalMask,
    RegionTokens,
    plain_attention,
    regional_attention,
)

HEADS, HEAD_DIM, TEXT, RATIO = 24, 128, 512, 0.2
MiB, GiB = 2 ** 20, 2 ** 30


def region_tokens(side: int) -> RegionTokens:
    """3 instances (two overlap) and the uncovered background on a side x side token grid."""
    g = torch.zeros(3, side, side, dtype=torch.bool)
    q = side // 8
    g[0, q:5 * q, q:4 * q] = True
    g[1, 3 * q:7 * q, 3 * q:6 * q] = True
    g[2, 5 * q:7 * q, 6 * q:8 * q] = True
    masks = torch.cat([g.reshape(3, -1), (~g.any(0)).reshape(1, -1)])
    return RegionTokens(masks, TEXT)


def make_case(side: int, device: str = "cpu", dtype=torch.float32, seed: int = 0):
    tokens = region_tokens(side)
    n = tokens.text_len + tokens.image_len
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(1, n, HEADS, HEAD_DIM, generator=gen).to(device, dtype) for _ in range(3))
    base = [torch.randn(1, TEXT + tokens.image_len, HEADS, HEAD_DIM, generator=gen).to(device, dtype)
            for _ in range(3)]
    mask = RegionalMask(tokens.joint_bits().to(device))
    return tokens, mask, (q, k, v), base


def variants(tokens, mask, main, base, backend: str):
    q, k, v = main

    def layer():
        b = plain_attention(*base)
        out = regional_attention(q, k, v, mask, backend)
        image = out[:, tokens.image_rows(out.shape[1])]
        image.mul_(1 - RATIO).add_(b[:, tokens.image_rows(b.shape[1])], alpha=RATIO)
        return out

    def dense():
        allowed = (mask.bits[:, None] & mask.bits[None, :]) != 0
        return plain_attention(q, k, v, allowed)

    return {
        "sdpa": lambda: plain_attention(q, k, v),
        "masked": lambda: regional_attention(q, k, v, mask, backend),
        "layer": layer,
        "stock": lambda: plain_attention(*base),
        "dense": dense,
    }


def dense_mask_bytes(n: int) -> int:
    return n * n


# ---------------------------------------------------------------------------- CPU
def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(variant: str, side: int) -> None:
    small = make_case(8)
    variants(*small, "torch")[variant]()  # load kernels first
    case = make_case(side)
    fn = variants(*case, "torch")[variant]
    case[1].classes()  # prepared once per run, not per call
    before = rss_bytes()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"variant": variant, "peak_extra": max(peak, peak_before) - before, "seconds": seconds,
                      "output_bytes": out.numel() * out.element_size()}))


def child_run(variant: str, side: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", variant, "--side", str(side)],
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        return {"variant": variant, "error": (proc.stderr.strip().splitlines() or ["killed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cpu_case(side: int, repeats: int, names: list[str], memory: bool = True) -> None:
    tokens, mask, main, base = make_case(side)
    n = tokens.text_len + tokens.image_len
    print(f"\n== {side * 16}x{side * 16}: {tokens.regions} regions x {TEXT} text + {tokens.image_len} image "
          f"= {n} tokens (base pass: {TEXT + tokens.image_len}) ==")
    fns = variants(tokens, mask, main, base, "torch")
    mask.classes()
    best: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for _ in range(repeats):
        for name in names:
            t0, c0 = time.perf_counter(), time.process_time()
            fns[name]()
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - t0)
            cpu[name] = min(cpu.get(name, float("inf")), time.process_time() - c0)
    mem = {name: child_run(name, side) if memory else {"variant": name, "error": "not measured"}
           for name in names}
    print(f"{'variant':8s} {'best s':>8s} {'vs sdpa':>8s} {'CPU s':>8s} {'vs sdpa':>8s} {'peak MiB':>9s} {'vs sdpa':>8s}")
    for name in names:
        m = mem[name]
        peak = f"{m['peak_extra'] / MiB:9.0f}" if "peak_extra" in m else f"{'-':>9s}"
        ratio_m = (f"{m['peak_extra'] / mem['sdpa']['peak_extra']:8.2f}"
                   if "peak_extra" in m and mem["sdpa"].get("peak_extra") else f"{'':8s}")
        print(f"{name:8s} {best[name]:8.2f} {best[name] / best['sdpa']:8.2f} {cpu[name]:8.2f} "
              f"{cpu[name] / cpu['sdpa']:8.2f} {peak} {ratio_m}"
              + (f"   ({m['error']})" if "error" in m and memory else ""))
    print(f"dense N x N bool mask alone: {dense_mask_bytes(n) / MiB:.0f} MiB "
          f"(the public code's mask, built per call there)")
    print(f"wall (CPU) time: masked / stock = {best['masked'] / best['stock']:.2f} "
          f"({cpu['masked'] / cpu['stock']:.2f}), layer / stock = {best['layer'] / best['stock']:.2f} "
          f"({cpu['layer'] / cpu['stock']:.2f})")


# ---------------------------------------------------------------------------- GPU
def gpu_case(side: int, backends: list[str], skip_dense: bool) -> None:
    device = "cuda"
    tokens, mask, main, base = make_case(side, device, torch.bfloat16)
    n = tokens.text_len + tokens.image_len
    print(f"\n== {side * 16}x{side * 16}: {n} tokens (base pass {TEXT + tokens.image_len}), bf16 ==")
    rows = []
    outputs = {}
    base_mem = torch.cuda.memory_allocated()
    for backend in backends:
        fns = variants(tokens, mask, main, base, backend)
        names = ["sdpa", "stock", "masked", "layer"] + ([] if skip_dense else ["dense"])
        for name in names:
            if backend != backends[0] and name in ("sdpa", "stock", "dense"):
                continue
            label = name if name in ("sdpa", "stock", "dense") else f"{name}[{backend}]"
            try:
                t0 = time.perf_counter()
                out = fns[name]()  # warm-up (compiles flex on its first use)
                torch.cuda.synchronize()
                warm = time.perf_counter() - t0
                torch.cuda.reset_peak_memory_stats()
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                reps = 5
                for _ in range(reps):
                    out = fns[name]()
                end.record()
                torch.cuda.synchronize()
                ms = start.elapsed_time(end) / reps
                peak = torch.cuda.max_memory_allocated() - base_mem - out.numel() * out.element_size()
                rows.append((label, ms, peak, warm))
                if name == "masked" or name == "dense":
                    outputs[label] = out.float()
                del out
            except Exception as exc:  # noqa: BLE001 - one failing variant must not stop the table
                rows.append((label, None, None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"))
            torch.cuda.empty_cache()
    sdpa_ms = next((r[1] for r in rows if r[0] == "sdpa" and r[1]), None)
    print(f"{'variant':16s} {'ms':>9s} {'vs sdpa':>8s} {'peak MiB':>9s} {'first call s':>13s}")
    for label, ms, peak, warm in rows:
        if ms is None:
            print(f"{label:16s} failed: {warm}")
            continue
        ratio = f"{ms / sdpa_ms:8.2f}" if sdpa_ms else f"{'':8s}"
        print(f"{label:16s} {ms:9.2f} {ratio} {peak / MiB:9.0f} {warm:13.2f}")
    print(f"dense N x N bool mask alone: {dense_mask_bytes(n) / MiB:.0f} MiB")
    labels = list(outputs)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            print(f"max |{a} - {b}| = {(outputs[a] - outputs[b]).abs().max().item():.3e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--backend", default="both", choices=["flex", "torch", "both"], help="GPU masked backends")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--skip-1024", action="store_true")
    ap.add_argument("--skip-2048", action="store_true")
    ap.add_argument("--skip-memory", action="store_true", help="CPU: time only")
    ap.add_argument("--skip-dense", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--side", type=int, default=64)
    args = ap.parse_args()
    if args.child:
        memory_child(args.child, args.side)
        return
    sides = ([] if args.skip_1024 else [64]) + ([] if args.skip_2048 else [128])
    if args.device == "cuda":
        print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, {HEADS} heads x {HEAD_DIM}, batch 1")
        backends = ["flex", "torch"] if args.backend == "both" else [args.backend]
        for side in sides:
            gpu_case(side, backends, args.skip_dense)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, {HEADS} heads x {HEAD_DIM}, "
          "batch 1, masked = torch backend")
    for side in sides:
        names = ["sdpa", "stock", "masked", "layer"]
        if not args.skip_dense and side == 64:
            names.append("dense")  # at 2048^2 it needs a 340 MiB mask and SDPA's math path: size printed only
        cpu_case(side, args.repeats, names, not args.skip_memory)


if __name__ == "__main__":
    main()
