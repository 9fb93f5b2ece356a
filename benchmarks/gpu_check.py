"""One command for a lent GPU: check every AST attention backend, then benchmark them.

    PYTHONUNBUFFERED=1 PYTHONPATH=. python3 benchmarks/gpu_check.py [--budget 500]
        [--log $OUT/gpu_check.txt] [--skip-bench] [--bench-args "--skip dense"]

1. **Correctness** (a child process, so a crashed kernel cannot poison the rest): every
   backend (Triton, FlexAttention, torch) against the float64 dense formula on synthetic
   layouts: sizes that are and are not tile multiples, head sizes 16/64/128/256,
   bf16/fp16/float32, batch 2 with per-sample tables (a plain CFG sample, or two
   strengths), T2T identity with the set map, overlapping segments and spans, tokens in no
   segment, strong weights (the running-max loop), 40 segments (three bit words),
   text-first (FLUX) and image-first (SD3) sequences. One PASS/FAIL line per case.
   Needs only torch (+ triton): it loads the attention kernel modules without the package
   (which imports diffusers and, through the schedule, shapely).
2. **Benchmark** (a second child): ``gpu_attention_bench.py --tune`` with the time left.

Every part catches its own errors and keeps going; parts that would overrun the budget are
skipped with a note. The end of the output repeats the tally and the benchmark's summary
table. Also runs on a CPU (small cases; the Triton cases only with TRITON_INTERPRET=1).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shlex
import subprocess
import sys
import threading
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def say(*parts) -> None:
    print(*parts, flush=True)


# ----------------------------------------------------------------------------- imports


def attention_modules():
    """kernel, backends and dense_form of ``ast_core.attention``; without the package's
    ``__init__`` when that cannot import (no diffusers / shapely on this machine)."""
    try:
        importlib.import_module("ast_core.attention")
    except ImportError as exc:
        say(f"note: ast_core.attention does not import ({exc}); loading its kernel modules "
            "alone")
        importlib.import_module("ast_core")
        package = types.ModuleType("ast_core.attention")
        package.__path__ = [str(ROOT / "ast_core" / "attention")]
        sys.modules["ast_core.attention"] = package
    names = ("kernel", "backends", "dense_form", "segment_bits")
    return [importlib.import_module(f"ast_core.attention.{n}") for n in names]


# ----------------------------------------------------------------------------- cases


@dataclass
class Case:
    name: str
    order: str          # "text" first (FLUX) or "image" first (SD3)
    text: int
    side: int           # image tokens = side * side
    head_dim: int
    dtype: str
    batch: str          # "one", "cfg" (sample 0 plain), "two" (two strengths)
    strength: float     # multiplies the demo's weights (30: "strong")
    segments: int
    overlap: bool
    plan: str           # "all" (I2I + T2T + I2T) or "t2t"
    spread: float
    heads: int = 3

    @property
    def n(self) -> int:
        return self.text + self.side * self.side


CASES = [
    Case("small-text-first", "text", 16, 6, 64, "bf16", "one", 1, 4, True, "all", 1.5),
    Case("sd3-image-first-cfg", "image", 77, 13, 128, "bf16", "cfg", 1, 4, True, "all", 1.0),
    Case("tile-multiple", "text", 128, 32, 128, "bf16", "one", 1, 4, True, "all", 1.0),
    Case("per-sample-fp16", "text", 128, 32, 64, "fp16", "two", 1, 4, True, "all", 1.0),
    Case("image-first-f32", "image", 64, 20, 64, "f32", "one", 1, 4, True, "all", 1.5),
    Case("cfg-f32-head128", "text", 77, 13, 128, "f32", "cfg", 1, 4, True, "all", 1.0),
    Case("strong-bf16", "text", 77, 13, 128, "bf16", "one", 30, 4, True, "all", 1.0),
    Case("strong-image-first-f32", "image", 64, 20, 64, "f32", "two", 30, 4, True, "all", 1.5),
    Case("exclusive-segments", "text", 128, 32, 128, "bf16", "one", 1, 6, False, "all", 1.0),
    Case("40-segments", "image", 77, 13, 64, "bf16", "one", 1, 40, True, "all", 1.0),
    Case("head16-f32", "text", 16, 6, 16, "f32", "one", 1, 4, True, "all", 2.0),
    Case("t2t-only", "text", 64, 20, 128, "bf16", "one", 1, 4, True, "t2t", 1.0),
    Case("flux-512+1024-cfg", "text", 512, 32, 128, "bf16", "cfg", 1, 4, True, "all", 1.0, 2),
    Case("head256-bf16", "text", 77, 13, 256, "bf16", "one", 1, 4, True, "all", 1.0, 2),
    # float16 cannot hold weights 2^(z - lse) > 65504: every modulated row keeps a max
    Case("fp16-exclusive-4x", "text", 64, 20, 64, "fp16", "one", 4, 5, False, "all", 1.0),
    Case("flux-1024^2", "text", 512, 64, 128, "bf16", "one", 1, 4, True, "all", 1.0, 2),
]
FLEX_CASES = ("sd3-image-first-cfg", "image-first-f32", "strong-bf16")
DEMO = {"i2i": 3.5, "t2t": 3.5, "i2t": 5.0}


def synthetic_groups(case: Case, device, kernel):
    """Row groups of a random layout as the method builds them (T2T set map with identity,
    I2T instance columns, I2I), for either token order; per-sample coefficients."""
    import torch
    T, side, S = case.text, case.side, case.segments
    hw = side * side
    g = torch.Generator().manual_seed(S * 131 + side)
    owner = torch.full((side, side), -1)
    inst = torch.zeros(S - 1, side, side, dtype=torch.bool)
    for s in range(S - 1):
        r0, c0 = (int(torch.randint(0, side - 1, (1,), generator=g)) for _ in range(2))
        r1 = r0 + 1 + int(torch.randint(0, side - r0, (1,), generator=g))
        c1 = c0 + 1 + int(torch.randint(0, side - c0, (1,), generator=g))
        inst[s, r0:r1, c0:c1] = True
        owner[r0:r1, c0:c1] = s
    if not case.overlap:
        inst = torch.stack([owner == s for s in range(S - 1)])
    background = ~inst.any(0)
    background.view(-1)[:3] = False                         # tokens in no segment
    image = torch.cat([background[None], inst]).reshape(S, hw).t().float()   # [hw, S]
    width = max(1, (T - 2) // S)
    text = torch.zeros(T, S)
    i2t = torch.zeros(S, T)
    for s in range(S):
        span = list(range(1 + s * width, min(T, 1 + (s + 1) * width + (1 if case.overlap else 0))))
        text[span, s] = 1.0                                 # with overlap: spans share a token
        i2t[s, span[1:] if s and len(span) > 1 else span] = 1.0   # s > 0: first token is "attribute"
    t2t = ((text @ text.t()) > 0) | torch.eye(T, dtype=torch.bool)
    a_txt = 1.0 - 4.0 * t2t.sum(1).float() / T
    a_img = 1.0 - (image @ image.sum(0)) / hw
    samples = {"one": [1.0], "cfg": [0.0, 1.0], "two": [1.0, 0.6]}[case.batch]

    def coef(a, kind):
        rows = torch.stack([a * DEMO[kind] * case.strength * w for w in samples])
        return (rows[0] if len(samples) == 1 else rows).to(device)

    text_rows, image_rows = ((0, T), (T, T + hw)) if case.order == "text" else \
        ((hw, hw + T), (0, hw))
    image_d, text_d = image.to(device), text.to(device)
    B = kernel.BlockModulation
    text_blocks = [B(text_rows, coef(a_txt, "t2t"), text_d, text_d.t(), identity=True,
                     binary=True)]
    image_blocks = [] if case.plan == "t2t" else [
        B(text_rows, coef(a_img, "i2t"), image_d, i2t.to(device)),
        B(image_rows, coef(a_img, "i2i"), image_d, image_d.t()),
    ]
    groups = [kernel.RowGroup(text_rows, text_blocks), kernel.RowGroup(image_rows, image_blocks)]
    return sorted(groups, key=lambda grp: grp.rows), len(samples)


def correctness(deadline: float) -> None:
    import torch
    kernel, backends, dense_form, segment_bits = attention_modules()
    on_gpu = torch.cuda.is_available()
    device = torch.device("cuda" if on_gpu else "cpu")
    interpreting = os.environ.get("TRITON_INTERPRET") == "1"
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "f32": torch.float32}
    tolerance = {"bf16": 3e-3, "fp16": 3e-3, "f32": 1e-5}
    cases = CASES if on_gpu else [c for c in CASES if c.n <= 500]
    say(f"correctness on {torch.cuda.get_device_name() if on_gpu else 'CPU'}: "
        f"{len(cases)} layouts, relative L2 vs float64 dense (bf16/fp16 <= 3e-3, "
        "float32 <= 1e-5)")
    runnable = []
    for name in ("triton", "flex", "torch"):
        if name == "flex" and not on_gpu:
            say("SKIP flex: compiled FlexAttention needs a GPU here")
            continue
        if name == "triton" and not on_gpu and not interpreting:
            say("SKIP triton: no GPU (set TRITON_INTERPRET=1 to run the kernel interpreted)")
            continue
        try:
            backends.attention_backend(device, name)
            runnable.append(name)
        except Exception as exc:
            say(f"FAIL {name}: backend unavailable: {exc}")
    for name in runnable:
        todo = [c for c in cases if name != "flex" or c.name in FLEX_CASES]
        for case in todo:
            left = deadline - time.time()
            if left < (45 if name == "flex" else 10):
                say(f"SKIP {name:6s} {case.name}: out of time")
                continue
            t0 = time.time()
            try:
                groups, batch = synthetic_groups(case, device, kernel)
                gen = torch.Generator(device=device).manual_seed(len(case.name))
                q, k, v = (torch.randn(batch, case.n, case.heads, case.head_dim, generator=gen,
                                       device=device) * case.spread for _ in range(3))
                q, k, v = (t.to(dtypes[case.dtype]) for t in (q, k, v))
                ref = dense_form.dense_modulated_attention(q, k, v, groups, dtype=torch.float64)
                plain = torch.nn.functional.scaled_dot_product_attention(
                    *(t.double().transpose(1, 2) for t in (q, k, v))).transpose(1, 2)
                out = kernel.modulated_attention(q, k, v, groups, backend=name)
                if on_gpu:
                    torch.cuda.synchronize()
                err = float((out.double() - ref).norm() / ref.norm())
                acts = float((plain - ref).norm() / ref.norm())
                bits = segment_bits.segment_bits(groups, case.n, device)
                ok = err <= tolerance[case.dtype] and out.dtype == q.dtype \
                    and out.shape == v.shape and acts > 1e-2
                say(f"{'PASS' if ok else 'FAIL'} {name:6s} {case.name:24s} N={case.n:5d} "
                    f"D={case.head_dim:3d} {case.dtype:4s} B={batch} {case.order}-first "
                    f"words={bits.words} err={err:.2e} (tol {tolerance[case.dtype]:.0e}; "
                    f"plain differs by {acts:.2f}) {time.time() - t0:.1f}s")
            except Exception as exc:
                say(f"FAIL {name:6s} {case.name:24s} {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''}")
                traceback.print_exc(limit=4, file=sys.stdout)


# ----------------------------------------------------------------------------- parent


class Tee:
    def __init__(self, path: str | None) -> None:
        self.file = open(path, "a", encoding="utf-8") if path else None
        self.lines: list[str] = []

    def line(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)
        if self.file:
            self.file.write(text + "\n")
            self.file.flush()


def run_child(tee: Tee, args: list[str], timeout: float) -> int | None:
    """Run a child, echo its output line by line; kill it past ``timeout`` seconds."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)

    def pump():
        for text in proc.stdout:
            tee.line(text.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=max(1.0, timeout))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        tee.line(f"TIMEOUT: {' '.join(args[:1])} killed after {timeout:.0f} s")
        code = None
    reader.join(timeout=5)
    return code


def environment(tee: Tee) -> None:
    import platform

    import torch
    tee.line(f"python {platform.python_version()}, torch {torch.__version__}, CUDA "
             f"{torch.version.cuda}, GPU: "
             f"{torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}")
    for name in ("triton", "diffusers", "transformers", "shapely"):
        spec = importlib.util.find_spec(name)
        version = "-"
        if spec is not None:
            try:
                version = getattr(importlib.import_module(name), "__version__", "?")
            except Exception as exc:
                version = f"does not import ({type(exc).__name__})"
        tee.line(f"  {name}: {version if spec else 'not installed'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=500.0, help="seconds for everything")
    ap.add_argument("--log", default=None, help="also write the output here (default: "
                    "$OUT/gpu_check.txt when OUT is set)")
    ap.add_argument("--skip-bench", action="store_true")
    ap.add_argument("--bench-args", default="", help="extra arguments for the benchmark")
    ap.add_argument("--part", choices=["correctness"], help=argparse.SUPPRESS)
    ap.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.part == "correctness":
        correctness(args.deadline or time.time() + 240)
        return

    start = time.time()
    end = start + args.budget
    log = args.log or (os.path.join(os.environ["OUT"], "gpu_check.txt")
                       if os.environ.get("OUT") else None)
    tee = Tee(log)
    tee.line(f"== AST attention GPU check, budget {args.budget:.0f} s ==")
    try:
        environment(tee)
    except Exception as exc:
        tee.line(f"environment: {type(exc).__name__}: {exc}")

    share = 0.45 if not args.skip_bench else 0.95
    check_deadline = start + share * args.budget
    tee.line(f"\n== 1. correctness (until +{check_deadline - start:.0f} s) ==")
    code = run_child(tee, [__file__, "--part", "correctness", "--deadline", str(check_deadline)],
                     timeout=check_deadline - time.time() + 30)
    if code not in (0, None):
        tee.line(f"correctness child exited with code {code}")

    if not args.skip_bench:
        left = end - time.time()
        tee.line(f"\n== 2. benchmark ({left:.0f} s left) ==")
        if left > 60:
            bench = [str(ROOT / "benchmarks" / "gpu_attention_bench.py"), "--tune",
                     "--deadline", str(end - 15), *shlex.split(args.bench_args)]
            code = run_child(tee, bench, timeout=end - time.time())
            if code not in (0, None):
                tee.line(f"benchmark child exited with code {code}")
        else:
            tee.line("skipped: out of time")

    checks = [ln for ln in tee.lines if ln.startswith(("PASS ", "FAIL ", "SKIP "))]
    passed = sum(ln.startswith("PASS") for ln in checks)
    failed = [ln for ln in checks if ln.startswith("FAIL")]
    skipped = sum(ln.startswith("SKIP") for ln in checks)
    tee.line(f"\n== RESULT after {time.time() - start:.0f} s: {passed} PASS, {len(failed)} "
             f"FAIL, {skipped} SKIP ==")
    for ln in failed:
        tee.line(ln[:200])
    if "== SUMMARY (issue 12 targets) ==" in tee.lines:
        at = tee.lines.index("== SUMMARY (issue 12 targets) ==")
        for ln in tee.lines[at:]:
            if ln.startswith(("|", "==")) and not ln.startswith("== RESULT"):
                tee.line(ln)
    elif not args.skip_bench:
        tee.line("(no benchmark summary: see above)")


if __name__ == "__main__":
    main()
