"""The step-layer schedule of the AST modulation (data only; no torch).

    from ast_core.schedule import Schedule, preset_schedule
    s = preset_schedule(family.default_preset, family.layers)
    s.layer_plan(7)                                  # LayerPlan(i2i=True, t2t=True, ...)
    s.coefficient_table("i2t", timesteps)            # np.ndarray [steps, layers]
    Schedule.from_dict(s.to_dict()) == s
"""
from .bands import I2T_MAPS, IMAGE_ROW_FACTORS, KINDS, LayerBand, LayerPlan
from .curves import Curve, KeyframeCurve, PowerCurve, curve_from_dict, step_progress
from .presets import DEMO_STEPS, OFF, preset_names, preset_schedule
from .schedule import FORMAT_VERSION, Schedule, ScheduleEvent
from .structure import LAYER_KINDS, Structure

__all__ = [
    "Curve", "DEMO_STEPS", "FORMAT_VERSION", "I2T_MAPS", "IMAGE_ROW_FACTORS", "KINDS",
    "KeyframeCurve", "LAYER_KINDS", "LayerBand", "LayerPlan", "OFF", "PowerCurve", "Schedule",
    "ScheduleEvent", "Structure", "curve_from_dict", "preset_names", "preset_schedule",
    "step_progress",
]
