"""AST attention on a GPU: one modulated layer, a whole transformer forward, a 28-step render.

Everything is measured side by side in one run (CUDA events, median) on a FLUX.1-dev-shaped
``FluxTransformer2DModel`` with random bf16 weights made directly on the device (no
download; 19 double + 38 single blocks, 24 heads x 128, 11.9 B parameters):

1. **One modulated layer** (the paper preset's heaviest band, single block 12 on step 1:
   I2I + T2T + I2T instance+attribute) at 1024^2 (512 + 4096 tokens) and 2048^2
   (512 + 16384): plain SDPA vs the Triton kernel vs FlexAttention vs the torch batched
   path vs the demo's dense form; time and extra peak memory (what the call allocates
   beyond its inputs) next to SDPA's.
2. **One transformer forward** at a modulated step (step 1 of the paper preset): plain vs
   AST, at both sizes.
3. **A 28-step render** at 1024^2 with 16 modulated steps: 28 forwards with the AST
   controller installed vs 28 plain forwards.
4. (``--tune``) the Triton kernel's tile settings swept at 1024^2.

It ends with a compact table of the ratios next to the issue's targets. On a CPU it runs
a small model in float32 (``--model small``: 2 + 4 blocks, 4 heads x 32, 256/1024 tokens).

    PYTHONPATH=. python3 benchmarks/gpu_attention_bench.py [--sizes 1024,2048]
        [--skip layer,forward,render,flex,torch,dense] [--tune] [--deadline EPOCH_S]
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import math
import statistics
import sys
import time
import traceback
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from attention_bench import LAYER, layout_inputs  # noqa: E402

from ast_core.attention import (  # noqa: E402
    ASTAttention,
    TokenTables,
    attention_backend,
    build_row_groups,
    modulated_attention,
)
from ast_core.attention.dense_form import dense_modulated_attention  # noqa: E402
from ast_core.models import architecture  # noqa: E402
from ast_core.models.flux import AST_PAPER as AST_PAPER_FLUX  # noqa: E402
from ast_core.schedule import preset_schedule  # noqa: E402

FLUX = architecture("flux")

MiB = 2 ** 20
TARGETS = {"layer": "<= 3x", "layer_mem": "<= 2x", "forward1024": "<= 1.3x",
           "forward2048": "<= 1.6x", "render": "<= 1.2x"}
MODELS = {
    "flux-dev": dict(patch_size=1, in_channels=64, num_layers=19, num_single_layers=38,
                     attention_head_dim=128, num_attention_heads=24, joint_attention_dim=4096,
                     pooled_projection_dim=768, guidance_embeds=True, axes_dims_rope=(16, 56, 56)),
    "small": dict(patch_size=1, in_channels=16, num_layers=2, num_single_layers=4,
                  attention_head_dim=32, num_attention_heads=4, joint_attention_dim=64,
                  pooled_projection_dim=32, guidance_embeds=True, axes_dims_rope=(4, 14, 14)),
}
RENDER_STEPS, MODULATED_STEPS = 28, 16


def say(*parts) -> None:
    print(*parts, flush=True)


class Clock:
    """Medians of CUDA-event (or wall-clock) times, a deadline for the whole run."""

    def __init__(self, device: torch.device, deadline: float | None) -> None:
        self.device = device
        self.deadline = deadline

    def left(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.time()

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def time_ms(self, fn, reps: int = 10, warmup: int = 1, max_s: float = 3.0) -> float:
        for _ in range(warmup):
            fn()
        self.sync()
        times: list[float] = []
        stop = time.time() + max_s
        while len(times) < reps and (len(times) < 3 or time.time() < stop):
            if self.device.type == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end))
            else:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1000.0)
        return statistics.median(times)

    def peak_extra_mib(self, fn) -> float | None:
        """Peak memory the call allocates beyond what exists before it (CUDA only)."""
        if self.device.type != "cuda":
            return None
        gc.collect()
        self.sync()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        out = fn()
        self.sync()
        peak = torch.cuda.max_memory_allocated(self.device) - base
        del out
        return peak / MiB


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms:.2f} ms" if ms < 100 else f"{ms:,.0f} ms"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def rel_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


def paper_groups(side: int, text: int, device: torch.device, layer: int = LAYER):
    """Row groups of the paper preset's ``layer`` on step 1 for the bench layout."""
    schedule = preset_schedule(AST_PAPER_FLUX)
    timesteps = render_timesteps()
    inputs = layout_inputs(side, text)
    tables = TokenTables(inputs, schedule.sizereg_image, schedule.sizereg_text, device)
    strength = {kind: float(schedule.coefficient_table(kind, timesteps)[0, layer])
                for kind in ("i2i", "t2t", "i2t")}
    return build_row_groups(schedule.layer_plan(layer), strength, tables)


def render_timesteps(steps: int = RENDER_STEPS) -> list[float]:
    return [1000.0 * (1.0 - i / steps) for i in range(steps)]


# ----------------------------------------------------------------------------- 1. one layer


def bench_layer(clock: Clock, side: int, text: int, heads: int, head_dim: int,
                dtype: torch.dtype, skip: set[str], results: dict) -> None:
    device = clock.device
    n = text + side * side
    say(f"\n== one modulated layer: {text} + {side * side} = {n} tokens, {heads} heads x "
        f"{head_dim}, {str(dtype).replace('torch.', '')} ==")
    gen = torch.Generator(device=device).manual_seed(0)
    q, k, v = (torch.randn(1, n, heads, head_dim, generator=gen, device=device, dtype=dtype)
               for _ in range(3))
    groups = paper_groups(side, text, device)
    scale = head_dim ** -0.5

    def sdpa():
        return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                              v.transpose(1, 2)).transpose(1, 2)

    variants = {"sdpa": sdpa}
    if device.type == "cuda":
        if "triton" not in skip:
            variants["triton"] = lambda: modulated_attention(q, k, v, groups, backend="triton")
        if "flex" not in skip:
            variants["flex"] = lambda: modulated_attention(q, k, v, groups, backend="flex")
    else:
        say("triton, flex: GPU only (compiled FlexAttention cannot return the log-sum-exp "
            "on the CPU)")
    if "torch" not in skip:
        variants["torch"] = lambda: modulated_attention(q, k, v, groups, backend="torch")
    if "dense" not in skip:
        variants["dense"] = lambda: dense_modulated_attention(q, k, v, groups, scale=scale)
    row: dict[str, dict] = {}
    outputs: dict[str, torch.Tensor] = {}
    for name, fn in variants.items():
        if clock.left() < 20:
            say(f"{name:7s} skipped: out of time")
            continue
        if name == "dense" and device.type == "cuda":
            need = 3 * heads * n * n * q.element_size() + n * n * 10
            free = torch.cuda.mem_get_info(device)[0]
            if need > 0.9 * free:
                say(f"{name:7s} skipped: needs ~{need / 2**30:.0f} GiB, {free / 2**30:.0f} free")
                continue
        try:
            t0 = time.time()
            outputs[name] = fn()          # first call: compiles where needed
            clock.sync()
            first = time.time() - t0
            t0 = time.time()
            fn()
            clock.sync()
            slow = time.time() - t0 > 0.05
            ms = clock.time_ms(fn, reps=3 if slow else 20, warmup=0 if slow else 2,
                               max_s=2.0 if slow else 3.0)
            mem = clock.peak_extra_mib(fn)
            row[name] = {"ms": ms, "mib": mem}
            say(f"{name:7s} {fmt_ms(ms):>12s}  extra {'-' if mem is None else f'{mem:,.0f} MiB':>10s}"
                f"  (first call {first:.1f} s)")
        except Exception as exc:  # one variant failing must not stop the others
            say(f"{name:7s} FAILED: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            traceback.print_exc(limit=2, file=sys.stdout)
    if "sdpa" in row:
        base = row["sdpa"]
        for name, r in row.items():
            if name != "sdpa":
                say(f"{name:7s} / sdpa: time {ratio(r['ms'], base['ms'])}, extra memory "
                    f"{ratio(r['mib'], base['mib'])}")
    reference = outputs.get("torch", outputs.get("dense"))
    if reference is not None:
        for name in ("triton", "flex", "dense"):
            if name in outputs and outputs[name] is not reference:
                say(f"{name:7s} vs torch path: relative L2 {rel_l2(outputs[name], reference):.2e}")
    results[f"layer{side * 16}"] = row


def bench_tiles(clock: Clock, side: int, text: int, heads: int, head_dim: int,
                dtype: torch.dtype) -> None:
    """Tile settings of the Triton kernel at one size (each one compiles once)."""
    from ast_core.attention.triton_kernel import default_config, triton_modulated_attention
    device = clock.device
    n = text + side * side
    say(f"\n== Triton tile settings at {n} tokens (default {default_config(head_dim, dtype)}) ==")
    gen = torch.Generator(device=device).manual_seed(0)
    q, k, v = (torch.randn(1, n, heads, head_dim, generator=gen, device=device, dtype=dtype)
               for _ in range(3))
    groups = paper_groups(side, text, device)
    sdpa_ms = clock.time_ms(lambda: F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)), reps=20)
    # (block_m, block_n, warps, stages); the first is the default for head size 128
    candidates = [(64, 64, 4, 3), (128, 64, 8, 3), (128, 64, 8, 2), (128, 64, 8, 4), (128, 32, 8, 3),
                  (128, 128, 8, 2), (64, 32, 4, 3), (64, 128, 4, 2), (64, 64, 4, 4)]
    for bm, bn, warps, stages in candidates:
        if clock.left() < 25:
            say("tile sweep stopped: out of time")
            return
        cfg = dict(block_m=bm, block_n=bn, num_warps=warps, num_stages=stages)
        try:
            ms = clock.time_ms(lambda: triton_modulated_attention(q, k, v, groups, head_dim ** -0.5,
                                                                  config=cfg), reps=20, warmup=2)
            say(f"block_m {bm:3d} block_n {bn:3d} warps {warps} stages {stages}: {fmt_ms(ms)} "
                f"= {ms / sdpa_ms:.2f}x SDPA")
        except Exception as exc:
            say(f"block_m {bm:3d} block_n {bn:3d} warps {warps} stages {stages}: FAILED "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


# ----------------------------------------------------------------------------- 2./3. model


def build_model(name: str, device: torch.device, dtype: torch.dtype):
    """A FluxTransformer2DModel of config ``name`` with random weights, made on the device."""
    from diffusers import FluxTransformer2DModel
    config = MODELS[name]
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device("meta"):
            model = FluxTransformer2DModel(**config)
    finally:
        torch.set_default_dtype(before)
    model = model.to_empty(device=device)
    gen = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname and pname.endswith("weight"):
                p.fill_(1.0)
            elif p.dim() >= 2:
                p.normal_(0.0, 1.0 / math.sqrt(p.shape[1]), generator=gen)
            else:
                p.zero_()
    buffers = [b for b, _ in model.named_buffers()]
    if buffers:
        say(f"note: buffers left uninitialised by to_empty: {buffers[:4]}")
    return model.eval()


def model_inputs(config: dict, side: int, text: int, device: torch.device, dtype: torch.dtype):
    gen = torch.Generator(device=device).manual_seed(1)
    hw = side * side
    img_ids = torch.zeros(side, side, 3, device=device)
    img_ids[..., 1] = torch.arange(side, device=device)[:, None]
    img_ids[..., 2] = torch.arange(side, device=device)[None, :]
    inputs = dict(
        hidden_states=torch.randn(1, hw, config["in_channels"], generator=gen, device=device,
                                  dtype=dtype),
        encoder_hidden_states=torch.randn(1, text, config["joint_attention_dim"], generator=gen,
                                          device=device, dtype=dtype),
        pooled_projections=torch.randn(1, config["pooled_projection_dim"], generator=gen,
                                       device=device, dtype=dtype),
        img_ids=img_ids.reshape(-1, 3), txt_ids=torch.zeros(text, 3, device=device),
        return_dict=False,
    )
    if config["guidance_embeds"]:
        inputs["guidance"] = torch.full((1,), 3.5, device=device, dtype=dtype)
    return inputs


def forward(model, inputs: dict, t: float, dtype: torch.dtype):
    with torch.inference_mode():
        return model(timestep=torch.full((1,), t / 1000.0, device=inputs["img_ids"].device,
                                         dtype=dtype), **inputs)[0]


def controller(model, side: int, text: int, backend: str) -> ASTAttention:
    """The paper preset on the model's layers (mapped by depth for the small model)."""
    return ASTAttention(preset_schedule(AST_PAPER_FLUX), layout_inputs(side, text),
                        render_timesteps(), order=FLUX.order,
                        structure=FLUX.structure_of(model), device=clock_device(model),
                        backend=backend)


def clock_device(model) -> torch.device:
    return next(model.parameters()).device


def bench_forward(clock: Clock, model, config: dict, side: int, text: int,
                  dtype: torch.dtype, backends: list[str], results: dict) -> None:
    device = clock.device
    n = text + side * side
    say(f"\n== transformer forward at a modulated step (step 1): {n} tokens ==")
    inputs = model_inputs(config, side, text, device, dtype)
    t = render_timesteps()[0]
    row: dict[str, dict] = {}
    runs = [("plain", None)] + [(f"AST {b}", b) for b in backends]
    for name, backend in runs:
        if clock.left() < 30:
            say(f"{name:12s} skipped: out of time")
            continue
        try:
            ctrl = controller(model, side, text, backend) if backend else None
            # installed() starts at step 0 (a modulated step) and stays there
            with ctrl.installed(FLUX, model) if ctrl else contextlib.nullcontext():
                t0 = time.time()
                forward(model, inputs, t, dtype)
                clock.sync()
                first = time.time() - t0
                t0 = time.time()
                forward(model, inputs, t, dtype)
                clock.sync()
                slow = time.time() - t0 > 2.0
                ms = clock.time_ms(lambda: forward(model, inputs, t, dtype),
                                   reps=2 if slow else 5, warmup=0, max_s=5.0)
                mem = clock.peak_extra_mib(lambda: forward(model, inputs, t, dtype))
            if ctrl is not None and not ctrl.calls["modulated"]:
                raise RuntimeError("no layer was modulated (the step was not recognised)")
            row[name] = {"ms": ms, "mib": mem}
            say(f"{name:12s} {fmt_ms(ms):>12s}  peak extra "
                f"{'-' if mem is None else f'{mem:,.0f} MiB'}  (first call {first:.1f} s)")
        except Exception as exc:
            say(f"{name:12s} FAILED: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            traceback.print_exc(limit=3, file=sys.stdout)
    for name, r in row.items():
        if name != "plain" and "plain" in row:
            say(f"{name:12s} / plain: {ratio(r['ms'], row['plain']['ms'])}")
    results[f"forward{side * 16}"] = row


def bench_render(clock: Clock, model, config: dict, side: int, text: int,
                 dtype: torch.dtype, backend: str, results: dict) -> None:
    device = clock.device
    steps = render_timesteps()
    say(f"\n== {RENDER_STEPS}-step render at {side * 16}^2, {MODULATED_STEPS} modulated steps "
        f"(AST {backend}) ==")
    inputs = model_inputs(config, side, text, device, dtype)
    forward(model, inputs, steps[0], dtype)  # warm

    def render(ctrl=None):
        for i, t in enumerate(steps):
            forward(model, inputs, t, dtype)
            if ctrl is not None:
                ctrl.step_finished(i)  # as the pipeline's step callback does
        clock.sync()

    try:
        if clock.left() < 60:
            say("skipped: out of time")
            return
        t0 = time.time()
        render()
        plain_s = time.time() - t0
        ctrl = controller(model, side, text, backend)
        with ctrl.installed(FLUX, model):
            forward(model, inputs, steps[0], dtype)  # warm the modulated path
            ctrl.calls.clear()
            ctrl.set_step(0)
            t0 = time.time()
            render(ctrl)
            ast_s = time.time() - t0
        modulated = sum(1 for s in range(RENDER_STEPS) for layer in range(len(ctrl.plans))
                        if ctrl.schedule.is_active(s, layer, steps))
        say(f"plain {plain_s:.2f} s, AST {ast_s:.2f} s -> {ast_s / plain_s:.2f}x "
            f"({ctrl.calls['modulated']} modulated layer calls, schedule expects {modulated})")
        results["render"] = {"plain_s": plain_s, "ast_s": ast_s}
    except Exception as exc:
        say(f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        traceback.print_exc(limit=3, file=sys.stdout)


# ----------------------------------------------------------------------------- summary


def summary(results: dict, sizes: list[int], fused: str) -> None:
    say("\n== SUMMARY (issue 12 targets) ==")
    cols = [f"{s}^2" for s in sizes]
    say("| figure | " + " | ".join(cols) + " | target |")
    say("|---|" + "---|" * len(cols) + "---|")

    def layer_cell(size, name, key):
        row = results.get(f"layer{size}", {})
        if name not in row or "sdpa" not in row:
            return "-"
        r, base = row[name], row["sdpa"]
        if key == "ms":
            return f"{fmt_ms(r['ms'])} = {r['ms'] / base['ms']:.2f}x"
        return ratio(r["mib"], base["mib"]) if r["mib"] is not None else "-"

    say("| layer: plain SDPA | " + " | ".join(
        fmt_ms(results.get(f"layer{s}", {}).get("sdpa", {}).get("ms")) for s in sizes) + " | |")
    for name in ("triton", "flex", "torch", "dense"):
        target = TARGETS["layer"] if name == fused else ""
        say(f"| layer: {name} / SDPA time | " + " | ".join(layer_cell(s, name, "ms") for s in sizes)
            + f" | {target} |")
    say(f"| layer: {fused} / SDPA extra memory | " + " | ".join(
        layer_cell(s, fused, "mib") for s in sizes) + f" | {TARGETS['layer_mem']} |")
    for name in [n for n in next((results[f'forward{s}'] for s in sizes
                                  if f'forward{s}' in results), {}) if n != "plain"]:
        cells = []
        for s in sizes:
            row = results.get(f"forward{s}", {})
            cells.append(f"{fmt_ms(row[name]['ms'])} / {fmt_ms(row['plain']['ms'])} = "
                         f"{row[name]['ms'] / row['plain']['ms']:.2f}x"
                         if name in row and "plain" in row else "-")
        target = f"{TARGETS['forward1024']} / {TARGETS['forward2048']}" \
            if name == f"AST {fused}" else ""
        say(f"| forward: {name} / plain | " + " | ".join(cells) + f" | {target} |")
    render = results.get("render")
    cell = f"{render['ast_s']:.1f} s / {render['plain_s']:.1f} s = " \
           f"{render['ast_s'] / render['plain_s']:.2f}x" if render else "-"
    say(f"| {RENDER_STEPS}-step render, {MODULATED_STEPS} modulated / plain | {cell} | "
        + " | ".join("" for _ in sizes[1:]) + f" | {TARGETS['render']} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--model", choices=sorted(MODELS), help="default: flux-dev on a GPU, "
                    "small on the CPU")
    ap.add_argument("--dtype", choices=["bf16", "fp16", "f32"], help="default: bf16 on a GPU, "
                    "f32 on the CPU")
    ap.add_argument("--sizes", help="image sizes in pixels (16 per token side); default "
                    "1024,2048 on a GPU, 256,512 on the CPU")
    ap.add_argument("--text", type=int, help="text tokens (default 512; 64 on the CPU)")
    ap.add_argument("--skip", default="", help="comma list of: layer, forward, render, flex, "
                    "torch, dense")
    ap.add_argument("--tune", action="store_true", help="sweep the Triton tile settings")
    ap.add_argument("--deadline", type=float, help="stop starting new parts after this epoch "
                    "time (seconds)")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    on_gpu = device.type == "cuda"
    model_name = args.model or ("flux-dev" if on_gpu else "small")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "f32": torch.float32}[
        args.dtype or ("bf16" if on_gpu else "f32")]
    sizes = [int(s) for s in (args.sizes or ("1024,2048" if on_gpu else "256,512")).split(",")]
    text = args.text or (512 if on_gpu else 64)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    config = MODELS[model_name]
    heads, head_dim = config["num_attention_heads"], config["attention_head_dim"]
    clock = Clock(device, args.deadline)
    fused = attention_backend(device)
    gpu = torch.cuda.get_device_name(device) if on_gpu else "CPU"
    say(f"torch {torch.__version__}, {gpu}, model {model_name}, "
        f"{str(dtype).replace('torch.', '')}, sizes {sizes}, text {text}; auto backend: {fused}")
    if on_gpu:
        import triton

        from ast_core.attention.triton_kernel import default_config
        say(f"triton {triton.__version__}; Triton tiles for head dim {head_dim}: "
            f"{default_config(head_dim, dtype)}")
    results: dict = {}
    if "layer" not in skip:
        for size in sizes:
            try:
                bench_layer(clock, size // 16, text, heads, head_dim, dtype, skip, results)
            except Exception:
                traceback.print_exc(limit=3, file=sys.stdout)
            gc.collect()
            if on_gpu:
                torch.cuda.empty_cache()
    if {"forward", "render"} - skip and clock.left() > 90:
        model = None
        try:
            t0 = time.time()
            model = build_model(model_name, device, dtype)
            params = sum(p.numel() for p in model.parameters())
            size = f"{params / 1e9:.2f} B" if params >= 1e8 else f"{params / 1e6:.2f} M"
            say(f"\nmodel: {size} parameters, random weights, built in {time.time() - t0:.1f} s")
        except Exception:
            traceback.print_exc(limit=3, file=sys.stdout)
        if model is not None:
            backends = [fused] + (["torch"] if "torch" not in skip and fused != "torch" else [])
            if "forward" not in skip:
                for size in sizes:
                    # the torch path's forward at 2048^2 takes ~15 s on an H200: only at 1024^2
                    use = backends if size == sizes[0] else [fused]
                    bench_forward(clock, model, config, size // 16, text, dtype, use, results)
            if "render" not in skip:
                bench_render(clock, model, config, sizes[0] // 16, text, dtype, fused, results)
            del model
            gc.collect()
            if on_gpu:
                torch.cuda.empty_cache()
    elif {"forward", "render"} - skip:
        say("\nforward/render skipped: out of time")
    if args.tune and on_gpu:
        for size in sizes:
            try:
                bench_tiles(clock, size // 16, text, heads, head_dim, dtype)
            except Exception:
                traceback.print_exc(limit=3, file=sys.stdout)
    summary(results, sizes, fused)


if __name__ == "__main__":
    main()
