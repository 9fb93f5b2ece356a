"""AST attention for diffusers FLUX transformers: exact, memory-light, schedule-driven.

    from ast_core.attention import ModulationInputs, ASTAttention
    inputs = ModulationInputs(segment_masks, text_len, segment_spans, attribute_tokens)
    ctrl = ASTAttention(transformer, schedule, inputs, timesteps=scheduler_timesteps)
    with ctrl.installed():
        pipe(...)
"""
from .backends import BACKENDS, BackendUnavailable, attention_backend, describe_backend
from .controller import ASTAttention, build_row_groups, flux_attention_modules
from .inputs import ModulationInputs
from .kernel import BlockModulation, RowGroup, modulated_attention, stack_sample_groups
from .processor import ASTFluxAttnProcessor
from .tables import TokenTables

__all__ = [
    "ASTAttention", "ASTFluxAttnProcessor", "BACKENDS", "BackendUnavailable", "BlockModulation",
    "ModulationInputs", "RowGroup", "TokenTables", "attention_backend", "build_row_groups",
    "describe_backend", "flux_attention_modules", "modulated_attention", "stack_sample_groups",
]
