"""Named schedules: the AST paper's FLUX.1-dev hierarchy and "off"."""
from __future__ import annotations

from .bands import LayerBand
from .curves import PowerCurve
from .schedule import Schedule

AST_PAPER_FLUX = "AST paper (FLUX.1-dev)"
OFF = "off"
PRESET_NAMES = (AST_PAPER_FLUX, OFF)

FLUX_DOUBLE = 19
FLUX_SINGLE = 38

DEMO_WEIGHTS = {"i2i": 3.5, "t2t": 3.5, "i2t": 5.0}
DEMO_DECAY = 3.0
DEMO_MODULATED_STEPS = 16
DEMO_STEPS = 32
DEMO_SIZEREG_IMAGE = 1.0
DEMO_SIZEREG_TEXT = 4.0


def _ast_paper_bands() -> tuple[LayerBand, ...]:
    # The method page's table; layers here are 0-based, [start, end).
    return (
        LayerBand(0, 5),                                                     # double 1-5
        LayerBand(5, 19, i2i=True, t2t=True, i2t_maps={"instance"},          # double 6-19
                  i2t_row_factor="a_inst"),
        LayerBand(19, 24, i2i=True, t2t=True, i2t_maps={"instance", "background"},  # l 20-24
                  i2t_row_factor="a_img"),
        LayerBand(24, 34, i2i=True, t2t=True, i2t_maps={"instance", "attribute"},   # l 25-34
                  i2t_row_factor="a_inst"),
        LayerBand(34, 50, i2i=True, t2t=True, i2t_maps={"attribute"},        # l 35-50
                  i2t_row_factor="a_inst"),
        LayerBand(50, 57, i2t_maps={"attribute"}, i2t_row_factor="a_inst"),  # l 51-57
    )


def _demo_curves() -> dict[str, PowerCurve]:
    curve = PowerCurve(DEMO_DECAY, DEMO_MODULATED_STEPS)
    return {"i2i": curve, "t2t": curve, "i2t": curve}


def preset_schedule(name: str, num_double: int = FLUX_DOUBLE,
                    num_single: int = FLUX_SINGLE) -> Schedule:
    """A fresh schedule for preset ``name``, mapped to ``num_double + num_single`` layers."""
    if name == AST_PAPER_FLUX:
        base = Schedule(
            num_double=FLUX_DOUBLE,
            num_single=FLUX_SINGLE,
            bands=_ast_paper_bands(),
            weights=DEMO_WEIGHTS,
            curves=_demo_curves(),
            sizereg_image=DEMO_SIZEREG_IMAGE,
            sizereg_text=DEMO_SIZEREG_TEXT,
            preset=AST_PAPER_FLUX,
        )
    elif name == OFF:
        base = Schedule(
            num_double=FLUX_DOUBLE,
            num_single=FLUX_SINGLE,
            bands=(LayerBand(0, FLUX_DOUBLE + FLUX_SINGLE),),
            weights=DEMO_WEIGHTS,
            curves=_demo_curves(),
            sizereg_image=DEMO_SIZEREG_IMAGE,
            sizereg_text=DEMO_SIZEREG_TEXT,
            preset=OFF,
        )
    else:
        raise ValueError(f"preset: unknown preset {name!r}; choose one of {list(PRESET_NAMES)}")
    if (num_double, num_single) == (FLUX_DOUBLE, FLUX_SINGLE):
        return base
    return base.for_depth(num_double, num_single)
