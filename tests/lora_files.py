"""Tiny LoRA files for the tests: sd-scripts' (kohya) FLUX key names for the built-in tiny-flux."""
from __future__ import annotations

import torch
from safetensors.torch import save_file

RANK = 4


def kohya_flux_lora(path, seed: int, blocks=range(3), singles=range(4), scale: float = 0.5):
    """sd-scripts' FLUX key names (what diffusers' ``_convert_kohya_flux_lora_to_diffusers`` reads) for
    tiny-flux: fused img/txt qkv (split evenly), attention outputs, MLPs, and single-block outputs."""
    g = torch.Generator().manual_seed(seed)
    width, mlp = 32, 128
    shapes = {"img_attn_qkv": (3 * width, width), "txt_attn_qkv": (3 * width, width),
              "img_attn_proj": (width, width), "img_mlp_0": (mlp, width), "txt_mlp_2": (width, mlp)}
    sd = {}

    def add(name, out_features, in_features):
        sd[f"{name}.lora_down.weight"] = torch.randn(RANK, in_features, generator=g) * scale
        sd[f"{name}.lora_up.weight"] = torch.randn(out_features, RANK, generator=g) * scale
        sd[f"{name}.alpha"] = torch.tensor(float(RANK))

    for i in blocks:
        for part, (o, n) in shapes.items():
            add(f"lora_unet_double_blocks_{i}_{part}", o, n)
    for i in singles:
        add(f"lora_unet_single_blocks_{i}_linear2", width, width + mlp)
    save_file(sd, str(path))
    return path


def misfit_flux_lora(path):
    """A FLUX LoRA (by its key names) whose shapes fit no tiny-flux layer: refused when applied."""
    save_file({"lora_unet_double_blocks_0_img_attn_proj.lora_down.weight": torch.zeros(2, 3072),
               "lora_unet_double_blocks_0_img_attn_proj.lora_up.weight": torch.zeros(3072, 2)}, str(path))
    return path
