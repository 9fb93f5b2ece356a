"""Attention specialty: with AST, an instance's image tokens attend more to its own words."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import FluxTransformer2DModel

from ast_core.attention import ASTAttention, ModulationInputs, modulated_attention
from ast_core.models import architecture
from ast_core.models.flux import AST_PAPER as AST_PAPER_FLUX
from ast_core.schedule import preset_schedule

ROWS = COLS = 8
TEXT = 32
SPANS = [[1, 2], [4, 5, 6], [8, 9, 10]]          # background, instance 1, instance 2
ATTRS = [[], [4], [8]]
TIMESTEPS = [1000.0, 800.0, 600.0, 400.0]


def layout() -> ModulationInputs:
    inst = torch.zeros(2, ROWS, COLS, dtype=torch.bool)
    inst[0, 1:5, 0:4] = True
    inst[1, 3:8, 4:8] = True
    background = ~inst.any(0)
    masks = torch.cat([background[None], inst]).reshape(3, ROWS * COLS)
    return ModulationInputs(masks, TEXT, SPANS, ATTRS)


def flux_57_layers() -> FluxTransformer2DModel:
    torch.manual_seed(7)
    return FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=19, num_single_layers=38,
        attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
        pooled_projection_dim=32, guidance_embeds=False, axes_dims_rope=(4, 6, 6),
    ).eval()


def forward_inputs():
    g = torch.Generator().manual_seed(3)
    ids = torch.zeros(ROWS, COLS, 3)
    ids[..., 1] = torch.arange(ROWS)[:, None]
    ids[..., 2] = torch.arange(COLS)[None, :]
    return dict(
        hidden_states=torch.randn(1, ROWS * COLS, 16, generator=g),
        encoder_hidden_states=torch.randn(1, TEXT, 32, generator=g),
        pooled_projections=torch.randn(1, 32, generator=g),
        img_ids=ids.reshape(-1, 3), txt_ids=torch.zeros(TEXT, 3),
        timestep=torch.tensor([TIMESTEPS[0] / 1000.0]), return_dict=False,
    )


def own_word_mass(model, schedule, inputs) -> torch.Tensor:
    """[layers] mean attention mass that instance image tokens put on their own span."""
    masses: dict[int, float] = {}
    segs = inputs.segment_masks

    def probe(layer, step, query, key, value, groups):
        B, N, H, D = value.shape
        per_instance = []
        for s in (1, 2):
            # attention mass on a column set = attention output with value 1 on those columns
            ones = torch.zeros(B, N, H, 1)
            ones[:, SPANS[s]] = 1.0
            if groups is None:
                mass = F.scaled_dot_product_attention(
                    query.transpose(1, 2), key.transpose(1, 2), ones.transpose(1, 2),
                    scale=D ** -0.5).transpose(1, 2)
            else:
                mass = modulated_attention(query, key, ones, groups, scale=D ** -0.5)
            rows = TEXT + torch.nonzero(segs[s]).flatten()
            per_instance.append(mass[:, rows].mean())
        masses[layer] = float(torch.stack(per_instance).mean())

    ctrl = ASTAttention(schedule, inputs, TIMESTEPS, probe=probe)
    with ctrl.installed(architecture("flux"), model), torch.no_grad():
        model(**forward_inputs())
    return torch.tensor([masses[layer] for layer in range(57)])


def test_instance_tokens_attend_more_to_their_own_words_with_ast() -> None:
    model = flux_57_layers()
    inputs = layout()
    ast = preset_schedule(AST_PAPER_FLUX)
    plain = ast.copy()
    for kind in ("i2i", "t2t", "i2t"):
        plain.set_weight(kind, 0.0)
    with_ast = own_word_mass(model, ast, inputs)
    without = own_word_mass(model, plain, inputs)
    instance_layers = [l for l, p in enumerate(ast.layer_plans()) if "instance" in p.i2t_maps]
    assert len(instance_layers) == 29
    gain = with_ast[instance_layers] - without[instance_layers]
    assert (gain > 0).all(), gain
    assert with_ast[instance_layers].mean() > 1.5 * without[instance_layers].mean()
    assert with_ast.mean() > without.mean()
