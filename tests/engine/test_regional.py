"""Regional prompting: the kernel and every block kind against the page's rules in float64, the
two text streams, the method's properties, the registry, metadata and ``render --save-masks``."""
from __future__ import annotations

import json
import os
import threading
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from ast_core.attention.regional import RegionalAttention
from ast_core.attention.regional_kernel import (
    RegionalMask,
    RegionTokens,
    mask_picture,
    regional_attention,
    resolve_backend,
    tile_tables,
)
from ast_core.generate import Cancelled, GenerationSettings, generate, job_from_metadata
from ast_core.methods import MethodParameterError, method
from ast_core.methods.regional import regions_of
from ast_core.models import BASE, IMAGE, JOINT, SINGLE, architecture

from dense_regional import dense_attention, page_mask

FLUX, SD3 = architecture("flux"), architecture("sd3")
GRID = 6  # image tokens per side
HW = GRID * GRID
TEXT = 5  # text rows of the pipeline's (and each region's) text block


def instance_masks() -> list[torch.Tensor]:
    """Two overlapping instances (a 2 x 2 overlap) and an uncovered L-shaped remainder."""
    a = torch.zeros(GRID, GRID, dtype=torch.bool)
    b = torch.zeros(GRID, GRID, dtype=torch.bool)
    a[0:4, 0:3] = True
    b[2:5, 1:5] = True
    return [a.reshape(-1), b.reshape(-1)]


def region_tokens(instances, order: str, text_rows: int = TEXT) -> RegionTokens:
    covered = instances[0] | instances[1] if len(instances) > 1 else instances[0]
    masks = list(instances) + ([~covered] if bool((~covered).any()) else [])
    return RegionTokens(torch.stack(masks), text_rows, order)


# ---------------------------------------------------------------------------- kernel
@pytest.mark.parametrize("order", ["text_first", "image_first"])
def test_region_bits_give_exactly_the_page_mask(order):
    inst = instance_masks()
    tokens = region_tokens(inst, order)
    bits = tokens.joint_bits()
    ours = (bits[:, None] & bits[None, :]) != 0
    assert torch.equal(ours, page_mask(inst, TEXT, order))
    assert tokens.regions == 3 and tokens.text_len == 3 * TEXT
    # the overlap sees both instances' texts, uncovered tokens only the background's, nothing is negative
    image = tokens.image_bits()
    assert image[2 * GRID + 1] == 0b011 and image[5 * GRID] == 0b100 and bool((image > 0).all())
    picture = mask_picture(bits)
    assert np.array_equal(picture == 255, ours.numpy()) and set(np.unique(picture)) <= {0, 255}


def test_region_tokens_refuse_bad_input():
    with pytest.raises(ValueError, match="every image token needs a region"):
        RegionTokens(torch.stack(instance_masks()), TEXT)
    with pytest.raises(ValueError, match="1 to 63 regions"):
        RegionTokens(torch.ones(64, 4, dtype=torch.bool), TEXT)
    with pytest.raises(ValueError, match="backend must be one of auto, triton, flex, torch"):
        resolve_backend("cuda-graphs", "cpu")
    assert resolve_backend("auto", "cpu") == "torch" and resolve_backend("triton", "cpu") == "flex"


@pytest.mark.parametrize("order", ["text_first", "image_first"])
def test_kernel_backends_equal_the_dense_masked_softmax(order):
    """The torch path (classes of equal bits, gathered keys) and FlexAttention's mask_mod with our
    block mask (eager here: it checks the mask_mod; the tiles are checked below) equal the page
    mask's softmax in float64; the torch path also in float32 and with a batch of 2."""
    from torch.nn.attention.flex_attention import flex_attention

    inst = instance_masks()
    tokens = region_tokens(inst, order)
    mask = RegionalMask(tokens.joint_bits())
    ref_mask = page_mask(inst, TEXT, order)
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, mask.length, 3, 8, generator=g, dtype=torch.float64) for _ in range(3))
    ref = dense_attention(q, k, v, ref_mask)
    assert (regional_attention(q, k, v, mask, "torch") - ref).abs().max() < 1e-12
    out32 = regional_attention(q.float(), k.float(), v.float(), mask, "torch")
    assert out32.dtype == torch.float32 and (out32.double() - ref).abs().max() < 1e-5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flex = flex_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                              block_mask=mask.block_mask()).transpose(1, 2)
    assert (flex - ref).abs().max() < 1e-12


@pytest.mark.parametrize("tile", [4, 7, 128])
def test_tiles_and_block_mask_are_exact(tile):
    """Partial / full tiles from the bit patterns equal the tiled dense mask; the incomplete last
    tile stays partial for FlexAttention; the BlockMask lists exactly those tiles."""
    inst = instance_masks()
    bits = region_tokens(inst, "text_first").joint_bits()
    dense = (bits[:, None] & bits[None, :]) != 0
    n = bits.numel()
    tiles = -(-n // tile)
    padded = torch.zeros(tiles * tile, tiles * tile, dtype=torch.bool)
    padded[:n, :n] = dense
    real = torch.zeros_like(padded)
    real[:n, :n] = True
    blocks = padded.reshape(tiles, tile, tiles, tile).permute(0, 2, 1, 3).reshape(tiles, tiles, -1)
    reals = real.reshape(tiles, tile, tiles, tile).permute(0, 2, 1, 3).reshape(tiles, tiles, -1)
    some = blocks.any(-1)
    every = (blocks | ~reals).all(-1) & some
    partial, full = tile_tables(bits, tile, open_last=False)
    assert torch.equal(full, every) and torch.equal(partial, some & ~every)
    partial, full = tile_tables(bits, tile)
    assert torch.equal(partial | full, some)
    if n % tile:
        assert not full[-1].any() and not full[:, -1].any()
    if tile == 128:
        block_mask = RegionalMask(bits).block_mask()
        assert torch.equal(block_mask.to_dense()[0, 0].bool(), some)


@pytest.mark.skipif(os.environ.get("AST_TEST_FLEX_COMPILE") != "1",
                    reason="compiles FlexAttention (~30 s on a CPU); set AST_TEST_FLEX_COMPILE=1")
def test_compiled_flex_uses_the_block_mask_exactly():
    """Compiled, FlexAttention skips the tiles the block mask leaves out: a wrong block mask
    would give wrong rows. 300 tokens: three 128-token tiles, the last incomplete."""
    g = torch.Generator().manual_seed(1)
    masks = torch.zeros(4, 260, dtype=torch.bool)
    masks[0, :100] = masks[1, 80:200] = masks[2, 190:] = True
    masks[3] = ~masks[:3].any(0)
    tokens = RegionTokens(masks, 10)
    mask = RegionalMask(tokens.joint_bits())
    q, k, v = (torch.randn(1, mask.length, 2, 16, generator=g) for _ in range(3))
    ref = dense_attention(q, k, v, (mask.bits[:, None] & mask.bits[None, :]) != 0)
    out = regional_attention(q, k, v, mask, "flex")
    assert (out.double() - ref).abs().max() < 1e-5


# ---------------------------------------------------------------------------- tiny transformers
def small_flux():
    from diffusers import FluxTransformer2DModel

    torch.manual_seed(11)
    return FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=3, num_single_layers=4, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, guidance_embeds=False,
        axes_dims_rope=(4, 6, 6),
    ).eval()


def flux_inputs(text: torch.Tensor | None = None, seed: int = 3) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.zeros(GRID, GRID, 3)
    ids[..., 1] = torch.arange(GRID)[:, None]
    ids[..., 2] = torch.arange(GRID)[None, :]
    text = torch.randn(1, TEXT, 32, generator=g) if text is None else text
    return dict(hidden_states=torch.randn(1, HW, 16, generator=g), encoder_hidden_states=text,
                pooled_projections=torch.randn(1, 32, generator=g), img_ids=ids.reshape(-1, 3),
                txt_ids=torch.zeros(text.shape[1], 3), timestep=torch.tensor([0.8]), return_dict=False)


def small_sd3():
    from diffusers import SD3Transformer2DModel

    torch.manual_seed(12)
    return SD3Transformer2DModel(
        sample_size=32, patch_size=2, in_channels=16, num_layers=4, attention_head_dim=16, num_attention_heads=2,
        joint_attention_dim=64, caption_projection_dim=32, pooled_projection_dim=64, out_channels=16,
        pos_embed_max_size=64, dual_attention_layers=(0, 1, 2), qk_norm="rms_norm",
    ).eval()


def sd3_inputs(batch: int = 2, text: torch.Tensor | None = None, seed: int = 4) -> dict:
    g = torch.Generator().manual_seed(seed)
    text = torch.randn(batch, TEXT, 64, generator=g) if text is None else text
    return dict(hidden_states=torch.randn(batch, 16, 2 * GRID, 2 * GRID, generator=g), encoder_hidden_states=text,
                pooled_projections=torch.randn(batch, 64, generator=g), timestep=torch.full((batch,), 800.0),
                return_dict=False)


def regional(model, arch, tokens, text, **kw) -> RegionalAttention:
    args = dict(steps=2, inject_steps=1, double_interval=1, single_interval=1, base_ratio=0.3,
                structure=arch.structure_of(model), backend="torch")
    args.update(kw)
    return RegionalAttention(tokens, text, **args)


def dense_checker(tokens: RegionTokens, instances, ratio: float):
    """A probe comparing every main-pass output with the page's rules in float64: masked or
    unmasked attention over the main stream, image rows blended with the base pass's."""
    joint = page_mask(instances, tokens.text_rows, tokens.order)
    image = page_mask(instances, tokens.text_rows)[tokens.text_len:, tokens.text_len:]
    base: dict[int, tuple] = {}
    seen: set = set()
    worst = [0.0]

    def probe(layer, step, q, k, v, out, masked):
        if layer.stream == BASE:
            base[layer.index] = (q, k, v)
            return
        bq, bk, bv = base.pop(layer.index)
        image_only = layer.kind == IMAGE
        seen.add((layer.kind, layer.layer, masked))
        ref = dense_attention(q, k, v, (image if image_only else joint) if masked else None)
        bref = dense_attention(bq, bk, bv)
        rows = slice(None) if image_only else tokens.image_rows(ref.shape[1])
        brows = slice(None) if image_only else tokens.image_rows(bref.shape[1])
        ref[:, rows] = (1 - ratio) * ref[:, rows] + ratio * bref[:, brows]
        worst[0] = max(worst[0], float((out.double() - ref).norm() / ref.norm()))
        if not image_only:  # how far the base pass's image queries are from the main pass's
            seen.add((layer.kind, layer.layer, "image query gap", float((q[:, rows] - bq[:, brows]).abs().max())))

    return probe, seen, worst


def test_every_flux_block_kind_equals_the_dense_rules():
    """Double and single blocks, masked (index % interval == 0) and unmasked, overlaps and the
    uncovered area: main pass = the page's mask (or none) blended with the base pass, 1e-5."""
    model = small_flux()
    inst = instance_masks()
    tokens = region_tokens(inst, FLUX.order)
    text = torch.randn(1, tokens.text_len, 32, generator=torch.Generator().manual_seed(9))
    probe, seen, worst = dense_checker(tokens, inst, 0.3)
    ctrl = regional(model, FLUX, tokens, text, double_interval=2, single_interval=2, probe=probe)
    with ctrl.installed(FLUX, model), torch.inference_mode():
        model(**flux_inputs())
    calls = {s[:3] for s in seen if len(s) == 3}
    assert calls == {(JOINT, 0, True), (JOINT, 1, False), (JOINT, 2, True),
                     (SINGLE, 3, True), (SINGLE, 4, False), (SINGLE, 5, True), (SINGLE, 6, False)}
    assert ctrl.calls == {"base": 7, "masked": 4, "unmasked": 3}
    assert worst[0] < 1e-5, worst
    # the base pass reads the main stream's image tokens in double blocks and from them starts
    # image tokens of its own at the first single block, which then go their own way
    gap = {s[1]: s[3] for s in seen if len(s) == 4}
    assert max(gap[l] for l in (0, 1, 2, 3)) < 1e-5 and min(gap[l] for l in (4, 5, 6)) > 1e-3, gap


def test_every_sd3_block_kind_equals_the_dense_rules_and_the_negative_half_is_stock():
    """Joint blocks and the image-only attn2 (image -> image part of the mask where its block is
    masked), image first, positive half only; the negative half is the stock model bit for bit."""
    model = small_sd3()
    inst = instance_masks()
    tokens = region_tokens(inst, SD3.order)
    text = torch.randn(1, tokens.text_len, 64, generator=torch.Generator().manual_seed(9))
    probe, seen, worst = dense_checker(tokens, inst, 0.25)
    ctrl = regional(model, SD3, tokens, text, double_interval=2, base_ratio=0.25, guidance_batch=True,
                    probe=probe)
    args = sd3_inputs()
    negative = {k: (v[:1] if isinstance(v, torch.Tensor) else v) for k, v in args.items()}
    with torch.inference_mode():
        stock_negative = model(**negative)[0]
        with ctrl.installed(SD3, model):
            ours = model(**args)[0]
    calls = {s[:3] for s in seen if len(s) == 3}
    assert calls == {(JOINT, 0, True), (IMAGE, 0, True), (JOINT, 1, False), (IMAGE, 1, False),
                     (JOINT, 2, True), (IMAGE, 2, True), (JOINT, 3, False)}
    assert max(s[3] for s in seen if len(s) == 4) < 1e-5  # one shared image stream
    assert worst[0] < 1e-5, worst
    assert torch.equal(ours[:1], stock_negative)
    assert all(type(p).__name__ == "JointAttnProcessor2_0" for p in model.attn_processors.values())
    assert not model._forward_pre_hooks and not any(b._forward_pre_hooks for b in model.transformer_blocks)


def test_region_text_never_receives_attention_from_another_regions_image_tokens():
    """Read through a probe on every masked call of a real forward: changing region r's text keys
    and values changes nothing for image tokens outside r (torch path and FlexAttention's
    mask_mod), and does change the tokens inside r (the check can fail)."""
    from torch.nn.attention.flex_attention import flex_attention

    model = small_flux()
    inst = instance_masks()
    tokens = region_tokens(inst, FLUX.order)
    mask = RegionalMask(tokens.joint_bits())
    g = torch.Generator().manual_seed(5)
    checked = []

    def flex(q, k, v):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return flex_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                  block_mask=mask.block_mask()).transpose(1, 2)

    def probe(layer, step, q, k, v, out, masked):
        if layer.stream == BASE or not masked:
            return
        image = tokens.image_rows(q.shape[1])
        for r in range(tokens.regions):
            rows = slice(r * TEXT, (r + 1) * TEXT)
            k2, v2 = k.clone(), v.clone()
            k2[:, rows] = torch.randn(k2[:, rows].shape, generator=g) * 5
            v2[:, rows] = torch.randn(v2[:, rows].shape, generator=g) * 5
            outside = ~tokens.masks[r]
            for attend in (lambda *t: regional_attention(*t, mask, "torch"), flex):
                before, after = attend(q, k, v)[:, image], attend(q, k2, v2)[:, image]
                assert torch.equal(before[:, outside], after[:, outside])
                assert not torch.allclose(before[:, ~outside], after[:, ~outside])
            checked.append((layer.index, r))

    ctrl = regional(model, FLUX, tokens, torch.randn(1, tokens.text_len, 32, generator=g), probe=probe)
    with ctrl.installed(FLUX, model), torch.inference_mode():
        model(**flux_inputs())
    assert len(checked) == 7 * tokens.regions


def _stock(model, **args):
    with torch.inference_mode():
        return model(**args)[0]


@pytest.mark.parametrize("arch_name", ["flux", "sd3"])
def test_two_streams_end_to_end(arch_name):
    """Whole transformer calls: (a) one region covering every token, ratio 0: the stock model on
    that region's text; (b) ratio 1: the stock model on the base text (the base stream carries
    it through every block, its own image tokens in single blocks); (c) after the inject steps:
    the stock model, bit for bit. SD3 runs a guidance batch (negative half stock)."""
    arch = FLUX if arch_name == "flux" else SD3
    model = small_flux() if arch_name == "flux" else small_sd3()
    width = 32 if arch_name == "flux" else 64
    g = torch.Generator().manual_seed(21)
    base_text = torch.randn(1, TEXT, width, generator=g)
    region_text = torch.randn(1, TEXT, width, generator=g)

    def call(text):
        if arch_name == "flux":
            return flux_inputs(text)
        return sd3_inputs(2, torch.cat([torch.zeros_like(text), text]))

    whole = RegionTokens(torch.ones(1, HW, dtype=torch.bool), TEXT, arch.order)
    ctrl = regional(model, arch, whole, region_text, base_ratio=0.0, guidance_batch=arch_name == "sd3")
    with ctrl.installed(arch, model):
        ours = _stock(model, **call(base_text))
    assert (ours - _stock(model, **call(region_text))).abs().max() < 1e-5

    inst = instance_masks()
    tokens = region_tokens(inst, arch.order)
    texts = torch.randn(1, tokens.text_len, width, generator=g)
    stock = _stock(model, **call(base_text))
    ctrl = regional(model, arch, tokens, texts, base_ratio=1.0, guidance_batch=arch_name == "sd3")
    with ctrl.installed(arch, model):
        ratio_one = _stock(model, **call(base_text))
        ctrl.set_step(1)  # after the inject steps
        after = _stock(model, **call(base_text))
    assert (ratio_one - stock).abs().max() < 1e-5
    assert torch.equal(after, stock)
    ctrl = regional(model, arch, tokens, texts, base_ratio=0.2, guidance_batch=arch_name == "sd3")
    with ctrl.installed(arch, model):
        assert (_stock(model, **call(base_text)) - stock).abs().max() > 1e-3


# ---------------------------------------------------------------------------- method, registry, files
def test_registry_gives_the_studio_typed_parameters():
    m = method("regional")
    assert m.needs_text_in_base_prompt is False and m.needs_text() is False and not m.uses_schedule
    by_name = {p.name: p for p in m.parameters}
    assert m.default_parameters() == {"inject_steps": 10, "double_interval": 1, "single_interval": 2,
                                      "base_ratio": 0.2}
    assert by_name["base_ratio"].kind == "float" and (by_name["base_ratio"].minimum,
                                                      by_name["base_ratio"].maximum) == (0.0, 1.0)
    assert all(p.label and p.help and p.kind in ("int", "float") for p in m.parameters)
    assert m.check_parameters({"inject_steps": 4.0}) == {**m.default_parameters(), "inject_steps": 4}
    with pytest.raises(MethodParameterError, match="regional.base_ratio must be between 0 and 1"):
        m.check_parameters({"base_ratio": 1.5})
    with pytest.raises(MethodParameterError, match="unknown parameter"):
        m.check_parameters({"ratio": 0.1})


def _overlap_layout(background: str = "a sunny beach"):
    from shapely.geometry import box

    from ast_core.document import Instance, Layout

    return Layout(64, 64, "a goat and a car on a beach", background, [
        Instance(name="Goat", prompt="a white goat", geometry=box(0, 0, 40, 48)),
        Instance(name="Car", prompt="a red car", geometry=box(24, 16, 64, 64)),
        Instance(name="Speck", prompt="a speck", geometry=box(60, 0, 64, 4)),
    ])


def test_regions_use_raw_coverage_and_the_uncovered_background(tiny_model):
    from ast_core.generate import prepare
    from ast_core.prompts import PromptError

    layout = _overlap_layout()
    _, plan = prepare(layout, GenerationSettings(method="regional", seed=1), tiny_model)
    regions, notes = regions_of(layout, plan)
    assert [r.name for r in regions] == ["Goat", "Car", "background"]
    goat, car, bg = (r.mask.reshape(4, 4) for r in regions)
    assert bool((goat & car).any()), "overlapping instances share tokens"
    assert torch.equal(bg, ~(goat | car)) and regions[2].prompt == "a sunny beach"
    assert any("'Speck' covers no token" in n for n in notes)
    regions, notes = regions_of(_overlap_layout(background=""), plan)
    assert regions[-1].prompt == "a goat and a car on a beach" and any("background prompt is empty" in n for n in notes)
    layout.instances[0].prompt = " "
    with pytest.raises(PromptError, match="instance 'Goat' has no prompt"):
        regions_of(layout, plan)


@pytest.mark.parametrize("model_name", ["tiny_model", "tiny_sd3_model"])
def test_inject_zero_is_none_bit_for_bit_and_ratio_one_within_rounding(model_name, request):
    model = request.getfixturevalue(model_name)
    layout = _overlap_layout()
    base = dict(width=64, height=64, steps=2, seed=3)
    latents: dict[str, torch.Tensor] = {}

    def render(name, method_name, **params):
        steps = []
        out = generate(layout, None, GenerationSettings(**base, method=method_name, method_parameters=params), model,
                       on_step=steps.append)
        latents[name] = steps[-1].latents
        return out

    none = render("none", "none")
    zero = render("zero", "regional", inject_steps=0)
    render("one", "regional", base_ratio=1.0)
    default = render("default", "regional")
    assert np.array_equal(np.asarray(zero.images[0]), np.asarray(none.images[0]))
    assert torch.equal(latents["zero"], latents["none"])
    assert (latents["one"] - latents["none"]).abs().max() < 1e-4
    assert (latents["default"] - latents["none"]).abs().max() > 1e-3
    md = default.metadata
    assert md["method_used"] == "regional" and md["settings"]["method_parameters"]["base_ratio"] == 0.2
    assert [r["name"] for r in md["regions"]] == ["Goat", "Car", "background"]
    assert any("'Speck' covers no token" in w for w in default.warnings)
    _, _, again = job_from_metadata(md)
    assert again.method == "regional" and again.method_parameters == md["settings"]["method_parameters"]
    stop = threading.Event()
    with pytest.raises(Cancelled):  # inside the pipeline call, during an inject step
        generate(layout, None, GenerationSettings(**base, method="regional"), model,
                 on_step=lambda _: stop.set(), cancel=stop)
    transformer = model.transformer
    assert not transformer._forward_pre_hooks and not transformer._forward_hooks
    assert not any(m._forward_pre_hooks for m in transformer.modules())
    assert all(type(p).__name__ in ("FluxAttnProcessor", "JointAttnProcessor2_0")
               for p in transformer.attn_processors.values())


def test_render_regional_records_parameters_and_saves_the_masks(tmp_path, seed_layout, capsys):
    from ast_core.cli import main
    from ast_core.provenance import read_metadata
    from ast_core.project import Project, save_project

    project = tmp_path / "beach.astproj"
    save_project(Project(seed_layout("beach"), settings={"generation": {"seed": 2, "steps": 2}}), project)
    out, masks = tmp_path / "r.png", tmp_path / "masks"
    assert main(["render", str(project), "-o", str(out), "--model", "tiny-flux", "--size", "128x128",
                 "--method", "regional", "--param", "inject_steps=1", "--param", "base_ratio=0.35",
                 "--save-masks", str(masks)]) == 0
    assert "method regional" in capsys.readouterr().out
    md = read_metadata(out)
    assert md["settings"]["method_parameters"] == {"inject_steps": 1, "double_interval": 1, "single_interval": 2,
                                                   "base_ratio": 0.35}
    doc = json.loads((masks / "regions.json").read_text())
    assert doc["parameters"] == md["settings"]["method_parameters"]
    assert [r["name"] for r in doc["regions"]] == [r["name"] for r in md["regions"]]
    grids = [np.asarray(Image.open(masks / r["mask_file"])) > 0 for r in doc["regions"]]
    rows = doc["sequence"]["text_rows_per_region"]
    assert rows == 128 and doc["sequence"]["order"] == "text_first"
    instances = [torch.from_numpy(m.reshape(-1)) for m in grids[:-1]]
    assert doc["regions"][-1]["instance_id"] is None
    assert np.array_equal(grids[-1], ~np.any(grids[:-1], axis=0))
    picture = np.asarray(Image.open(masks / "regional-mask.png"))
    assert doc["pictures"]["regional-mask.png"]["tokens_per_pixel"] == 1
    assert np.array_equal(picture == 255, page_mask(instances, rows).numpy())
    image_picture = np.asarray(Image.open(masks / "regional-image-mask.png"))
    assert np.array_equal(image_picture == 255, page_mask(instances, rows)[-64:, -64:].numpy())

    for bad, message in ((["--param", "inject=1"], "has no parameter 'inject'"),
                         (["--param", "base_ratio=lots"], "--param base_ratio: must be a number"),
                         (["--param", "base_ratio=2"], "regional.base_ratio must be between 0 and 1")):
        assert main(["render", str(project), "-o", str(tmp_path / "x.png"), "--model", "tiny-flux",
                     "--method", "regional", *bad]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


def test_nothing_is_cached_across_runs(tiny_model):
    """The public code keeps the first run's mask; here a run after another layout's equals a
    first run bit for bit (masks and text are prepared per run)."""
    from shapely.geometry import box

    other = _overlap_layout()
    other.instances[0].geometry = box(0, 0, 64, 16)
    other.instances[1].prompt = "a blue bicycle"
    s = GenerationSettings(width=64, height=64, steps=2, seed=8, method="regional")
    first = generate(_overlap_layout(), None, s, tiny_model)
    between = generate(other, None, s, tiny_model)
    again = generate(_overlap_layout(), None, s, tiny_model)
    assert np.array_equal(np.asarray(first.images[0]), np.asarray(again.images[0]))
    assert not np.array_equal(np.asarray(first.images[0]), np.asarray(between.images[0]))
