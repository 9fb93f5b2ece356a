"""Start the studio: ``run(argv)`` (from the ``ast-studio`` launcher) and ``create_window``.

Start-up imports Qt, shapely and the document model only: torch and the diffusion stack
load with the first generation.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from . import settings, theme
from .main_window import MainWindow


def application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "ast-studio", *(argv or [])])
    app.setApplicationName("AST Studio")
    app.setOrganizationName("AST Studio")
    app.setApplicationDisplayName("AST Studio")
    app.setDesktopFileName("ast-studio")  # Wayland finds the icon through packaging/ast-studio.desktop
    theme.apply(app)
    from . import icons

    app.setWindowIcon(icons.icon("brush"))
    return app


def install_panels(window: MainWindow) -> None:
    """The panels other modules add to the editing window: generation (preview, Generate,
    history) and the step-layer schedule (the Schedule page). Neither imports torch before the
    first render. Then every panel goes to its default place (:mod:`.window_layout`)."""
    from . import window_layout
    from .generation.generation_ui import GenerationUi
    from .render_viewer import connect_viewer
    from .schedule import install_schedule_panel

    window.generation = ui = GenerationUi(window.document, settings.store(), parent=window)
    ui.install(window)
    window.closing.connect(ui.shutdown)
    install_schedule_panel(window)
    # the picture of the Preview pane is the one "Show the result on the canvas" (R) shows
    ui.preview.view.image_changed.connect(window.canvas.set_result_image)
    ui.panel.simple_schedule.expert_requested.connect(
        lambda: window_layout.go_to_panel(window, "schedule_panel"))
    ui.preview.enlarge_requested.connect(lambda: window_layout.enlarge_preview(window))
    connect_viewer(window)
    window_layout.arrange(window)


def create_window(argv: list[str], with_panels: bool = True, **window_options) -> MainWindow:
    """A main window with ``argv[0]`` opened (if given), else the example on a first run."""
    window = MainWindow(**window_options)
    if with_panels:
        install_panels(window)
    window.restore_arrangement(*settings.window_state())
    if argv:
        window.files.open_path(Path(argv[0]), ask=False)
    elif settings.first_run():
        window.files.open_example("beach")
    settings.mark_has_run()
    return window


def warn_about_torch_build(window: MainWindow) -> None:
    """One line in the status bar and the log when this machine has a GPU the installed torch
    cannot use (e.g. the CPU build on an NVIDIA machine). Reads files only: no torch import."""
    from ast_core.models.torch_builds import build_warning, probe_machine

    message = build_warning(probe_machine(run=lambda cmd: None))
    if message:
        logging.getLogger(__name__).warning(message)
        window.statusBar().showMessage(message)


def run(argv: list[str]) -> int:
    files = [a for a in argv if not a.startswith("-")]
    if len(files) > 1:
        print("ast-studio: give at most one project file", file=sys.stderr)
        return 2
    app = application()
    window = create_window(files)
    window.show()
    QTimer.singleShot(0, window.offer_recovery)
    QTimer.singleShot(0, lambda: warn_about_torch_build(window))
    return app.exec()
