"""The keyboard shortcuts list (Help ▸ Keyboard shortcuts, F1), built from the window itself.

Menu keys are read from the QActions of the menu bar at the moment the list opens, so the list
cannot go stale: an action that gains, changes or loses a key shows it. Keys that are not
actions (inside a tool, on the canvas, in the lists) come from the classes that handle them
(``Tool.keys``, :data:`CANVAS_KEYS`).
"""
from __future__ import annotations

import html

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

#: keys the canvas view itself handles (see CanvasView.keyPressEvent / wheelEvent)
CANVAS_KEYS = (
    ("Space + drag, or the middle button", "pan the canvas"),
    ("mouse wheel", "zoom at the cursor"),
    ("Esc in a text field", "back to the canvas, nothing selected (the next drawing makes a new instance)"),
    ("double-click an instance row", "rename it"),
    ("Enter or double-click a History picture", "open it full size"),
)


def action_rows(menu_bar_menus) -> list[tuple[str, str, str]]:
    """``(menu, keys, what)`` for every action with a shortcut, in menu order (submenus too)."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def walk(menu, title: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if sub is not None:
                walk(sub, f"{title} ▸ {action.text().replace('&', '')}")
                continue
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
            keys = [k for k in keys if k]
            if not keys or id(action) in seen:
                continue
            seen.add(id(action))
            rows.append((title, " or ".join(keys), action.text().replace("&", "").rstrip("…").strip()))

    for menu in menu_bar_menus:
        walk(menu, menu.title().replace("&", ""))
    return rows


def loose_action_rows(window) -> list[tuple[str, str, str]]:
    """Actions on the window with a key that no menu lists (still working shortcuts)."""
    in_menus = {id(a) for m in window.menus.values() for a in _all_actions(m)}
    rows = []
    for action in window.actions():
        if not isinstance(action, QAction) or id(action) in in_menus:
            continue
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        if keys:
            rows.append(("Other", " or ".join(keys), action.text().replace("&", "")))
    return rows


def _all_actions(menu) -> list:
    out = []
    for a in menu.actions():
        out.append(a)
        if a.menu() is not None:
            out.extend(_all_actions(a.menu()))
    return out


def tool_rows(window) -> list[tuple[str, str, str]]:
    rows = []
    for tool in window.canvas.tools.values():
        for keys, what in tool.keys:
            rows.append((f"{tool.label} tool ({tool.shortcut})", keys, what))
    return rows


def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """Everything the list shows: menu actions, tool keys, canvas keys."""
    return (action_rows(window.menus.values()) + loose_action_rows(window) + tool_rows(window)
            + [("Canvas", keys, what) for keys, what in CANVAS_KEYS])


def shortcuts_html(rows) -> str:
    parts = ["<style>td { padding: 2px 10px 2px 0; } th { text-align: left; padding-top: 10px; color: #9aa0a8; }"
             " td.k { font-weight: 600; white-space: nowrap; }</style><table width='100%'>"]
    section = None
    for title, keys, what in rows:
        if title != section:
            section = title
            parts.append(f"<tr><th colspan='2'>{html.escape(title)}</th></tr>")
        parts.append(f"<tr><td class='k' width='32%'>{html.escape(keys)}</td><td>{html.escape(what)}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


class ShortcutsDialog(QDialog):
    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = shortcut_rows(window)
        self.text = QTextBrowser()
        self.text.setToolTip("Every key of the menus (read from them now), of the tools and of the canvas")
        self.text.setHtml(shortcuts_html(self.rows))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setToolTip("Close this list (Esc)")
        box = QVBoxLayout(self)
        box.addWidget(self.text)
        box.addWidget(buttons)
        screen = window.screen().availableGeometry() if window.screen() else None
        self.resize(min(720, screen.width() - 80) if screen else 720, min(720, screen.height() - 80) if screen else 640)


def show_shortcuts(window) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.setModal(False)
    dialog.show()
    window.shortcuts_dialog = dialog  # kept alive while open; tests read it
    return dialog
