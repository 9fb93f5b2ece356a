"""The centre of the window: the canvas and, as a second page, the full schedule editor.

A page gets the whole middle of the window (the docks stay around it), so the schedule's
curves, bands and heatmap have room even on a 1366x768 screen. View ▸ Canvas (Alt+1) and
View ▸ Schedule (Alt+2) switch pages; the tab bar's right corner holds the canvas view bar
(result on the canvas, background picture).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget, QWidget


class Workspace(QTabWidget):
    def __init__(self, canvas: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workspace")
        self.setDocumentMode(True)
        self.setMovable(False)
        self.setTabBarAutoHide(True)  # a window without the Schedule page shows the canvas alone
        self.tabBar().setFocusPolicy(Qt.FocusPolicy.NoFocus)  # pages are reached with Alt+1, Alt+2, ...
        self.canvas = canvas
        self.add_page(canvas, "Canvas", "Draw the layout: each instance's shape on the canvas (Alt+1)")
        self.currentChanged.connect(self._focus_page)

    def add_page(self, widget: QWidget, title: str, tip: str) -> int:
        index = self.addTab(widget, title)
        self.setTabToolTip(index, tip)
        return index

    def show_page(self, widget: QWidget) -> None:
        """Bring ``widget``'s page to the front and give it the keyboard focus."""
        index = self.indexOf(widget)
        if index >= 0:
            self.setCurrentIndex(index)
            self._focus_page(index)

    def setCornerWidget(self, widget: QWidget, corner=Qt.Corner.TopRightCorner) -> None:  # noqa: N802
        super().setCornerWidget(widget, corner)
        self._show_corner()

    def _show_corner(self) -> None:
        """The canvas' view bar shows with the canvas page only."""
        corner = self.cornerWidget(Qt.Corner.TopRightCorner)
        if corner is not None:
            corner.setVisible(self.currentWidget() is self.canvas)

    def _focus_page(self, index: int) -> None:
        self._show_corner()
        page = self.widget(index)
        if page is not None and page.isVisible():
            page.setFocus(Qt.FocusReason.OtherFocusReason)
