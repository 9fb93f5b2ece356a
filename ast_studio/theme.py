"""The studio's dark, neutral look: Fusion style, a dark palette and a small stylesheet."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

WINDOW = "#2b2d31"
BASE = "#1f2124"
ALT_BASE = "#25272b"
TEXT = "#e3e5e8"
DIM_TEXT = "#9aa0a8"
ACCENT = "#4f9dff"
BORDER = "#3a3d42"

STYLE = f"""
QMainWindow::separator {{ background: {BORDER}; width: 3px; height: 3px; }}
QToolBar {{ background: {WINDOW}; border: none; border-bottom: 1px solid {BORDER}; spacing: 2px; padding: 3px; }}
QToolBar::separator {{ background: {BORDER}; width: 1px; margin: 4px 6px; }}
QToolButton {{ border: 1px solid transparent; border-radius: 5px; padding: 4px; color: {TEXT}; }}
QToolButton:hover {{ background: #383b41; border-color: #464a51; }}
QToolButton:checked {{ background: #2f4f78; border-color: {ACCENT}; }}
QToolButton:pressed {{ background: #24405f; }}
QDockWidget {{ color: {TEXT}; font-weight: 600; }}
QDockWidget::title {{ background: #303338; padding: 6px 8px; border-bottom: 1px solid {BORDER}; }}
QStatusBar {{ background: #232528; color: {DIM_TEXT}; border-top: 1px solid {BORDER}; }}
QStatusBar QLabel {{ color: {DIM_TEXT}; padding: 0 6px; }}
QLineEdit, QPlainTextEdit, QTextEdit {{
    background: {BASE}; color: {TEXT}; border: 1px solid {BORDER}; border-radius: 4px; padding: 3px 5px;
    selection-background-color: #35587f;
}}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border-color: {ACCENT}; }}
QListWidget {{ background: {BASE}; border: 1px solid {BORDER}; border-radius: 4px; outline: none; }}
QListWidget::item:selected {{ background: #2f4f78; }}
QLabel[role="heading"] {{ color: {DIM_TEXT}; font-size: 11px; font-weight: 600; text-transform: uppercase;
    padding-top: 6px; }}
QLabel[role="warning"] {{ color: #f2c744; }}
QPushButton {{ background: #383b41; color: {TEXT}; border: 1px solid #474b52; border-radius: 4px;
    padding: 4px 10px; }}
QPushButton:hover {{ background: #41454c; }}
QPushButton:pressed {{ background: #2f4f78; }}
QMenu {{ background: #2f3136; color: {TEXT}; border: 1px solid {BORDER}; }}
QMenu::item:selected {{ background: #2f4f78; }}
QMenuBar {{ background: {WINDOW}; color: {TEXT}; }}
QMenuBar::item:selected {{ background: #383b41; }}
QScrollBar:vertical, QScrollBar:horizontal {{ background: #232528; border: none; width: 11px; height: 11px; }}
QScrollBar::handle {{ background: #474b52; border-radius: 4px; min-height: 24px; min-width: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
"""


def dark_palette() -> QPalette:
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW, QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE, QPalette.ColorRole.AlternateBase: ALT_BASE,
        QPalette.ColorRole.ToolTipBase: "#3a3d42", QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT, QPalette.ColorRole.Button: "#35383d",
        QPalette.ColorRole.ButtonText: TEXT, QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: "#35587f", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: ACCENT, QPalette.ColorRole.PlaceholderText: "#6f757d",
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f757d"))
    return pal


def apply(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE)
