"""Latent -> RGB preview images during generation.

Latents "normalised as in the pipeline loop" (16 channels, [C, H/8, W/8]) map to RGB with a
fixed linear projection, the architecture adapter's (the widely used factors on the method page):
``rgb = latent^T @ FACTORS + BIAS``, clamped to [-1, 1] and mapped to 0..255. The preview
has the latent's resolution (1/8 of the image per side); pass ``size`` to scale it.
Use the x0 prediction (``StepInfo.x0``) for a sharper preview than the noisy latents.

:class:`TinyAutoencoderPreview` decodes with a tiny autoencoder instead (TAEF1 for FLUX.1,
TAESD3 for SD3), when its weights are present locally (never downloaded).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image


def _factors(architecture) -> tuple[np.ndarray, np.ndarray]:
    """The architecture adapter's latent -> RGB factors (an adapter or its name)."""
    from .models import architecture as by_name

    arch = by_name(architecture) if isinstance(architecture, str) else architecture
    if not getattr(arch, "preview_factors", None):
        raise ValueError(f"no preview factors for {getattr(arch, 'name', arch)!r}")
    return (np.asarray(arch.preview_factors, dtype=np.float32),
            np.asarray(arch.preview_bias, dtype=np.float32))


def latent_to_array(latent: torch.Tensor | np.ndarray, architecture) -> np.ndarray:
    """[16, h, w] (or [1, 16, h, w]) latent -> uint8 RGB array [h, w, 3] (``architecture``: an
    adapter or its name, whose preview factors apply)."""
    try:
        factors, bias = _factors(architecture)
    except KeyError as e:
        raise ValueError(f"no preview factors: {str(e).strip(chr(34) + chr(39))}") from None
    if isinstance(latent, torch.Tensor):
        latent = latent.detach().to("cpu", torch.float32).numpy()
    lat = np.asarray(latent, dtype=np.float32)
    if lat.ndim == 4:
        if lat.shape[0] != 1:
            raise ValueError(f"preview takes one latent at a time, got a batch of {lat.shape[0]}")
        lat = lat[0]
    if lat.ndim != 3 or lat.shape[0] != factors.shape[0]:
        raise ValueError(f"expected a latent of shape [{factors.shape[0]}, h, w], got {list(lat.shape)}")
    c, h, w = lat.shape
    rgb = (factors.T @ lat.reshape(c, h * w)).T + bias  # [h*w, 3]
    np.clip(rgb, -1.0, 1.0, out=rgb)
    out = ((rgb + 1.0) * 127.5 + 0.5).astype(np.uint8)
    return out.reshape(h, w, 3)


def latent_preview(latent, architecture, size: tuple[int, int] | None = None) -> Image.Image:
    """RGB preview of a latent; ``size`` = (width, height) to resize to (bilinear).

    ``latent``: a [16, h, w] / [1, 16, h, w] tensor or array, or a ``StepInfo`` (its x0
    prediction, first image). ``architecture``: an adapter, its name, or a ``LoadedModel``.
    """
    if hasattr(latent, "x0"):
        latent = latent.x0[0]
    if hasattr(architecture, "family"):
        architecture = architecture.architecture
    img = Image.fromarray(latent_to_array(latent, architecture), "RGB")
    if size is not None and img.size != tuple(size):
        img = img.resize(tuple(size), Image.BILINEAR)
    return img


def tiny_autoencoder_available(folder: str | Path | None) -> bool:
    """Whether a tiny autoencoder (e.g. ``madebyollin/taef1``) diffusers folder with safetensors weights is at ``folder``."""
    if folder is None:
        return False
    p = Path(folder)
    return (p / "config.json").is_file() and any(p.glob("*.safetensors"))


class TinyAutoencoderPreview:
    """Near-final previews with a tiny autoencoder (TAEF1, TAESD3) loaded from a local folder (no download)."""

    def __init__(self, folder: str | Path, device: str | torch.device = "cpu") -> None:
        from diffusers import AutoencoderTiny

        if not tiny_autoencoder_available(folder):
            raise FileNotFoundError(f"no tiny autoencoder weights (config.json + *.safetensors) in {folder}")
        self.vae = AutoencoderTiny.from_pretrained(str(folder), local_files_only=True, use_safetensors=True)
        self.vae.to(device).eval().requires_grad_(False)
        self.device = torch.device(device)

    @torch.inference_mode()
    def __call__(self, latent: torch.Tensor, scaling_factor: float, shift_factor: float) -> Image.Image:
        """``latent`` as in the pipeline loop ([16, h, w]); the VAE's scaling/shift undo the normalisation."""
        lat = latent if latent.ndim == 4 else latent[None]
        lat = lat.to(self.device, torch.float32) / scaling_factor + shift_factor
        img = self.vae.decode(lat).sample[0].clamp(-1, 1)
        arr = ((img.permute(1, 2, 0).cpu().numpy() + 1.0) * 127.5 + 0.5).astype(np.uint8)
        return Image.fromarray(arr, "RGB")
