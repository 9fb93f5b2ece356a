"""The main window: the workspace (canvas, schedule) in the centre, docked panels, menus,
toolbar and status bar.

Other modules extend it without editing this file:

* ``window.add_panel(dock, area, tabify_with=None)`` docks a QDockWidget and lists it
  in View ▸ Panels;
* ``window.menu("generate")`` returns (creating) a top-level menu by key;
* ``window.document`` is the :class:`~ast_studio.document.Document` (layout, settings,
  schedule, renders, ``undo_stack``, ``selection_changed``...);
* ``window.canvas`` is the :class:`~ast_studio.canvas.CanvasView`;
* ``window.workspace`` is the central :class:`~ast_studio.workspace.Workspace`
  (``workspace.add_page(widget, title, tip)`` adds a page beside the canvas);
* ``window.tool_bar`` is the main toolbar;
* ``window.closing`` is emitted once the window really closes (stop worker threads there).

Dropping a project (.astproj) or a render PNG anywhere on the window opens it, as File ▸ Open
would (the canvas takes no drops of its own, so a drop on it reaches the window).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractSpinBox, QApplication, QDockWidget, QLabel, QLineEdit, QMainWindow, QMenu, QPlainTextEdit, QTextEdit,
)

from . import settings, window_layout
from .canvas import CanvasView
from .document import Document
from .panels.instance_editor import instance_editor_dock
from .panels.instance_list import instance_list_dock
from .panels.prompts import prompts_dock
from .project_files import OPENABLE, ProjectFiles
from .recovery import DEFAULT_DELAY_MS, Autosave
from .window_actions import build_actions
from .workspace import Workspace

MENU_TITLES = {"file": "&File", "edit": "&Edit", "view": "&View", "canvas": "&Canvas", "help": "&Help"}


class EscapeToCanvas(QObject):
    """Esc in a text field of the window (a prompt, a name, a number) leaves it: the focus goes
    back to the canvas and nothing is selected, so the next drawing makes a new instance."""

    FIELDS = (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox)

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window_ = window

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.KeyPress or event.key() != Qt.Key.Key_Escape or event.modifiers():
            return False
        if not isinstance(obj, self.FIELDS) or not obj.hasFocus():
            return False
        window = self.window_
        top = obj.window()
        if top is not window and not (isinstance(top, QDockWidget) and top.parent() is window):
            return False  # a dialog's field: Esc closes the dialog as usual
        window.escape_to_canvas()
        return True


def default_size(widget) -> tuple[int, int]:
    """1600×1000, or 92% of a smaller screen."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return 1600, 1000
    area = screen.availableGeometry()
    return min(1600, int(area.width() * 0.92)), min(1000, int(area.height() * 0.92))


class MainWindow(QMainWindow):
    #: the window is closing for good (changes saved or discarded): stop workers, timers...
    closing = Signal()

    def __init__(self, document: Document | None = None, autosave_delay_ms: int = DEFAULT_DELAY_MS,
                 recovery_folder=None) -> None:
        super().__init__()
        self.setObjectName("main-window")
        self.document = document or Document(self)
        self.canvas = CanvasView(self.document, self)
        self.workspace = Workspace(self.canvas, self)
        self.setCentralWidget(self.workspace)
        self.setAcceptDrops(True)
        for widget in (self.canvas, self.canvas.viewport()):  # its drops reach the window
            widget.setAcceptDrops(False)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self._state_restored = False
        self._sized_on_show = False
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.menus: dict[str, QMenu] = {}
        for key in ("file", "edit", "view", "canvas"):
            self.menu(key)
        self.panels_menu = self.menu("view").addMenu("&Panels")
        self.autosave = Autosave(self.document, autosave_delay_ms, recovery_folder, self)
        self.autosave.failed.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.files = ProjectFiles(self)
        self.tool_bar = self.addToolBar("Tools")
        self.tool_bar.setObjectName("main-toolbar")
        self.tool_bar.setMovable(False)
        self.tool_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._build_status_bar()
        self.actions_by_name: dict[str, QAction] = build_actions(self)
        self.workspace.setCornerWidget(self.canvas_view_bar, Qt.Corner.TopRightCorner)

        self.instances_dock = self.add_panel(instance_list_dock(self.document, self),
                                             Qt.DockWidgetArea.RightDockWidgetArea)
        self.instance_editor_dock = self.add_panel(instance_editor_dock(self.document, self),
                                                   Qt.DockWidgetArea.RightDockWidgetArea)
        self.prompts_dock = self.add_panel(prompts_dock(self.document, self), Qt.DockWidgetArea.BottomDockWidgetArea)
        self.instances_dock.widget().rename_requested.connect(self._rename)
        self.resize(*default_size(self))
        window_layout.arrange(self)
        self._escape = EscapeToCanvas(self)
        QApplication.instance().installEventFilter(self._escape)

        self.document.path_changed.connect(lambda _p: self.update_title())
        self.document.modified_changed.connect(lambda _m: self.update_title())
        self.document.replaced.connect(self.update_title)
        self.update_title()
        self.canvas.set_brush_diameter(settings.brush_diameter())

    # ----------------------------------------------------------- extension API
    def menu(self, key: str, title: str | None = None) -> QMenu:
        """The top-level menu called ``key`` (file, edit, view, canvas, ...), created on first use."""
        if key not in self.menus:
            m = QMenu(title or MENU_TITLES.get(key, key.capitalize()), self)
            if "help" in self.menus:  # Help stays last
                self.menuBar().insertMenu(self.menus["help"].menuAction(), m)
            else:
                self.menuBar().addMenu(m)
            self.menus[key] = m
        return self.menus[key]

    def add_panel(self, dock: QDockWidget, area=Qt.DockWidgetArea.RightDockWidgetArea,
                  tabify_with: QDockWidget | None = None) -> QDockWidget:
        """Dock ``dock`` (give it an objectName so its place is remembered) and list it in View ▸ Panels."""
        if not dock.objectName():
            dock.setObjectName(f"{dock.windowTitle().lower().replace(' ', '-')}-dock")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        if tabify_with is not None:
            self.tabifyDockWidget(tabify_with, dock)
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def selected_render(self):
        """The render picked in the History (None without one, or without the generation panels)."""
        generation = getattr(self, "generation", None)
        history = getattr(generation, "history", None)
        return history.selected_render() if history is not None else None

    def escape_to_canvas(self) -> None:
        """Leave a text field: the canvas gets the keyboard and nothing is selected."""
        self.workspace.show_page(self.canvas)
        self.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.document.select(None)

    # ------------------------------------------------------------ arrangement
    def restore_arrangement(self, geometry, state) -> bool:
        """The saved window geometry and panel arrangement (see :mod:`.window_layout`)."""
        self._state_restored = window_layout.restore(self, geometry, state)
        return self._state_restored

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._sized_on_show:
            self._sized_on_show = True
            if not self._state_restored:  # the default arrangement, sized for the size it opens at
                window_layout.size_docks(self)
            self.canvas.fit()

    # ----------------------------------------------------------------- chrome
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.hint_label = QLabel()
        self.coords_label = QLabel()
        self.zoom_label = QLabel()
        self.brush_label = QLabel()
        self.size_label = QLabel()
        for label in (self.coords_label, self.brush_label, self.size_label, self.zoom_label):
            label.setMinimumWidth(90)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar.addWidget(self.hint_label, 1)
        for label in (self.coords_label, self.brush_label, self.size_label, self.zoom_label):
            bar.addPermanentWidget(label)
        c = self.canvas
        c.hint_changed.connect(self.hint_label.setText)
        c.message.connect(lambda text: bar.showMessage(text, 5000))
        c.cursor_moved.connect(self._show_cursor)
        c.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        c.brush_size_changed.connect(self._brush_size_changed)
        self.document.layout.events.connect(self._on_layout_event)
        self._show_size()
        self.zoom_label.setText(f"{c.zoom() * 100:.0f}%")
        self.hint_label.setText(c.tool.hint())

    def _brush_size_changed(self, diameter: int) -> None:
        self.brush_label.setText(f"brush {diameter} px")
        settings.set_brush_diameter(diameter)

    def _show_cursor(self, pos) -> None:
        layout = self.document.layout
        if pos is None or not (0 <= pos.x() < layout.width and 0 <= pos.y() < layout.height):
            self.coords_label.setText("")
        else:
            self.coords_label.setText(f"x {int(pos.x())}  y {int(pos.y())}")

    def _show_size(self) -> None:
        self.size_label.setText(f"{self.document.layout.width} × {self.document.layout.height}")

    def _on_layout_event(self, event) -> None:
        if event.kind in ("size_changed", "reset"):
            self._show_size()

    def _rename(self, instance_id: str) -> None:
        self.document.select(instance_id)
        self.instance_editor_dock.show()
        self.instance_editor_dock.raise_()
        name = self.instance_editor_dock.widget().name
        name.setFocus()
        name.selectAll()

    def update_title(self) -> None:
        self.setWindowTitle(self.document.window_title())

    # ------------------------------------------------------------------ drops
    @staticmethod
    def dropped_files(mime) -> list[Path]:
        """The local files of a drag that Open takes (projects and PNGs)."""
        if not mime.hasUrls():
            return []
        paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        return [p for p in paths if p.suffix.lower() in OPENABLE]

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.dropped_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        paths = self.dropped_files(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # opened once the drop returns: questions (save the changes?) must not block the drag's source
        QTimer.singleShot(0, lambda: self.files.open_dropped(paths))

    # ------------------------------------------------------------- lifecycle
    def offer_recovery(self) -> bool:
        from .recovery_prompt import offer_recovery

        return offer_recovery(self)

    def closeEvent(self, event) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.autosave.stop()
        settings.save_window_state(self.saveGeometry(), window_layout.save_state(self))
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._escape)
        self.closing.emit()
        event.accept()
