"""A shown main window with the generation panels on a shared worker, for render tests (tiny-flux)."""
from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from shapely.geometry import box

from ast_core.document import Instance, Layout
from ast_studio.generation import events as ev
from ast_studio.generation.generation_ui import GenerationUi

from editing_support import open_window

TIMEOUT = 120_000


def two_animals(width: int = 64, height: int = 64, base: str = "a red cat and a blue dog on green grass") -> Layout:
    return Layout(
        width=width, height=height, base_prompt=base, background_prompt="green grass",
        instances=[
            Instance(name="cat", prompt="a red cat", color="#e6194b", geometry=box(0, 8, width * 0.45, height - 4)),
            Instance(name="dog", prompt="a blue dog", color="#4363d8",
                     geometry=box(width * 0.55, height * 0.3, width - 2, height - 6)),
        ],
    )


def studio_window(qtbot, tmp_path, runner, size=(1366, 768)):
    """The main window with the Generate / Preview / History panels on ``runner``; ``window.events``
    collects the worker's events. Stopped listening at teardown by ``close_studio``."""
    window = open_window(qtbot, tmp_path, size=size)
    window.generation = GenerationUi(window.document, QSettings(str(tmp_path / "studio.ini"),
                                                                QSettings.Format.IniFormat),
                                     runner=runner, parent=window)
    window.generation.install(window)
    window.events = []
    runner.event.connect(window.events.append)
    return window


def close_studio(window, runner) -> None:
    runner.event.disconnect(window.events.append)
    window.generation.close()


def render(qtbot, window) -> object:
    """Press Generate and wait for the job's last event (Finished, Cancelled or Error)."""
    ui = window.generation
    with qtbot.waitSignal(ui.runner.busy_changed, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(ui.panel.generate_button, Qt.MouseButton.LeftButton)
    last = window.events[-1]
    assert isinstance(last, (ev.Finished, ev.Cancelled, ev.Error)), last
    return last
