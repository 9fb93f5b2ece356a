"""A render at full size in its own window (History: double-click or Enter), compared with another.

Zoom and pan as in :class:`~ast_studio.compare_view.CompareView`; "Compare with" picks a
second render of the history, shown side by side, with a swipe divider, or blended over the
first. "Use as canvas background" puts the render under the layout to trace against. One
viewer per main window: opening another render shows it in the same window.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QToolButton, QVBoxLayout, QWidget,
)

from .compare_view import BLEND, MODES, SIDE_BY_SIDE, SINGLE, SWIPE, CompareView

MODE_TIPS = {
    SINGLE: "Only this render",
    SIDE_BY_SIDE: "The two renders next to each other, zoomed and panned together",
    SWIPE: "One picture over the other: drag the divider to wipe between them",
    BLEND: "The second render over the first at the opacity of the slider",
}


def decode(render) -> QImage | None:
    image = QImage.fromData(bytes(render.image_png), "PNG")
    return None if image.isNull() else image


class RenderViewer(QWidget):
    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent or window, Qt.WindowType.Window)
        self.main_window = window
        self.document = window.document
        self.render = None
        self.other = None
        self.setObjectName("render-viewer")
        self.view = CompareView()
        self.compare = QComboBox()
        self.compare.setToolTip("A second render of the history to compare this one with")
        self.compare.setMinimumContentsLength(18)
        self.compare.currentIndexChanged.connect(lambda _i: self._pick_other())
        self.mode_buttons: dict[str, QToolButton] = {}
        self.modes = QButtonGroup(self)
        self.modes.setExclusive(True)
        for mode in MODES:
            b = QToolButton()
            b.setText(mode.capitalize())
            b.setCheckable(True)
            b.setToolTip(MODE_TIPS[mode])
            b.clicked.connect(lambda _c=False, m=mode: self.set_mode(m))
            self.modes.addButton(b)
            self.mode_buttons[mode] = b
        self.mode_buttons[SINGLE].setChecked(True)
        self.blend = QSlider(Qt.Orientation.Horizontal)
        self.blend.setRange(0, 100)
        self.blend.setValue(50)
        self.blend.setFixedWidth(110)
        self.blend.setToolTip("Opacity of the second render over the first")
        self.blend.valueChanged.connect(lambda v: self.view.set_blend(v / 100))
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("The whole picture in the window (0)")
        self.fit_button.clicked.connect(self.view.fit)
        self.actual_button = QPushButton("100%")
        self.actual_button.setToolTip("One picture pixel per screen pixel (1)")
        self.actual_button.clicked.connect(self.view.actual_size)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(44)
        self.background_button = QPushButton("Use as canvas background")
        self.background_button.setToolTip("Put this render under the layout, to trace or correct shapes against it "
                                          "(Canvas ▸ Background; saved with the project)")
        self.background_button.clicked.connect(self.use_as_background)
        self.caption = QLabel("")
        self.caption.setStyleSheet("color: #9aa0a8;")
        self.caption.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Compare with"))
        bar.addWidget(self.compare)
        for mode in MODES:
            bar.addWidget(self.mode_buttons[mode])
        bar.addWidget(self.blend)
        bar.addStretch(1)
        bar.addWidget(self.zoom_label)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.actual_button)
        bar.addWidget(self.background_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 6, 6, 6)
        box.addLayout(bar)
        box.addWidget(self.view, 1)
        box.addWidget(self.caption)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        self.document.part_changed.connect(lambda name: self._fill_compare() if name == "renders" else None)
        screen = window.screen().availableGeometry() if window.screen() else None
        if screen is not None:
            self.resize(int(screen.width() * 0.8), int(screen.height() * 0.85))
        else:
            self.resize(1200, 900)

    # ------------------------------------------------------------------ content
    def show_render(self, render) -> None:
        from .generation import history

        self.render = render
        self.setWindowTitle(f"Render · {history.short_summary(render)} — AST Studio")
        self.caption.setText(history.summary(render) + (f" · {render.created}" if render.created else ""))
        if self.other is not None and self.other.id == render.id:
            self.other = None
        self._fill_compare()
        self._show()

    def _fill_compare(self) -> None:
        from .generation import history

        if self.render is None:
            return
        self.compare.blockSignals(True)
        self.compare.clear()
        self.compare.addItem("nothing (this render alone)", None)
        for number, r in reversed(list(enumerate(self.document.renders, 1))):
            if r.id != self.render.id:
                self.compare.addItem(f"#{number} · {history.short_summary(r)}", r.id)
        index = self.compare.findData(self.other.id) if self.other is not None else 0
        if index < 0:
            self.other, index = None, 0
        self.compare.setCurrentIndex(index)
        self.compare.blockSignals(False)
        self._show()

    def _pick_other(self) -> None:
        rid = self.compare.currentData()
        self.other = next((r for r in self.document.renders if r.id == rid), None)
        self._show()
        if self.view.b is not None and self.view.mode == SINGLE:
            self.set_mode(SIDE_BY_SIDE)

    def compare_with(self, render) -> None:
        """Compare with ``render`` (tests, and the History's second pick)."""
        index = self.compare.findData(render.id if render is not None else None)
        self.compare.setCurrentIndex(max(0, index))

    def _number(self, render) -> str:
        ids = [r.id for r in self.document.renders]
        return f"#{ids.index(render.id) + 1}" if render.id in ids else ""

    def _show(self) -> None:
        from .generation import history

        if self.render is None:
            return
        a = decode(self.render)
        b = decode(self.other) if self.other is not None else None
        labels = (f"{self._number(self.render)} {history.short_summary(self.render)}".strip(),
                  f"{self._number(self.other)} {history.short_summary(self.other)}".strip() if self.other else "")
        self.view.set_pictures(a, b, labels)
        has_b = b is not None
        for mode, button in self.mode_buttons.items():
            button.setEnabled(has_b or mode == SINGLE)
            button.setToolTip(MODE_TIPS[mode] if has_b or mode == SINGLE else
                              f"{MODE_TIPS[mode]} (first pick a render in “Compare with”)")
        if not has_b:
            self.mode_buttons[SINGLE].setChecked(True)
        self.blend.setVisible(self.view.mode == BLEND)

    def set_mode(self, mode: str) -> None:
        self.view.set_mode(mode)
        self.mode_buttons[self.view.mode].setChecked(True)
        self.blend.setVisible(self.view.mode == BLEND)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)

    # ------------------------------------------------------------------ actions
    def use_as_background(self) -> bool:
        from .picture_actions import use_render_as_background

        return self.render is not None and use_render_as_background(self.main_window, self.render)


def open_render_viewer(window, render) -> RenderViewer:
    """Show ``render`` full size in the window's viewer (created on first use)."""
    viewer = getattr(window, "render_viewer", None)
    if viewer is None:
        viewer = window.render_viewer = RenderViewer(window)
    viewer.show_render(render)
    viewer.show()
    viewer.raise_()
    viewer.activateWindow()
    viewer.view.setFocus()
    return viewer


def connect_viewer(window) -> None:
    """History: a double-click (or Enter) on a render opens it in the viewer."""
    window.generation.history.open_requested.connect(lambda render: open_render_viewer(window, render))
