"""The built-in ``tiny-sd3`` model: a real diffusers StableDiffusion3Pipeline with tiny random weights.

Same structure as SD3.5 Medium (24 joint blocks, the image-only ``attn2`` in blocks 0-12,
RMS q/k norms, image tokens first in the joint sequence, 16-channel latents in 2x2 patches,
8x VAE, CLIP-L + CLIP-G (penultimate states and pooled projections) and T5 text conditioning,
classifier-free guidance batch) with tiny widths (2 heads of dim 16), random weights drawn
from a fixed seed, and the tiny tokenizers built in code. Tests and the offline demo use it;
its images are noise with structure, not pictures.
"""
from __future__ import annotations

import threading

import torch

from .sd3 import MEDIUM_DUAL_BLOCKS, TINY_SD3
from .tiny_vae import tiny_vae
from .tiny_tokenizers import CLIP_MAX_LENGTH, build_clip_tokenizer, build_t5_tokenizer

SEED = 20250415
HEADS = 2
HEAD_DIM = 16
CLIP_DIM = 32  # CLIP-L and CLIP-G hidden size; their projections are CLIP_DIM too
T5_DIM = 64  # = joint_attention_dim (the 2 x 32 CLIP channels fill it exactly)
VAE_SCALING = 1.5305
VAE_SHIFT = 0.0609

_lock = threading.Lock()
_cache: dict[str, object] = {}


def _clip(tokenizer):
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    return CLIPTextModelWithProjection(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=CLIP_DIM, intermediate_size=64, num_hidden_layers=3,
        num_attention_heads=2, max_position_embeddings=CLIP_MAX_LENGTH, projection_dim=CLIP_DIM,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    ))


def _components(num_layers: int = 24, dual_blocks: tuple[int, ...] = MEDIUM_DUAL_BLOCKS) -> dict:
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel
    from transformers import T5Config, T5EncoderModel

    t5_tok = build_t5_tokenizer(TINY_SD3.max_sequence_length)
    clip_l_tok, clip_g_tok = build_clip_tokenizer(), build_clip_tokenizer()
    torch.manual_seed(SEED)
    transformer = SD3Transformer2DModel(
        sample_size=32, patch_size=2, in_channels=TINY_SD3.latent_channels, num_layers=num_layers,
        attention_head_dim=HEAD_DIM, num_attention_heads=HEADS, joint_attention_dim=T5_DIM,
        caption_projection_dim=HEADS * HEAD_DIM, pooled_projection_dim=2 * CLIP_DIM,
        out_channels=TINY_SD3.latent_channels, pos_embed_max_size=64, dual_attention_layers=dual_blocks,
        qk_norm="rms_norm",
    )
    clip_l, clip_g = _clip(clip_l_tok), _clip(clip_g_tok)
    t5 = T5EncoderModel(T5Config(
        vocab_size=len(t5_tok), d_model=T5_DIM, d_kv=16, d_ff=128, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
        pad_token_id=t5_tok.pad_token_id, eos_token_id=t5_tok.eos_token_id, decoder_start_token_id=0,
    ))
    vae = tiny_vae(TINY_SD3.latent_channels, VAE_SCALING, VAE_SHIFT)
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0)
    for m in (transformer, clip_l, clip_g, t5, vae):
        m.eval().requires_grad_(False)
    return dict(transformer=transformer, scheduler=scheduler, vae=vae, text_encoder=clip_l, tokenizer=clip_l_tok,
                text_encoder_2=clip_g, tokenizer_2=clip_g_tok, text_encoder_3=t5, tokenizer_3=t5_tok)


def build_tiny_sd3(fresh: bool = False, num_layers: int = 24,
                   dual_blocks: tuple[int, ...] = MEDIUM_DUAL_BLOCKS):
    """The tiny StableDiffusion3Pipeline (float32, CPU), built once per process for the default
    (Medium) shape; ``fresh=True`` or another shape (e.g. ``num_layers=38, dual_blocks=()``
    for a Large-shaped model) builds a new copy."""
    from diffusers import StableDiffusion3Pipeline

    default = (num_layers, tuple(dual_blocks)) == (24, MEDIUM_DUAL_BLOCKS)
    if fresh or not default:
        return StableDiffusion3Pipeline(**_components(num_layers, tuple(dual_blocks)))
    with _lock:
        if "pipe" not in _cache:
            _cache["pipe"] = StableDiffusion3Pipeline(**_components())
        return _cache["pipe"]
