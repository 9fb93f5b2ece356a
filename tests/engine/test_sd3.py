"""SD3.5 under AST: image-first joint sequences, CLIP + T5 text rows, CFG halves, attn2, families."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from ast_core.attention import ASTAttention, ModulationInputs
from ast_core.generate import GenerationSettings, generate, pipeline_timesteps, prepare
from ast_core.models import IMAGE, JOINT, architecture, load_model
from ast_core.models.sd3 import AST_PAPER_SD35, SD35_LARGE, SD35_LARGE_TURBO, SD35_MEDIUM, TINY_SD3
from ast_core.models.tiny_sd3 import build_tiny_sd3
from ast_core.schedule import preset_schedule

from dense_attention import dense_reference

SD3 = architecture("sd3")
GRID = 8  # image tokens per side (latent 16 x 16, 2x2 patches)
T5 = 16
TEXT = 77 + T5
TIMESTEPS = [1000.0, 800.0, 600.0, 400.0]


def inputs() -> ModulationInputs:
    """Background + 2 instances (overlapping, z-order exclusive), spans in CLIP and T5 rows."""
    inst = torch.zeros(2, GRID, GRID, dtype=torch.bool)
    inst[0, 1:5, 0:4] = True
    inst[1, 3:8, 4:8] = True
    inst[0] &= ~inst[1]
    bg = ~inst.any(0)
    masks = torch.cat([bg[None], inst]).reshape(3, GRID * GRID)
    # CLIP rows: start token at 0, then the prompt; T5 rows start at 77
    spans = [[1, 2, 77, 78], [4, 5, 6, 80, 81, 82], [8, 9, 84, 85]]
    attrs = [[], [4, 80], [8, 84]]
    return ModulationInputs(masks, TEXT, spans, attrs)


def to_text_first(x: torch.Tensor, image_len: int) -> torch.Tensor:
    return torch.cat([x[:, image_len:], x[:, :image_len]], dim=1)


def dense_image_first(q, k, v, inp, plan, strength, sizereg_image, sizereg_text):
    """The dense float64 formula on an image-first sequence (tokens reordered, computed, put back)."""
    hw = inp.image_len
    out = dense_reference(to_text_first(q, hw), to_text_first(k, hw), to_text_first(v, hw), inp, plan,
                          strength, sizereg_image, sizereg_text)
    return torch.cat([out[:, inp.text_len:], out[:, :inp.text_len]], dim=1)


def dense_image_only(q, k, v, inp, plan, strength, sizereg_image):
    """I2I alone over the image tokens (SD3.5 Medium's attn2), dense float64."""
    q, k, v = q.double(), k.double(), v.double()
    segs = inp.segment_masks.double()
    hw = segs.shape[1]
    m_ii = sum(torch.outer(segs[s], segs[s]) for s in range(segs.shape[0]))
    m_inst = sum(torch.outer(segs[s], segs[s]) for s in range(1, segs.shape[0]))
    a = {"a_img": 1 - sizereg_image * m_ii.sum(1) / hw, "a_inst": 1 - sizereg_image * m_inst.sum(1) / hw}
    c = (a[plan.i2i_row_factor] * strength["i2i"])[:, None] if plan.i2i else torch.zeros(hw, 1, dtype=q.dtype)
    S = torch.einsum("bnhd,bmhd->bhnm", q, k) / math.sqrt(q.shape[-1])
    P = torch.softmax(S, -1)
    P1 = P * torch.exp(c * (m_ii - P))
    return torch.einsum("bhnm,bmhd->bnhd", P1 / P1.sum(-1, keepdim=True), v)


def forward_inputs(batch: int, seed: int = 5):
    g = torch.Generator().manual_seed(seed)
    return dict(
        hidden_states=torch.randn(batch, 16, 2 * GRID, 2 * GRID, generator=g),
        encoder_hidden_states=torch.randn(batch, TEXT, 64, generator=g),
        pooled_projections=torch.randn(batch, 64, generator=g),
        timestep=torch.full((batch,), TIMESTEPS[0]), return_dict=False,
    )


@pytest.fixture(scope="module")
def transformer():
    return build_tiny_sd3().transformer


def test_tiny_sd3_has_medium_structure_and_a_large_variant(transformer):
    layers = SD3.attention_layers(transformer)
    assert SD3.structure_of(transformer) == ((JOINT, 24),) == TINY_SD3.layers == SD35_MEDIUM.layers
    assert [l.layer for l in layers if l.kind == IMAGE] == list(range(13))
    assert len(layers) == 24 + 13 and [l.index for l in layers] == list(range(37))
    large = build_tiny_sd3(num_layers=38, dual_blocks=())
    assert SD3.structure_of(large.transformer) == SD35_LARGE.layers
    assert all(l.kind == JOINT for l in SD3.attention_layers(large.transformer))
    assert SD3.order == "image_first" and SD35_LARGE_TURBO.default_steps == 4


@pytest.mark.parametrize("step", [0, 1])
def test_every_sd3_layer_kind_equals_the_dense_formula(transformer, step):
    """Joint attention (image first, CLIP + T5 spans) and attn2 (image only), with a CFG batch:
    the positive half equals the dense float64 formula within 1e-5, the negative half is the
    stock attention bit for bit."""
    schedule = preset_schedule(AST_PAPER_SD35, SD3.structure_of(transformer))
    inp = inputs()
    plans = schedule.layer_plans()
    strengths = schedule.step_strengths(TIMESTEPS)
    worst = {JOINT: 0.0, IMAGE: 0.0}
    kinds_seen = set()
    negative_exact = []

    def probe(layer, step_, q, k, v, groups):
        if groups is None:
            return
        strength = {kind: float(strengths[kind][step_]) for kind in strengths}
        kind = IMAGE if q.shape[1] == inp.image_len else JOINT
        kinds_seen.add(kind)
        out = ctrl._modulated(q, k, v, groups, None)
        pos = slice(1, 2)
        if kind == JOINT:
            ref = dense_image_first(q[pos], k[pos], v[pos], inp, plans[layer], strength, 1.0, 4.0)
        else:
            ref = dense_image_only(q[pos], k[pos], v[pos], inp, plans[layer], strength, 1.0)
        worst[kind] = max(worst[kind], float((out[pos].double() - ref).norm() / ref.norm()))
        stock = torch.nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
        negative_exact.append(torch.equal(out[:1], stock[:1]))

    ctrl = ASTAttention(schedule, inp, TIMESTEPS, order=SD3.order, guidance_batch=True, probe=probe)
    with ctrl.installed(SD3, transformer), torch.inference_mode():
        ctrl.set_step(step)
        transformer(**forward_inputs(2))
    assert kinds_seen == {JOINT, IMAGE}
    assert max(worst.values()) < 1e-5, worst
    assert negative_exact and all(negative_exact)


def test_cfg_negative_half_is_stock_and_positive_half_is_modulated(transformer):
    schedule = preset_schedule(AST_PAPER_SD35, SD3.structure_of(transformer))
    args = forward_inputs(2)
    with torch.inference_mode():
        stock = transformer(**args)[0]
    ctrl = ASTAttention(schedule, inputs(), TIMESTEPS, order=SD3.order, guidance_batch=True)
    with ctrl.installed(SD3, transformer), torch.inference_mode():
        ours = transformer(**args)[0]
    assert torch.equal(ours[0], stock[0])
    assert (ours[1] - stock[1]).abs().max() > 1e-4
    assert ctrl.calls["modulated"] > 0
    assert all(type(p).__name__ == "JointAttnProcessor2_0" for p in transformer.attn_processors.values())


@pytest.fixture(scope="module")
def sd3_model():
    return load_model("tiny-sd3", device="cpu", dtype="f32")


def _goat_layout():
    from shapely.geometry import box

    from ast_core.document import Instance, Layout

    return Layout(128, 128, "a white goat next to a red car on a sunny beach", "a sunny beach", [
        Instance(name="Goat", prompt="a white goat", geometry=box(0, 32, 64, 128)),
        Instance(name="Car", prompt="a red car", geometry=box(64, 0, 128, 80)),
    ])


def test_sd3_ast_render_differs_from_none_and_none_is_the_stock_pipeline(sd3_model):
    layout = _goat_layout()
    settings = dict(width=128, height=128, steps=3, seed=4, guidance=4.5)
    steps = []
    ast = generate(layout, None, GenerationSettings(**settings), sd3_model, on_step=steps.append)
    none = generate(layout, None, GenerationSettings(**settings, method="none"), sd3_model)
    assert ast.metadata["method_used"] == "ast" and ast.metadata["model"]["architecture"] == "sd3"
    assert ast.metadata["schedule"]["preset"] == AST_PAPER_SD35
    assert not np.array_equal(np.asarray(ast.images[0]), np.asarray(none.images[0]))
    stock = sd3_model.pipeline(
        prompt=layout.base_prompt, negative_prompt="", width=128, height=128, num_inference_steps=3,
        guidance_scale=4.5, generator=torch.Generator().manual_seed(4), max_sequence_length=TINY_SD3.max_sequence_length,
    ).images[0]
    assert np.array_equal(np.asarray(stock), np.asarray(none.images[0]))
    assert [s.step for s in steps] == [1, 2, 3]
    assert tuple(steps[0].x0.shape) == (1, 16, 16, 16)
    np.testing.assert_allclose(steps[-1].x0.numpy(), steps[-1].latents.numpy(), atol=1e-5)
    # the first half of the steps, rounded up, is modulated: the metadata's schedule says so
    assert ast.metadata["schedule"]["curves"]["i2t"]["modulated_fraction"] == 0.5


def test_flux_none_is_the_stock_pipeline(tiny_model):
    layout = _goat_layout()
    none = generate(layout, None, GenerationSettings(width=128, height=128, steps=2, seed=9, method="none"),
                    tiny_model)
    stock = tiny_model.pipeline(
        prompt=layout.base_prompt, width=128, height=128, num_inference_steps=2, guidance_scale=3.5,
        generator=torch.Generator().manual_seed(9), max_sequence_length=tiny_model.family.max_sequence_length,
    ).images[0]
    assert np.array_equal(np.asarray(stock), np.asarray(none.images[0]))


def test_sd3_plan_spans_clip_and_t5_rows_and_save_masks_shows_both(sd3_model, tmp_path):
    from ast_core.generation.mask_files import save_masks

    layout = _goat_layout()
    _, plan = prepare(layout, GenerationSettings(width=128, height=128, seed=1), sd3_model)
    inp = plan.modulation_inputs()
    T = TINY_SD3.max_sequence_length
    assert inp.text_len == 77 + T
    for rows in inp.segment_spans:
        assert any(r < 77 for r in rows) and any(r >= 77 for r in rows)
    save_masks(plan, tmp_path)
    roles = json.loads((tmp_path / "token_roles.json").read_text())
    assert [p["name"] for p in roles["text_parts"]] == ["clip", "t5"]
    goat = roles["segments"][1]
    assert set(goat["parts"]) == {"clip", "t5"}
    assert goat["parts"]["clip"]["span_tokens"] == ["a</w>", "white</w>", "goat</w>"]
    assert goat["parts"]["t5"]["span_tokens"] == ["▁a", "▁white", "▁goat"]
    parts_by_row = {t["row"]: t for t in roles["text_tokens"]}
    white_clip, white_t5 = goat["text_rows"][1], goat["text_rows"][4]
    assert parts_by_row[white_clip]["part"] == "clip" and parts_by_row[white_t5]["part"] == "t5"
    assert {r["role"] for r in parts_by_row[white_clip]["roles"]} == {"attribute"}


def test_exported_tiny_sd3_loads_through_the_folder_path(sd3_model, tmp_path):
    from ast_core.cli import main

    folder = tmp_path / "tiny-sd3"
    assert main(["export-tiny-model", "--family", "sd3", str(folder)]) == 0
    loaded = load_model(str(folder), device="cpu", dtype="f32")
    assert loaded.family is TINY_SD3 and loaded.architecture.name == "sd3"
    layout = _goat_layout()
    s = GenerationSettings(width=64, height=64, steps=2, seed=3)
    a = generate(layout, None, s, loaded).images[0]
    b = generate(layout, None, s, sd3_model).images[0]
    assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("family_name, sizes", [
    ("FLUX.1-dev", [(1024, 1024), (512, 768), (2048, 2048)]),
    ("FLUX.1-schnell", [(1024, 1024)]),
    ("SD3.5 Large", [(1024, 1024)]),
    ("SD3.5 Medium", [(768, 1344)]),
])
@pytest.mark.parametrize("steps", [1, 4, 28])
def test_one_timestep_rule_matches_the_real_schedulers(family_name, sizes, steps):
    """The model-free rule (used by the studio) gives the pipelines' own timesteps."""
    import copy

    from diffusers import FlowMatchEulerDiscreteScheduler
    from diffusers.pipelines.flux.pipeline_flux import calculate_shift

    from ast_core.models import family

    fam = family(family_name)
    cfg = fam.scheduler
    sched = FlowMatchEulerDiscreteScheduler(
        shift=cfg.shift, use_dynamic_shifting=cfg.use_dynamic_shifting, base_shift=cfg.base_shift,
        max_shift=cfg.max_shift, base_image_seq_len=cfg.base_image_seq_len, max_image_seq_len=cfg.max_image_seq_len)
    for w, h in sizes:
        s = copy.deepcopy(sched)
        seq = (w // 16) * (h // 16)
        kwargs = {}
        if cfg.use_dynamic_shifting:
            kwargs["mu"] = calculate_shift(seq, cfg.base_image_seq_len, cfg.max_image_seq_len, cfg.base_shift,
                                           cfg.max_shift)
        if cfg.pipeline_sigmas:
            s.set_timesteps(sigmas=np.linspace(1.0, 1 / steps, steps), **kwargs)
        else:
            s.set_timesteps(steps, **kwargs)
        ours = fam.architecture.timesteps(fam, steps, w, h)
        assert ours == [float(t) for t in s.timesteps], (w, h)


def test_pipeline_timesteps_read_the_loaded_scheduler(sd3_model, tiny_model):
    for model in (sd3_model, tiny_model):
        assert pipeline_timesteps(model, 4, 128, 128) == model.architecture.timesteps(model.family, 4, 128, 128)


def test_no_module_outside_the_adapters_names_a_model_family():
    """Model families and architectures are named only in ast_core/models (code, not docs)."""
    import io
    import re
    import tokenize
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"flux|sd3|sd35|schnell|stable.?diffusion|taef1|taesd", re.IGNORECASE)
    offenders = []
    for package in ("ast_core", "ast_studio"):
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith("ast_core/models/"):
                continue
            tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
            for i, tok in enumerate(tokens):
                if tok.type == tokenize.NAME or (tok.type == tokenize.STRING and not _docstring(tokens, i)):
                    if pattern.search(tok.string):
                        offenders.append(f"{rel}:{tok.start[0]}: {tok.string[:60]}")
    assert not offenders, "\n".join(offenders)


def _docstring(tokens, i) -> bool:
    """A string token standing alone as a statement (a docstring or a bare string)."""
    import tokenize

    prev = next((t for t in reversed(tokens[:i]) if t.type not in (tokenize.NL, tokenize.COMMENT)), None)
    nxt = next((t for t in tokens[i + 1:] if t.type not in (tokenize.NL, tokenize.COMMENT)), None)
    starts = prev is None or prev.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    return starts and (nxt is None or nxt.type in (tokenize.NEWLINE, tokenize.ENDMARKER))
