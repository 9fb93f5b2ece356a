"""The built-in ``tiny-flux`` model: a real diffusers FluxPipeline with tiny random weights.

Same structure as FLUX.1-dev (19 double + 38 single transformer blocks, joint text+image
attention, guidance embedding, 16-channel latents packed 2x2, 8x VAE, CLIP pooled + T5
sequence text conditioning) with tiny widths (2 heads of dim 16), random weights drawn
from a fixed seed, and tokenizers built in code. It runs the engine end to end in a
fraction of a second on a CPU: tests and the offline demo use it. Its images are noise
with structure, not pictures.
"""
from __future__ import annotations

import threading

import torch

from .flux import TINY_FLUX
from .tiny_vae import tiny_vae
from .tiny_tokenizers import CLIP_MAX_LENGTH, build_clip_tokenizer, build_t5_tokenizer

SEED = 20250414
HEADS = 2
HEAD_DIM = 16
TEXT_DIM = 32  # T5 d_model = joint_attention_dim; CLIP hidden = pooled_projection_dim
AXES_DIMS_ROPE = (4, 6, 6)  # sums to HEAD_DIM
VAE_SCALING = 0.3611
VAE_SHIFT = 0.1159

_lock = threading.Lock()
_cache: dict[str, object] = {}


def _components() -> dict:
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    t5_tok = build_t5_tokenizer(TINY_FLUX.max_sequence_length)
    clip_tok = build_clip_tokenizer()
    torch.manual_seed(SEED)
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=TINY_FLUX.latent_channels * 4, num_layers=19, num_single_layers=38,
        attention_head_dim=HEAD_DIM, num_attention_heads=HEADS, joint_attention_dim=TEXT_DIM,
        pooled_projection_dim=TEXT_DIM, guidance_embeds=True, axes_dims_rope=AXES_DIMS_ROPE,
    )
    clip = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(clip_tok), hidden_size=TEXT_DIM, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=CLIP_MAX_LENGTH, projection_dim=TEXT_DIM,
        bos_token_id=clip_tok.bos_token_id, eos_token_id=clip_tok.eos_token_id, pad_token_id=clip_tok.pad_token_id,
    ))
    t5 = T5EncoderModel(T5Config(
        vocab_size=len(t5_tok), d_model=TEXT_DIM, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
        pad_token_id=t5_tok.pad_token_id, eos_token_id=t5_tok.eos_token_id, decoder_start_token_id=0,
    ))
    vae = tiny_vae(TINY_FLUX.latent_channels, VAE_SCALING, VAE_SHIFT)
    scheduler = FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
        base_image_seq_len=256, max_image_seq_len=4096,
    )
    for m in (transformer, clip, t5, vae):
        m.eval().requires_grad_(False)
    return dict(scheduler=scheduler, vae=vae, text_encoder=clip, tokenizer=clip_tok, text_encoder_2=t5,
                tokenizer_2=t5_tok, transformer=transformer)


def build_tiny_flux(fresh: bool = False):
    """The tiny FluxPipeline (float32, CPU). Built once per process; ``fresh=True`` builds a new copy.

    The cached pipeline is shared: callers that move it to another device/dtype should ask for a fresh one.
    """
    from diffusers import FluxPipeline

    if fresh:
        return FluxPipeline(**_components())
    with _lock:
        if "pipe" not in _cache:
            _cache["pipe"] = FluxPipeline(**_components())
        return _cache["pipe"]
