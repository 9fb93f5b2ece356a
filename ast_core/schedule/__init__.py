"""The step-layer schedule of the AST modulation (data only; no torch).

    from ast_core.schedule import Schedule, preset_schedule, AST_PAPER_FLUX
    s = preset_schedule(AST_PAPER_FLUX)              # 19 double + 38 single layers
    s.layer_plan(7)                                  # LayerPlan(i2i=True, t2t=True, ...)
    s.coefficient_table("i2t", timesteps)            # np.ndarray [steps, layers]
    Schedule.from_dict(s.to_dict()) == s
"""
from .bands import I2T_MAPS, IMAGE_ROW_FACTORS, KINDS, LayerBand, LayerPlan
from .curves import Curve, KeyframeCurve, PowerCurve, curve_from_dict, step_progress
from .presets import (
    AST_PAPER_FLUX,
    DEMO_STEPS,
    FLUX_DOUBLE,
    FLUX_SINGLE,
    OFF,
    PRESET_NAMES,
    preset_schedule,
)
from .schedule import FORMAT_VERSION, Schedule, ScheduleEvent

__all__ = [
    "AST_PAPER_FLUX", "Curve", "DEMO_STEPS", "FLUX_DOUBLE", "FLUX_SINGLE", "FORMAT_VERSION",
    "I2T_MAPS", "IMAGE_ROW_FACTORS", "KINDS", "KeyframeCurve", "LayerBand", "LayerPlan", "OFF",
    "PRESET_NAMES", "PowerCurve", "Schedule", "ScheduleEvent", "curve_from_dict",
    "preset_schedule", "step_progress",
]
