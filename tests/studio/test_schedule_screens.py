"""Screenshots of the schedule panel at dock size, checked pixel-wise where it matters.

Set ``AST_SCREENS_DIR=/some/folder`` to keep the PNGs (as for the other screenshot tests);
otherwise they go to pytest's tmp_path.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ast_core.schedule import OFF
from ast_studio.document import Document
from ast_studio.schedule import make_schedule_dock
from ast_studio.schedule.palette import OFF_RGB, colour_scale, heatmap_colours


@pytest.fixture
def dock(qtbot):
    app = QApplication.instance()
    try:
        from ast_studio import theme

        theme.apply(app)
    except ImportError:  # pragma: no cover - the studio theme is optional here
        pass
    from ast_studio.generation.model_settings import ModelSettings, save_model_settings

    save_model_settings(ModelSettings(model="FLUX.1-dev"))  # drawn for FLUX.1-dev's 28 default steps
    document = Document()
    widget = make_schedule_dock(document)
    widget.resize(340, 1000)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    document.undo_stack.clear()


def save(widget, name: str, tmp_path: Path) -> QImage:
    QApplication.processEvents()
    folder = Path(os.environ.get("AST_SCREENS_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    image = widget.grab().toImage()
    assert image.save(str(folder / f"schedule-{name}.png"))
    return image


def pixel(widget, point: QPointF) -> tuple[int, int, int]:
    c = widget.grab().toImage().pixelColor(point.toPoint())
    return c.red(), c.green(), c.blue()


def assert_heatmap_shows_values(panel) -> None:
    """Each probed cell is painted in the colour of its value on the legend's scale."""
    heat = panel.heatmap
    values = heat.values()
    L = values.shape[1]
    for step, layer in [(0, 0), (0, L // 5), (3, L // 2), (values.shape[0] - 1, 2 * L // 3), (5, L - 1)]:
        expected = heatmap_colours(np.array([values[step, layer]]), heat.vmax)[0]
        got = np.array(pixel(heat, heat.cell_centre(step, layer)))
        assert np.abs(got.astype(int) - expected.astype(int)).max() <= 3, (step, layer, got, expected)


def test_panel_screens(dock, tmp_path):
    panel = dock.widget()
    panel.set_kind("i2t")
    save(dock, "1-default-i2t", tmp_path)
    assert_heatmap_shows_values(panel)
    # the strongest cell (step 1, I2T on an active layer) is the top of the scale: yellow
    assert pixel(panel.heatmap, panel.heatmap.cell_centre(0, 10)) == tuple(colour_scale(np.array([1.0]))[0])

    # an artist's edit: a softer I2I curve held longer, the background band widened
    panel.set_kind("i2i")
    curve = panel.curve
    n = len(curve.points())
    QTest.mouseDClick(curve, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      curve.to_pixel(21 / 27, 0.3).toPoint())
    assert len(curve.points()) == n + 1
    a = curve.keyframe_position(0).toPoint()
    QTest.mousePress(curve, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseMove(curve, curve.to_pixel(0.0, 0.6).toPoint())
    QTest.mouseRelease(curve, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       curve.to_pixel(0.0, 0.6).toPoint())
    bands = panel.bands
    e = bands.edge_position(3)
    QTest.mousePress(bands, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, e.toPoint())
    QTest.mouseMove(bands, QPointF(bands.layer_x(28), e.y()).toPoint())
    QTest.mouseRelease(bands, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPointF(bands.layer_x(28), e.y()).toPoint())
    assert panel.binding.schedule.bands[3].start == 28
    save(dock, "2-edited-i2i", tmp_path)
    assert_heatmap_shows_values(panel)
    assert "Edited" in panel.status_label.text()

    panel.preset_combo.setCurrentText(OFF)
    panel.preset_combo.activated.emit(panel.preset_combo.currentIndex())
    image = save(dock, "3-off", tmp_path)
    assert not panel.heatmap.values().any()
    assert "acts on no layer" in panel.curve_shape.text()
    assert pixel(panel.heatmap, panel.heatmap.cell_centre(0, 10)) == OFF_RGB, "off is grey, not weak"
    assert image.width() == 340

    # another architecture: SD3.5 Medium's 24 joint blocks
    from ast_studio.generation.model_settings import ModelSettings, save_model_settings

    save_model_settings(ModelSettings(model="SD3.5 Medium"))
    panel.preset_combo.setCurrentText("AST paper mapped to SD3.5")
    panel.preset_combo.activated.emit(panel.preset_combo.currentIndex())
    panel.set_kind("t2t")
    save(dock, "4-24-layers-t2t", tmp_path)
    assert panel.heatmap.values().shape[1] == 24
    assert_heatmap_shows_values(panel)
