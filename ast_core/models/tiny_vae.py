"""The tiny autoencoder the built-in models share: 16 latent channels, 8x down/up-sampling,
tiny widths; each family gives its own latent normalisation (scaling and shift)."""
from __future__ import annotations

VAE_CHANNELS = (8, 8, 8, 8)  # 4 levels: 8x down/up-sampling


def tiny_vae(latent_channels: int, scaling_factor: float, shift_factor: float):
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * len(VAE_CHANNELS),
        up_block_types=("UpDecoderBlock2D",) * len(VAE_CHANNELS), block_out_channels=VAE_CHANNELS,
        layers_per_block=1, latent_channels=latent_channels, norm_num_groups=4, sample_size=64,
        scaling_factor=scaling_factor, shift_factor=shift_factor, use_quant_conv=False, use_post_quant_conv=False,
        mid_block_add_attention=True,
    )
