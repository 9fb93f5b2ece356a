"""Latent -> RGB previews."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from ast_core.generation.steps import StepInfo
from ast_core.models import architecture
from ast_core.preview import latent_preview, latent_to_array, tiny_autoencoder_available

FLUX_FACTORS = np.asarray(architecture("flux").preview_factors, dtype=np.float32)
FLUX_BIAS = np.asarray(architecture("flux").preview_bias, dtype=np.float32)
unpack = architecture("flux").unpack_latents


def test_zero_latent_gives_the_bias_colour():
    rgb = latent_to_array(torch.zeros(16, 4, 6), "flux")
    assert rgb.shape == (4, 6, 3) and rgb.dtype == np.uint8
    expected = np.round((FLUX_BIAS + 1) * 127.5).astype(np.uint8)
    assert (rgb == expected).all()


def test_projection_clamps_and_follows_the_factors():
    lat = torch.zeros(16, 1, 2)
    lat[4, 0, 0] = 1.0  # channel 4 -> + row 4 of the factors
    lat[:, 0, 1] = 1000.0  # saturates
    rgb = latent_to_array(lat, "flux").astype(int)
    expected0 = np.floor((FLUX_FACTORS[4] + FLUX_BIAS + 1) * 127.5 + 0.5)
    assert (rgb[0, 0] == expected0).all()
    sums = FLUX_FACTORS.sum(0)
    assert all(rgb[0, 1, c] == (255 if sums[c] > 0 else 0) for c in range(3))


def test_sd3_factors_differ_and_bad_input_is_named():
    lat = torch.randn(16, 3, 3)
    assert not np.array_equal(latent_to_array(lat, "sd3"), latent_to_array(lat, "flux"))
    with pytest.raises(ValueError, match=r"shape \[16, h, w\]"):
        latent_to_array(torch.zeros(4, 8, 8), "flux")
    with pytest.raises(ValueError, match="no preview factors"):
        latent_to_array(torch.zeros(16, 8, 8), "sdxl")


def test_step_info_and_model_are_accepted(tiny_model):
    x0 = torch.randn(1, 16, 8, 8)
    info = StepInfo(step=1, total=4, timestep=1000.0, sigma=1.0, latents=torch.zeros_like(x0), x0=x0)
    img = latent_preview(info, tiny_model, size=(64, 64))
    assert img.size == (64, 64)
    assert np.array_equal(np.asarray(latent_preview(info, "flux")), latent_to_array(x0[0], "flux"))


def test_unpack_inverts_flux_packing():
    from diffusers import FluxPipeline

    lat = torch.randn(1, 16, 16, 12)
    packed = FluxPipeline._pack_latents(lat, 1, 16, 16, 12)
    assert torch.equal(unpack(packed, 96, 128, 8), lat)


def test_preview_is_fast_at_1024():
    lat = torch.randn(16, 128, 128)  # 1024x1024 image
    latent_preview(lat, "flux")
    best = min(_timed(lambda: latent_preview(lat, "flux")) for _ in range(10))
    print(f"latent preview at 1024^2: {best * 1000:.2f} ms")
    assert best < 0.010


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_tiny_autoencoder_absent_is_reported(tmp_path):
    assert not tiny_autoencoder_available(None) and not tiny_autoencoder_available(tmp_path)
