"""Fused AST attention backends (Triton kernel, FlexAttention) and the backend choice.

CI has no GPU: the Triton kernel runs through Triton's interpreter in a child process
(``TRITON_INTERPRET=1`` must be set before triton is first imported, see
``fused_attention_cases.py``), FlexAttention runs eagerly on the CPU. Both are checked
against the dense float64 formula of ``test_attention.dense_reference``: relative L2
<= 1e-5 in float32 and <= 3e-3 in bf16/fp16 (rounding the output to bf16 alone is ~1.7e-3).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from fused_attention_cases import (
    CASE_IDS,
    STRONG,
    ZERO,
    batch_groups,
    image_first,
    layout,
    qkv,
    reference,
    rel_l2,
    to_image_first,
)
from test_attention import PLANS, STRENGTH, make_inputs

from ast_core.attention import (
    ASTAttention,
    BackendUnavailable,
    TokenTables,
    attention_backend,
    build_row_groups,
    describe_backend,
    modulated_attention,
    stack_sample_groups,
)
from ast_core.attention import backends
from ast_core.attention.flex_backend import flex_modulated_attention

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------- Triton kernel


@pytest.fixture(scope="module")
def triton_results() -> dict:
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, str(HERE / "fused_attention_cases.py")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", CASE_IDS)
def test_triton_kernel_equals_dense_formula(triton_results, case) -> None:
    """Tile-boundary sizes (mixed text/image tiles, one tile, exact multiples), overlaps and
    uncovered tokens, T2T identity with the set map, strong weights (running-max loop),
    batch 2 with per-sample tables (a plain CFG sample), head sizes 16/64/128, bf16, fp16
    and float32, text-first (FLUX) and image-first (SD3) sequences."""
    result = triton_results[case]
    assert isinstance(result, dict), result
    assert result["error"] <= result["tolerance"], result
    assert result["modulation"] > 1e-2  # the modulation acts: plain attention is far away


def test_triton_kernel_bit_words_and_value_head_size(triton_results) -> None:
    """Exclusive segments (single-bit rows: M = (bits != 0), no popcount) and 20 segments
    (the text key region needs T2T + I2T = 40 bits: two words, popcount), with a value head
    size (24) other than the key's (32, not a power of two either)."""
    result = triton_results["bit-words"]
    assert isinstance(result, list), result
    (words1, pop1, err1), (words2, pop2, err2) = result
    assert (words1, pop1, words2, pop2) == (1, False, 2, True)
    assert err1 <= 1e-5 and err2 <= 1e-5, result


def test_triton_backend_through_modulated_attention(triton_results) -> None:
    """backend="triton" runs the kernel with its default tiles; an attention mask or member
    values other than 0/1 run on the torch kernels, the reason logged."""
    result = triton_results["backend"]
    assert isinstance(result, dict), result
    assert result["default_tiles"] <= 1e-5 and result["masked"] <= 1e-5, result
    assert result["soft_equal_torch"]
    log = " | ".join(result["log"])
    assert "triton cannot take this call (an attention mask)" in log
    assert "values other than 0 and 1" in log


# --------------------------------------------------------------------------- FlexAttention


@pytest.mark.filterwarnings("ignore:flex_attention called without torch.compile")
@pytest.mark.parametrize("case", ["overlaps", "strong", "batch2-image-first", "two-words"])
def test_flex_score_mod_equals_dense_formula(case) -> None:
    """The FlexAttention backend's two passes and score_mod, run eagerly on the CPU."""
    inputs = layout((6, 7), 48, 20, seed=3) if case == "two-words" else make_inputs()
    tables = TokenTables(inputs, 1.0, 4.0)
    plan = PLANS["all-maps-a_inst-i2i"]
    strengths = {"overlaps": [STRENGTH], "strong": [STRONG], "two-words": [STRENGTH],
                 "batch2-image-first": [None, STRENGTH]}[case]
    B, N, T = len(strengths), inputs.total_len, inputs.text_len
    q, k, v = qkv(B, N, 2, 16, torch.float32, seed=5)
    groups = batch_groups(plan, strengths, tables)
    ref = reference(q, k, v, inputs, plan, [s or ZERO for s in strengths])
    if case == "batch2-image-first":
        groups = image_first(groups, T, N)
        q, k, v, ref = (to_image_first(t, T) for t in (q, k, v, ref))
    out = flex_modulated_attention(q, k, v, groups, 0.25, compiled=False)
    assert rel_l2(out, ref) <= 1e-5


# --------------------------------------------------------------------------- torch kernels


@pytest.mark.parametrize("heads_at_once", [False, True])
def test_torch_kernels_take_per_sample_coefficients(heads_at_once) -> None:
    inputs = make_inputs()
    tables = TokenTables(inputs, 1.0, 4.0)
    plan = PLANS["all-maps-a_inst-i2i"]
    strengths = [None, STRENGTH, {"i2i": 1.0, "t2t": 2.0, "i2t": 7.0}]
    groups = batch_groups(plan, strengths, tables)
    assert groups[1].blocks[0].coef.shape == (3, 30)
    q, k, v = qkv(3, inputs.total_len, 2, 8, torch.float32, seed=2)
    out = modulated_attention(q, k, v, groups, heads_at_once=heads_at_once, chunk_rows=7)
    ref = reference(q, k, v, inputs, plan, [s or ZERO for s in strengths])
    torch.testing.assert_close(out.double(), ref, atol=1e-5, rtol=0)


def test_stacking_needs_one_structure_and_the_batch_size_is_checked() -> None:
    tables = TokenTables(make_inputs(), 1.0, 4.0)
    a = build_row_groups(PLANS["i2i"], STRENGTH, tables)
    b = build_row_groups(PLANS["t2t"], STRENGTH, tables)
    with pytest.raises(ValueError, match="differ in structure"):
        stack_sample_groups([a, b])
    assert stack_sample_groups([None, None]) is None
    stacked = stack_sample_groups([a, None])
    q, k, v = qkv(3, 46, 1, 8, torch.float32)
    with pytest.raises(ValueError, match="2 samples, the batch has 3"):
        modulated_attention(q, k, v, stacked)


# --------------------------------------------------------------------------- backend choice


def test_auto_picks_the_torch_kernels_on_the_cpu_and_triton_on_cuda() -> None:
    pytest.importorskip("triton")
    assert attention_backend("cpu") == "torch"
    assert attention_backend("cpu", "torch") == "torch"
    assert attention_backend("cuda") == "triton"          # triton is installed here
    assert describe_backend("cpu") == "torch kernels (CPU)"
    assert describe_backend("cuda") == "Triton fused kernel"
    with pytest.raises(ValueError, match="backend: expected one of"):
        attention_backend("cpu", "cudnn")


def test_without_triton_auto_falls_back_and_a_request_names_why(monkeypatch) -> None:
    import importlib.util as util
    real = util.find_spec
    monkeypatch.setattr(util, "find_spec",
                        lambda name, *a: None if name == "triton" else real(name, *a))
    monkeypatch.setattr(backends, "_flex_probe", {})
    assert attention_backend("cuda") == "torch"            # flex needs triton on a GPU too
    assert "not installed" in describe_backend("cuda")
    with pytest.raises(BackendUnavailable, match="triton package is not installed"):
        attention_backend("cuda", "triton")
    with pytest.raises(BackendUnavailable, match="needs triton on a GPU"):
        attention_backend("cuda", "flex")
    # on the CPU nothing changes: the torch kernels
    inputs = make_inputs()
    groups = build_row_groups(PLANS["i2i"], STRENGTH, TokenTables(inputs, 1.0, 4.0))
    q, k, v = qkv(1, inputs.total_len, 2, 8, torch.float32)
    torch.testing.assert_close(modulated_attention(q, k, v, groups),
                               modulated_attention(q, k, v, groups, backend="torch"))


def test_a_requested_backend_that_cannot_run_says_why(monkeypatch) -> None:
    pytest.importorskip("triton")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(BackendUnavailable, match="needs a CUDA or ROCm GPU, the tensors are "
                                                 "on cpu"):
        attention_backend("cpu", "triton")
    inputs = make_inputs()
    groups = build_row_groups(PLANS["i2i"], STRENGTH, TokenTables(inputs, 1.0, 4.0))
    q, k, v = qkv(1, inputs.total_len, 2, 8, torch.float32)
    with pytest.raises(BackendUnavailable, match="backend 'triton' cannot run"):
        modulated_attention(q, k, v, groups, backend="triton")

    def failing_compile(fn, **_):
        def run(*args):
            raise RuntimeError("no C++ compiler found\nmore detail")
        return run

    monkeypatch.setattr(backends, "_flex_probe", {})
    monkeypatch.setattr(torch, "compile", failing_compile)
    with pytest.raises(BackendUnavailable,
                       match="^backend 'flex' cannot run: torch.compile of FlexAttention "
                             "failed on cpu: no C\\+\\+ compiler found$"):
        attention_backend("cpu", "flex")


def test_the_controller_passes_its_backend_to_every_modulated_layer(monkeypatch) -> None:
    from test_attention import FLUX, TIMESTEPS, layered_schedule, run, tiny_flux

    from ast_core.attention import controller
    seen = []
    real = controller.modulated_attention

    def spy(*args, backend="auto", **kwargs):
        seen.append(backend)
        return real(*args, backend=backend, **kwargs)

    monkeypatch.setattr(controller, "modulated_attention", spy)
    model = tiny_flux()
    ctrl = ASTAttention(layered_schedule(), make_inputs(), TIMESTEPS, backend="torch")
    with ctrl.installed(FLUX, model):
        run(model, 0, ctrl)
    assert seen == ["torch"] * 4
    with pytest.raises(ValueError, match="backend: expected one of"):
        ASTAttention(layered_schedule(), make_inputs(), TIMESTEPS, backend="fast")


# --------------------------------------------------------------------------- GPU code


@pytest.mark.slow
def test_triton_kernel_compiles_to_hopper_code_without_a_gpu():
    """The interpreter does not lower the kernel; Triton's compiler does, down to sm_90
    (Hopper) machine code with the ptxas its wheel ships: bf16, head size 128, the default
    tiles, every branch compiled in (two bit words, popcount, a sequence that is not a
    tile multiple, three key regions)."""
    arch, dtype, head_dim = 90, "bf16", 128
    variant = dict(REGIONS=3, WORDS=2, POPCOUNT=True, EVEN_N=False, EVEN_D=True)
    pytest.importorskip("triton")
    import inspect

    try:
        import triton
        from triton.backends.compiler import GPUTarget
        from triton.compiler import ASTSource
    except ImportError as exc:  # pragma: no cover - an older or CPU-only triton
        pytest.skip(f"this triton cannot compile ahead of time: {exc}")
    from ast_core.attention import triton_kernel
    if triton_kernel.INTERPRETED:
        pytest.skip("the kernel module was imported for the interpreter")
    fn = triton_kernel._ast_attention_kernel
    cfg = triton_kernel.default_config(head_dim, torch.bfloat16)
    constants = dict(variant, BLOCK_M=cfg["block_m"], BLOCK_N=cfg["block_n"],
                     BLOCK_D=head_dim, BLOCK_DV=head_dim, PRECISION=None, WIDEN=False,
                     sqd=1, skd=1, svd=1, sod=1)
    pointers = {"Q": f"*{dtype}", "K": f"*{dtype}", "V": f"*{dtype}", "O": f"*{dtype}",
                "COEF": "*fp32"}
    signature = {}
    for name in inspect.signature(fn.fn).parameters:
        if name in constants:
            signature[name] = "constexpr"
        elif name in pointers or (name.isupper() and name not in ("N", "H", "D", "DV")):
            signature[name] = pointers.get(name, "*i32")  # the per-token int32 tables
        else:
            signature[name] = "fp32" if name == "qk_scale" else "i32"
    names = list(signature)
    aligned = {(names.index(n),): [["tt.divisibility", 16]] for n in names
               if signature[n].startswith("*")}
    compiled = triton.compile(ASTSource(fn, signature, constexprs=constants, attrs=aligned),
                              target=GPUTarget("cuda", arch, 32),
                              options={"num_warps": cfg["num_warps"],
                                       "num_stages": cfg["num_stages"],
                                       "enable_fp_fusion": True})
    assert compiled.asm["cubin"] and "ex2.approx" in compiled.asm["ptx"]
    assert "wgmma" in compiled.asm["ptx"]  # Hopper's tensor-core instructions
