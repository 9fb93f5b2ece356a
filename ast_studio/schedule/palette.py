"""Colours shared by the schedule widgets (dark studio theme) and the heatmap colour scale."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

BACKGROUND = QColor("#1f2124")
PLOT = QColor("#25272b")
GRID = QColor("#34373d")
AXIS = QColor("#5a5f68")
TEXT = QColor("#e3e5e8")
DIM_TEXT = QColor("#9aa0a8")
SELECTED = QColor("#ffffff")
BOUNDARY = QColor("#f2c744")  # double / single block boundary

#: one colour per modulation kind (also used by the kind buttons)
KIND_COLOURS = {"i2i": QColor("#4f9dff"), "t2t": QColor("#f08a4b"), "i2t": QColor("#5cc98b")}
KIND_LABELS = {"i2i": "I2I", "t2t": "T2T", "i2t": "I2T"}
KIND_TITLES = {
    "i2i": "I2I: image tokens attend to image tokens of their own region",
    "t2t": "T2T: each prompt's tokens attend to their own prompt",
    "i2t": "I2T: image tokens attend to their region's prompt tokens",
}

# viridis at 9 anchors (perceptually uniform, readable for colour-blind viewers)
_VIRIDIS = np.array([
    [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37],
], dtype=np.float64)


def colour_scale(values: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to uint8 RGB (viridis); shape [..., 3]."""
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)
    pos = v * (len(_VIRIDIS) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(_VIRIDIS) - 1)
    frac = (pos - lo)[..., None]
    rgb = _VIRIDIS[lo] * (1 - frac) + _VIRIDIS[hi] * frac
    return np.round(rgb).astype(np.uint8)


#: cells where a modulation does not act at all (coefficient exactly 0)
OFF_RGB = (52, 55, 61)


def heatmap_colours(values: np.ndarray, vmax: float) -> np.ndarray:
    """uint8 RGB of a coefficient table: viridis over ``0..vmax``, grey where exactly 0."""
    values = np.asarray(values, dtype=np.float64)
    rgb = colour_scale(values / (vmax if vmax > 0 else 1.0))
    rgb[values == 0.0] = OFF_RGB
    return rgb


def colour_at(value: float) -> QColor:
    r, g, b = colour_scale(np.array([value]))[0]
    return QColor(int(r), int(g), int(b))


def nice_step(span: float, target_ticks: int = 4) -> float:
    """A 1/2/5 x 10^k tick spacing giving about ``target_ticks`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / max(1, target_ticks)
    mag = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)
