"""Peak GPU memory of a FLUX.1-dev-shaped model per memory option, rendering 1024x1024 under AST.

The model has FLUX.1-dev's shapes with random weights: the 11.9 B transformer (19 double + 38
single blocks, width 3072, guidance embedder), T5-XXL's encoder (4.7 B: 24 layers, d_model
4096, d_ff 10240), CLIP-L and FLUX's 16-channel VAE; tokenizers are the built-in tiny model's
(the token ids stay inside T5's and CLIP's vocabularies). Nothing is read from disk and
nothing downloaded. Each option is assembled and readied by the engine's own code
(``Architecture.transformer_from_file`` with diffusers' quantisation configs,
``loading.ready_model`` for fp8 storage and offload hooks) and renders one AST-controlled
step of the beach-like layout below at 1024x1024 with ``ast_core.generate.generate``
(T5/CLIP encoding, one transformer step with the paper's schedule, VAE decode).

Per option, in one run: weights resident on the GPU after loading, peak allocated and peak
reserved during the render (``torch.cuda.max_memory_*`` reset after loading), the render's
wall time, and the error's first line when an option fails (each option runs in try/except;
CUDA memory is freed between options). Options that need a CUDA GPU or a missing package are
reported as skipped with the engine's one-line reason.

Random weights are shared per tensor shape in CPU memory (one source tensor per shape): the
CPU side stays small, the GPU copies are real. GGUF Q4_0 weights are quantised with the
``gguf`` package (one quantised block of rows per shape, repeated), in the original BFL key
layout, and go through the same converter and GGUF loader as city96's files.

On a machine without CUDA it runs a small FLUX-shaped model (2 + 4 blocks of width 256, a
small T5) at 128x128 and reports parameter bytes instead of GPU memory: a check that every
option works end to end, not a measurement.

    python benchmarks/gpu_memory_bench.py [--only NAME,NAME] [--size 1024] [--steps 1] [--budget 540]

Needs torch, transformers, accelerate, safetensors, diffusers, shapely, numpy, Pillow; gguf for
the GGUF rows, bitsandbytes (CUDA) for the NF4 rows.
"""
from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ast_core.models.options import ModelOptions  # noqa: E402

GiB = 1024 ** 3


@dataclass(frozen=True)
class Option:
    name: str
    options: ModelOptions
    transformer: str = "bf16"  # bf16 | nf4 | gguf-q4 (how the transformer is loaded)
    note: str = ""


def options() -> list[Option]:
    def o(**kw) -> ModelOptions:
        return ModelOptions(**{"source": "benchmark", **kw})

    return [
        Option("bf16", o()),
        Option("bf16 + model offload", o(offload="model")),
        Option("bf16 + group offload", o(offload="group")),
        Option("bf16 + sequential offload", o(offload="sequential")),
        Option("fp8 + T5 fp8", o(quantize="fp8", text_encoder_quantize="fp8")),
        Option("fp8 + T5 fp8 + model offload", o(quantize="fp8", text_encoder_quantize="fp8", offload="model")),
        Option("NF4 + T5 fp8", o(quantize="nf4", text_encoder_quantize="fp8"), "nf4"),
        Option("NF4 + T5 fp8 + model offload", o(quantize="nf4", text_encoder_quantize="fp8", offload="model"), "nf4",
               "target: < 12 GB"),
        Option("GGUF Q4_0 + T5 fp8", o(source="benchmark.gguf", text_encoder_quantize="fp8"), "gguf-q4"),
        Option("GGUF Q4_0 + T5 fp8 + model offload",
               o(source="benchmark.gguf", text_encoder_quantize="fp8", offload="model"), "gguf-q4", "target: < 12 GB"),
    ]


# ---------------------------------------------------------------------- random FLUX-shaped parts
@dataclass(frozen=True)
class Shapes:
    width_heads: int  # attention heads (head dim 128)
    layers: int
    single_layers: int
    t5_d_model: int
    t5_d_ff: int
    t5_layers: int
    t5_heads: int
    clip_hidden: int
    clip_layers: int
    vae_channels: tuple[int, ...]


FULL = Shapes(24, 19, 38, 4096, 10240, 24, 64, 768, 12, (128, 256, 512, 512))
SMALL = Shapes(2, 2, 4, 256, 512, 2, 4, 64, 2, (32, 32, 64, 64))


class RandomSource:
    """One random tensor per shape (in one dtype), reused for every parameter of that shape."""

    _shared: dict[torch.dtype, "RandomSource"] = {}

    def __init__(self, dtype: torch.dtype, seed: int = 0):
        self.dtype, self.cache = dtype, {}
        self.gen = torch.Generator().manual_seed(seed)

    @classmethod
    def of(cls, dtype: torch.dtype) -> "RandomSource":
        """The process-wide source for ``dtype`` (options reuse it: random data is made once)."""
        if dtype not in cls._shared:
            cls._shared[dtype] = cls(dtype)
        return cls._shared[dtype]

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        key = tuple(shape)
        if key not in self.cache:
            std = 0.02 if len(key) > 1 else 0.0
            t = torch.randn(key, generator=self.gen, dtype=torch.float32) * std
            self.cache[key] = (t + (1.0 if len(key) == 1 else 0.0)).to(self.dtype)  # norms ~1, biases ~1 (harmless)
        return self.cache[key]


def fill_random(module: torch.nn.Module, source: RandomSource) -> torch.nn.Module:
    """Materialise a meta-built module on the CPU from the shared random tensors (no init cost)."""
    module.to_empty(device="cpu")
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(source(tuple(p.shape)).to(p.dtype))
        for name, b in module.named_buffers():
            if name.endswith("position_ids"):  # CLIP's token positions
                b.copy_(torch.arange(b.shape[-1]).expand_as(b))
            else:
                b.zero_()
    return module


def transformer_config(s: Shapes) -> dict:
    return dict(patch_size=1, in_channels=64, num_layers=s.layers, num_single_layers=s.single_layers,
                attention_head_dim=128, num_attention_heads=s.width_heads, joint_attention_dim=s.t5_d_model,
                pooled_projection_dim=s.clip_hidden, guidance_embeds=True, axes_dims_rope=(16, 56, 56))


def transformer_state(s: Shapes, source: RandomSource) -> dict:
    """Diffusers-layout state dict of shared random tensors (what from_single_file takes as a dict)."""
    from diffusers import FluxTransformer2DModel

    with torch.device("meta"):
        meta = FluxTransformer2DModel(**transformer_config(s))
    return {k: source(tuple(v.shape)) for k, v in meta.state_dict().items()}


def gguf_state(s: Shapes, type_name: str = "Q4_0") -> dict:
    """BFL-layout GGUF tensors (as city96's files hold them): 2-D weights quantised, the rest float32."""
    import numpy as np
    from diffusers.quantizers.gguf.utils import GGUFParameter

    from ast_core.models import flux_single_file
    from ast_core.models.gguf_files import quantisable, quantise

    meta = transformer_state(s, lambda shape: torch.empty(shape, device="meta"))
    original = flux_single_file.from_diffusers(meta)
    blocks: dict[int, tuple] = {}
    out = {}
    rng = np.random.default_rng(0)
    for name, t in original.items():
        shape = tuple(t.shape)
        if quantisable(shape, type_name):
            rows, cols = shape
            if cols not in blocks:
                data, qtype = quantise((rng.standard_normal((256, cols)) * 0.02).astype(np.float32), type_name)
                blocks[cols] = (torch.from_numpy(data), qtype)
            data, qtype = blocks[cols]
            reps = -(-rows // data.shape[0])
            out[name] = GGUFParameter(data.repeat(reps, 1)[:rows].contiguous(), quant_type=qtype)
        else:
            out[name] = (torch.ones(shape) if len(shape) == 1 else torch.randn(shape) * 0.02).float()
    return out


def build_pipeline(s: Shapes, option: Option, dev: torch.device, dt: torch.dtype, config_root: Path):
    """A FluxPipeline of random FLUX.1-dev-shaped parts, in ``dt`` on the CPU, assembled as the engine does."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    from ast_core.models import architecture
    from ast_core.models.parts import bitsandbytes_transformer
    from ast_core.models.quantisation import gguf_config
    from ast_core.models.tiny_tokenizers import build_clip_tokenizer, build_t5_tokenizer

    arch = architecture("flux")
    source = RandomSource.of(dt)
    with torch.device("meta"):
        FluxTransformer2DModel(**transformer_config(s)).save_config(str(config_root / "transformer"))
    if option.transformer == "gguf-q4":
        transformer = arch.transformer_from_file(gguf_state(s), str(config_root), dt, gguf_config(dt))
    else:
        state = transformer_state(s, source)
        if option.transformer == "nf4":  # written to disk on the way: weights of their own, as a real file has
            state = {k: v.clone() for k, v in state.items()}
        transformer = arch.transformer_from_file(state, str(config_root), dt)
        if option.transformer == "nf4":  # as loading does with a plain file: bitsandbytes quantises on the GPU
            transformer = bitsandbytes_transformer(arch, transformer, option.options.quantize, dt)
    t5_tok, clip_tok = build_t5_tokenizer(512), build_clip_tokenizer()
    with torch.device("meta"):
        t5 = T5EncoderModel(T5Config(vocab_size=32128, d_model=s.t5_d_model, d_kv=64, d_ff=s.t5_d_ff,
                                     num_layers=s.t5_layers, num_heads=s.t5_heads, feed_forward_proj="gated-gelu",
                                     is_encoder_decoder=False, pad_token_id=0, eos_token_id=1))
        clip = CLIPTextModel(CLIPTextConfig(vocab_size=49408, hidden_size=s.clip_hidden, intermediate_size=4 * s.clip_hidden,
                                            num_hidden_layers=s.clip_layers, num_attention_heads=max(1, s.clip_hidden // 64),
                                            max_position_embeddings=77, projection_dim=s.clip_hidden,
                                            bos_token_id=clip_tok.bos_token_id, eos_token_id=clip_tok.eos_token_id,
                                            pad_token_id=clip_tok.pad_token_id))
        vae = AutoencoderKL(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
                            up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=s.vae_channels,
                            layers_per_block=2, latent_channels=16, norm_num_groups=32, sample_size=1024,
                            scaling_factor=0.3611, shift_factor=0.1159, use_quant_conv=False,
                            use_post_quant_conv=False, mid_block_add_attention=True)
    # in the compute dtype, as from_pretrained(torch_dtype=...) loads them (cast on the meta device: free)
    t5, clip, vae = (fill_random(m.to(dt), source).eval().requires_grad_(False) for m in (t5, clip, vae))
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
                                                base_image_seq_len=256, max_image_seq_len=4096)
    return FluxPipeline(scheduler=scheduler, vae=vae, text_encoder=clip, tokenizer=clip_tok, text_encoder_2=t5,
                        tokenizer_2=t5_tok, transformer=transformer)


def layout(size: int):
    from shapely.geometry import box

    from ast_core.document import Instance, Layout

    u = size / 8
    return Layout(size, size, "a white goat and a green beach chair under a red umbrella on a sunny beach",
                  "a sunny beach", [
                      Instance(name="Goat", prompt="a white goat", geometry=box(0.5 * u, 4 * u, 3.5 * u, 7.5 * u)),
                      Instance(name="Chair", prompt="a green beach chair", geometry=box(4 * u, 4.5 * u, 7.5 * u, 7.5 * u)),
                      Instance(name="Umbrella", prompt="a red umbrella", geometry=box(3 * u, 0.5 * u, 7 * u, 4 * u)),
                  ])


# ---------------------------------------------------------------------- one option
def run_option(option: Option, s: Shapes, dev: torch.device, dt: torch.dtype, size: int, steps: int) -> dict:
    from ast_core.generate import GenerationSettings, generate
    from ast_core.models import family
    from ast_core.models.loading import ready_model
    from ast_core.models.quantisation import QuantisationError, check, require_gguf

    try:
        check(option.options.quantize, dev, "quantize")
        check(option.options.text_encoder_quantize, dev, "text_encoder_quantize")
        if option.transformer == "gguf-q4":
            require_gguf()
    except QuantisationError as e:
        return {"skipped": str(e)}
    cuda = dev.type == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        pipe = build_pipeline(s, option, dev, dt, Path(tmp))
        model = ready_model(pipe, family("FLUX.1-dev"), option.options, dev, dt, source=option.name)
    load_s = time.perf_counter() - t0
    row = {"load_s": load_s}
    if cuda:
        torch.cuda.synchronize()
        row["resident"] = torch.cuda.memory_allocated() / GiB
        row["load_peak"] = torch.cuda.max_memory_allocated() / GiB
        torch.cuda.reset_peak_memory_stats()
    else:
        row["params"] = sum(p.numel() * p.element_size() for p in model.pipeline.transformer.parameters()) / GiB
    t0 = time.perf_counter()
    result = generate(layout(size), None, GenerationSettings(width=size, height=size, steps=steps, seed=1), model)
    if cuda:
        torch.cuda.synchronize()
        row["peak"] = torch.cuda.max_memory_allocated() / GiB
        row["reserved"] = torch.cuda.max_memory_reserved() / GiB
    row["render_s"] = time.perf_counter() - t0
    row["method"] = result.metadata["method_used"]
    import numpy as np

    row["blank"] = float(np.asarray(result.images[0]).std()) == 0.0  # NaNs decode to a constant image
    del model, pipe, result
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated option names (default: all)")
    parser.add_argument("--size", type=int, default=None, help="image side (default 1024 on CUDA, 128 on CPU)")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--budget", type=float, default=540.0, help="seconds; options left when it runs out are skipped")
    args = parser.parse_args(argv)

    from ast_core.cli.quiet import quiet_libraries

    quiet_libraries()
    cuda = torch.cuda.is_available()
    dev = torch.device("cuda" if cuda else "cpu")
    dt = torch.bfloat16 if cuda else torch.float32
    s = FULL if cuda else SMALL
    size = args.size or (1024 if cuda else 128)
    by_name = {o.name: o for o in options()}
    names = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else list(by_name)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        parser.error(f"--only: unknown option(s) {unknown}; known: {list(by_name)}")
    wanted = [by_name[n] for n in names]  # in the order asked
    started = time.perf_counter()
    name = torch.cuda.get_device_name(0) if cuda else "CPU (small FLUX-shaped model: a check, not a measurement)"
    print(f"# GPU memory per option: {name}; torch {torch.__version__}; {size}x{size}, {args.steps} AST step(s), "
          f"{'FLUX.1-dev shapes' if cuda else 'small shapes'}, {str(dt).replace('torch.', '')} compute", flush=True)
    rows = []
    for option in wanted:
        if time.perf_counter() - started > args.budget:
            rows.append((option, {"skipped": f"time budget of {args.budget:.0f} s used up"}))
            continue
        try:
            row = run_option(option, s, dev, dt, size, args.steps)
        except Exception as e:  # noqa: BLE001 - one failing option must not stop the table
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
            row = {"error": f"{type(e).__name__}: {first}"}
            traceback.print_exc(limit=3, file=sys.stderr)
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
        rows.append((option, row))
        print(f"  {option.name}: {row}", flush=True)
    print()
    if cuda:
        print("| option | weights on GPU after load (GiB) | render peak allocated (GiB) | peak reserved (GiB) "
              "| load (s) | render (s) | note |")
        print("|---|---|---|---|---|---|---|")
    else:
        print("| option | transformer parameter bytes (GiB) | load (s) | render (s) | note |")
        print("|---|---|---|---|---|")
    for option, row in rows:
        if "skipped" in row or "error" in row:
            print(f"| {option.name} | {row.get('skipped') or row.get('error')} |")
            continue
        note = option.note + (" (blank image: NaNs?)" if row.get("blank") else "")
        if cuda:
            print(f"| {option.name} | {row['resident']:.2f} | {row['peak']:.2f} | {row['reserved']:.2f} | "
                  f"{row['load_s']:.1f} | {row['render_s']:.1f} | {note} |")
        else:
            print(f"| {option.name} | {row['params']:.3f} | {row['load_s']:.1f} | {row['render_s']:.1f} | {note} |")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
