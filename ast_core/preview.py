"""Latent -> RGB preview images during generation.

FLUX (and SD3) latents, "normalised as in the pipeline loop" (16 channels, [C, H/8, W/8])
map to RGB with a fixed linear projection (the widely used factors on the method page):
``rgb = latent^T @ FACTORS + BIAS``, clamped to [-1, 1] and mapped to 0..255. The preview
has the latent's resolution (1/8 of the image per side); pass ``size`` to scale it.
Use the x0 prediction (``StepInfo.x0``) for a sharper preview than the noisy latents.

``taef1_preview`` decodes with the TAEF1 tiny autoencoder instead, when its weights are
present locally (never downloaded).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

FLUX_FACTORS = np.array([
    [-0.0346, 0.0244, 0.0681], [0.0034, 0.0210, 0.0687], [0.0275, -0.0668, -0.0433], [-0.0174, 0.0160, 0.0617],
    [0.0859, 0.0721, 0.0329], [0.0004, 0.0383, 0.0115], [0.0405, 0.0861, 0.0915], [-0.0236, -0.0185, -0.0259],
    [-0.0245, 0.0250, 0.1180], [0.1008, 0.0755, -0.0421], [-0.0515, 0.0201, 0.0011], [0.0428, -0.0012, -0.0036],
    [0.0817, 0.0765, 0.0749], [-0.1264, -0.0522, -0.1103], [-0.0280, -0.0881, -0.0499], [-0.1262, -0.0982, -0.0778],
], dtype=np.float32)
FLUX_BIAS = np.array([-0.0329, -0.0718, -0.0851], dtype=np.float32)

SD3_FACTORS = np.array([
    [-0.0922, -0.0175, 0.0749], [0.0311, 0.0633, 0.0954], [0.1994, 0.0927, 0.0458], [0.0856, 0.0339, 0.0902],
    [0.0587, 0.0272, -0.0496], [-0.0006, 0.1104, 0.0309], [0.0978, 0.0306, 0.0427], [-0.0042, 0.1038, 0.1358],
    [-0.0194, 0.0020, 0.0669], [-0.0488, 0.0130, -0.0268], [0.0922, 0.0988, 0.0951], [-0.0278, 0.0524, -0.0542],
    [0.0332, 0.0456, 0.0895], [-0.0069, -0.0030, -0.0810], [-0.0596, -0.0465, -0.0293], [-0.1448, -0.1463, -0.1189],
], dtype=np.float32)
SD3_BIAS = np.array([0.2394, 0.2135, 0.1925], dtype=np.float32)

FACTORS = {"flux": (FLUX_FACTORS, FLUX_BIAS), "sd3": (SD3_FACTORS, SD3_BIAS)}


def latent_to_array(latent: torch.Tensor | np.ndarray, architecture: str = "flux") -> np.ndarray:
    """[16, h, w] (or [1, 16, h, w]) latent -> uint8 RGB array [h, w, 3]."""
    try:
        factors, bias = FACTORS[architecture]
    except KeyError:
        raise ValueError(f"no preview factors for {architecture!r}; known: {', '.join(FACTORS)}") from None
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


def latent_preview(latent, architecture="flux", size: tuple[int, int] | None = None) -> Image.Image:
    """RGB preview of a latent; ``size`` = (width, height) to resize to (bilinear).

    ``latent``: a [16, h, w] / [1, 16, h, w] tensor or array, or a ``StepInfo`` (its x0
    prediction, first image). ``architecture``: "flux" / "sd3", or a ``LoadedModel`` (its family's).
    """
    if hasattr(latent, "x0"):
        latent = latent.x0[0]
    if not isinstance(architecture, str):
        architecture = architecture.family.architecture
    img = Image.fromarray(latent_to_array(latent, architecture), "RGB")
    if size is not None and img.size != tuple(size):
        img = img.resize(tuple(size), Image.BILINEAR)
    return img


def taef1_available(folder: str | Path | None) -> bool:
    """Whether a TAEF1 (``madebyollin/taef1``) diffusers folder with safetensors weights is at ``folder``."""
    if folder is None:
        return False
    p = Path(folder)
    return (p / "config.json").is_file() and any(p.glob("*.safetensors"))


class TAEF1Preview:
    """Near-final previews with the TAEF1 tiny autoencoder loaded from a local folder (no download)."""

    def __init__(self, folder: str | Path, device: str | torch.device = "cpu") -> None:
        from diffusers import AutoencoderTiny

        if not taef1_available(folder):
            raise FileNotFoundError(f"no TAEF1 weights (config.json + *.safetensors) in {folder}")
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
