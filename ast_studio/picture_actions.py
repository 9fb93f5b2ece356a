"""Pictures on the canvas: the result view (R) and the background picture, as actions and a view bar.

* **Result** (a view setting of the window, not saved): the picture of the Preview pane (the
  render in progress, the last render, or the one picked in the History) shown on the canvas,
  over or under the layout, at an opacity. **R** toggles between the layout and the result.
* **Background** (part of the project, undoable): a render or any picture under the layout at
  an opacity, to trace shapes against (Canvas ▸ Background).

The view bar sits in the right corner of the workspace's tab bar, above the canvas.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QLabel, QMenu, QMessageBox, QSlider, QToolButton, QWidget,
)

from .canvas.background import (
    PICTURE_FILTER, PictureError, SetBackground, opacity_command, picture_background, render_background,
    visibility_command,
)
from .panels import typing_sessions as typing


def render_label(render) -> str:
    """How a render is named as a background: its seed and when it was made."""
    from .generation import history

    seed = history.seed_of(render)
    return f"render, seed {seed}" if seed != "" else "render"


def use_render_as_background(window, render) -> bool:
    """Put a history render under the layout (one undo step)."""
    if render is None:
        window.statusBar().showMessage("Pick a render in the History first.", 6000)
        return False
    current = window.document.background
    opacity = current.opacity if current is not None else 0.5
    background = render_background(render, render_label(render), opacity)
    window.document.undo_stack.push(SetBackground(window.document, background, "Use render as background"))
    window.statusBar().showMessage("The render is the canvas background now (Canvas ▸ Background).", 6000)
    return True


def import_background_picture(window, path: str | Path | None = None) -> bool:
    """Ask for a picture (or take ``path``) and put it under the layout (one undo step)."""
    if path is None:
        path, _ = QFileDialog.getOpenFileName(window, "Picture to trace (canvas background)", "", PICTURE_FILTER)
        if not path:
            return False
    doc = window.document
    current = doc.background
    try:
        background = picture_background(path, (doc.layout.width, doc.layout.height),
                                        current.opacity if current is not None else 0.5)
    except PictureError as e:
        message = f"Cannot use it as the canvas background: {e}"
        window.statusBar().showMessage(message, 10000)
        QMessageBox.warning(window, "Canvas background", message)
        return False
    doc.undo_stack.push(SetBackground(doc, background, f"Background picture {Path(path).name}"))
    return True


def remove_background(window) -> None:
    if window.document.background is not None:
        window.document.undo_stack.push(SetBackground(window.document, None, "Remove background"))


def _opacity_slider(tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setSingleStep(5)
    slider.setPageStep(25)
    slider.setMinimumWidth(44)  # gives way first when the window is narrow
    slider.setMaximumWidth(90)
    slider.setToolTip(tip)
    return slider


class CanvasViewBar(QWidget):
    """Result toggle, over/under, result opacity; the background menu and its opacity."""

    def sizeHint(self):  # noqa: N802 - Qt's name
        """At most the room the page tabs leave beside them: QTabWidget gives a corner widget its
        size hint and squeezes the tabs ("Canv‹›") in a narrow window; the sliders give way instead."""
        hint = super().sizeHint()
        workspace = self.parentWidget()
        if workspace is not None and hasattr(workspace, "tabBar") and workspace.tabBar().isVisible():
            room = workspace.width() - workspace.tabBar().sizeHint().width() - 8
            hint.setWidth(max(self.minimumSizeHint().width(), min(hint.width(), room)))
        return hint

    def __init__(self, window, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.document = window.document
        canvas = window.canvas
        self.result_button = QToolButton()
        self.result_button.setDefaultAction(actions["show_result"])
        self.result_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.placement = QToolButton()  # over / under the layout: a compact switch
        self.placement.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.placement.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.placement.setToolTip("Where the result goes: over the layout (it covers it, at its opacity) or under "
                                  "it (the instances become see-through so the picture shows)")
        placement_menu = QMenu(self.placement)
        self.over_action = placement_menu.addAction("Over the layout", lambda: canvas.set_result_over(True))
        self.under_action = placement_menu.addAction("Under the layout", lambda: canvas.set_result_over(False))
        for a in (self.over_action, self.under_action):
            a.setCheckable(True)
        self.placement.setMenu(placement_menu)
        self.result_opacity = _opacity_slider("Opacity of the result on the canvas")
        self.result_opacity.setValue(round(canvas.result_opacity * 100))
        self.result_opacity.valueChanged.connect(lambda v: canvas.set_result_opacity(v / 100))
        self.background_button = QToolButton()
        self.background_button.setText("Background ▾")
        self.background_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.background_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0; }")
        self.background_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.background_button.setMenu(window.background_menu)
        self.background_button.setToolTip("A picture under the layout to trace shapes against: a render or any "
                                          "picture; saved with the project")
        self.background_opacity = _opacity_slider("Opacity of the background picture (saved with the project)")
        typing.watch(self.background_opacity)  # leaving the slider ends its undo step
        self.background_opacity.sliderPressed.connect(typing.new_session)
        self.background_opacity.sliderReleased.connect(typing.new_session)
        self.background_opacity.valueChanged.connect(self._background_opacity_moved)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 6, 0)
        row.setSpacing(4)
        row.addWidget(self.result_button)
        row.addWidget(self.placement)
        row.addWidget(self.result_opacity)
        separator = QLabel("│")
        separator.setStyleSheet("color: #4a4e55;")
        row.addWidget(separator)
        row.addWidget(self.background_button)
        row.addWidget(self.background_opacity)
        self._syncing = False
        self.placement.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0; }")
        self._show_result_view(canvas.result_shown, canvas.result_over, canvas.result_opacity)
        canvas.result_view_changed.connect(self._show_result_view)
        self.document.part_changed.connect(lambda name: self.refresh() if name == "background" else None)
        self.refresh()

    def _show_result_view(self, shown: bool, over: bool, opacity: float) -> None:
        self.placement.setText("over ▾" if over else "under ▾")
        self.over_action.setChecked(over)
        self.under_action.setChecked(not over)
        self.result_opacity.blockSignals(True)
        self.result_opacity.setValue(round(opacity * 100))
        self.result_opacity.blockSignals(False)

    def _background_opacity_moved(self, value: int) -> None:
        if self._syncing:
            return
        cmd = opacity_command(self.document, value / 100, typing.current())
        if cmd is not None:
            self.document.undo_stack.push(cmd)

    def refresh(self) -> None:
        background = self.document.background
        self._syncing = True
        try:
            self.background_opacity.setEnabled(background is not None)
            if background is not None:
                self.background_opacity.setValue(round(background.opacity * 100))
        finally:
            self._syncing = False


def build_picture_actions(window) -> dict[str, QAction]:
    """The result and background actions, the Canvas ▸ Background menu and the view bar."""
    from .window_actions import _action

    doc, canvas = window.document, window.canvas
    acts: dict[str, QAction] = {}
    acts["show_result"] = _action(window, "Show the &result on the canvas", None, "R", "picture",
                                  "Show the result of the render on the canvas instead of the layout alone "
                                  "(the Preview's picture: the last render, or the one picked in the History)",
                                  checkable=True)
    acts["show_result"].setIconText("Result")  # the view bar's button
    acts["show_result"].toggled.connect(lambda on: canvas.show_result(on) if on != canvas.result_shown else None)
    acts["result_over"] = _action(window, "Result &over the layout", None, None, None,
                                  "On: the result covers the layout at its opacity. Off: it goes under the layout "
                                  "and the instances become see-through", checkable=True)
    acts["result_over"].setChecked(canvas.result_over)
    acts["result_over"].toggled.connect(canvas.set_result_over)

    def follow(shown: bool, over: bool, _opacity: float) -> None:
        for key, value in (("show_result", shown), ("result_over", over)):
            if acts[key].isChecked() != value:
                acts[key].blockSignals(True)
                acts[key].setChecked(value)
                acts[key].blockSignals(False)

    canvas.result_view_changed.connect(follow)

    acts["background_import"] = _action(window, "&Import a picture…", lambda: import_background_picture(window),
                                        None, None, "Put a picture (PNG, JPEG, WebP, ...) under the layout to trace "
                                        "shapes against; it is saved with the project")
    acts["background_render"] = _action(window, "Use the selected &render",
                                        lambda: use_render_as_background(window, window.selected_render()), None,
                                        None, "Put the render selected in the History under the layout")
    acts["background_show"] = _action(window, "&Show the background", None, "Shift+B", None,
                                      "Show or hide the background picture", checkable=True)

    def show_background(on: bool) -> None:
        cmd = visibility_command(doc, on)
        if cmd is not None:
            doc.undo_stack.push(cmd)

    acts["background_show"].toggled.connect(show_background)
    acts["background_remove"] = _action(window, "Re&move the background", lambda: remove_background(window),
                                        None, None, "Take the background picture out of the project")
    menu = QMenu("&Background", window)
    menu.setToolTipsVisible(True)
    menu.addActions([acts["background_import"], acts["background_render"]])
    menu.addSeparator()
    menu.addActions([acts["background_show"], acts["background_remove"]])
    window.background_menu = menu

    def refresh(_name=None) -> None:
        background = doc.background
        acts["background_show"].blockSignals(True)
        acts["background_show"].setChecked(background is not None and background.visible)
        acts["background_show"].blockSignals(False)
        for key in ("background_show", "background_remove"):
            acts[key].setEnabled(background is not None)
        problem = window.canvas.scene().background_problem
        if problem:
            window.statusBar().showMessage(problem.capitalize(), 8000)

    doc.part_changed.connect(lambda name: refresh() if name == "background" else None)
    menu.aboutToShow.connect(lambda: acts["background_render"].setEnabled(window.selected_render() is not None))
    refresh()
    window.canvas_view_bar = CanvasViewBar(window, acts)
    return acts

