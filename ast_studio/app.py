"""Start the studio: ``run(argv)`` (from the ``ast-studio`` launcher) and ``create_window``.

Start-up imports Qt, shapely and the document model only: torch and the diffusion stack
load with the first generation.
"""
from __future__ import annotations

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
    theme.apply(app)
    from . import icons

    app.setWindowIcon(icons.icon("brush"))
    return app


def create_window(argv: list[str], **window_options) -> MainWindow:
    """A main window with ``argv[0]`` opened (if given), else the example on a first run."""
    window = MainWindow(**window_options)
    from .schedule import install_schedule_panel  # the Schedule dock, a tab beside the Instance editor

    install_schedule_panel(window, tabify_with=window.instance_editor_dock)
    geometry, state = settings.window_state()
    if geometry is not None:
        window.restoreGeometry(geometry)
    if state is not None:
        window.restoreState(state)
    if argv:
        window.files.open_path(Path(argv[0]), ask=False)
    elif settings.first_run():
        window.files.open_example("beach")
    settings.mark_has_run()
    return window


def run(argv: list[str]) -> int:
    files = [a for a in argv if not a.startswith("-")]
    if len(files) > 1:
        print("ast-studio: give at most one project file", file=sys.stderr)
        return 2
    app = application()
    window = create_window(files)
    window.show()
    QTimer.singleShot(0, window.offer_recovery)
    return app.exec()
