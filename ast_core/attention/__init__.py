"""AST attention: the exact, memory-light kernel and the per-generation control.

    from ast_core.attention import ModulationInputs, ASTAttention
    inputs = ModulationInputs(segment_masks, text_len, segment_spans, attribute_tokens)
    ctrl = ASTAttention(schedule, inputs, timesteps, order=architecture.order)
    with ctrl.installed(architecture, transformer):
        pipe(..., callback_on_step_end=...)   # calls ctrl.step_finished(i)

The architecture adapters (``ast_core.models``) own the processors; nothing here names a model.
"""
from .controller import ASTAttention, attention_device, build_row_groups
from .inputs import ModulationInputs
from .kernel import BlockModulation, RowGroup, modulated_attention
from .tables import TokenTables

__all__ = [
    "ASTAttention", "BlockModulation", "ModulationInputs", "RowGroup", "TokenTables", "attention_device",
    "build_row_groups", "modulated_attention",
]
