"""Where the panels go: the default arrangement for the screen, View ▸ Reset layout, the saved
arrangement (with a version), and keys that reach every panel.

Default, on any screen from 1280x800 up: Preview over Generate on the left, Instances over the
Instance editor on the right (both full height: every instance row of a typical layout shows),
Prompts and History under the canvas. Widths and heights follow the window's size, so a
1366x768 laptop keeps a canvas that shows the whole page, and the window can be made as
narrow as about 1000 pixels. The window remembers how you arranged the panels (``saveState`` with
:data:`LAYOUT_VERSION`); a state saved by a version with other panels is not restored (the
default is used instead) and a panel floating off every screen comes back docked.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QWidget

#: bump when panels are added, removed or renamed: an older saved arrangement is then ignored
LAYOUT_VERSION = 2

LEFT, RIGHT, BOTTOM = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                       Qt.DockWidgetArea.BottomDockWidgetArea)

#: (window attribute of the dock, its owner attribute or "", area, the dock it splits from, orientation)
DEFAULT_PLACES = (
    ("preview_dock", "generation", LEFT, None, None),
    ("generate_dock", "generation", LEFT, "preview_dock", Qt.Orientation.Vertical),
    ("instances_dock", "", RIGHT, None, None),
    ("instance_editor_dock", "", RIGHT, "instances_dock", Qt.Orientation.Vertical),
    ("prompts_dock", "", BOTTOM, None, None),
    ("history_dock", "generation", BOTTOM, "prompts_dock", Qt.Orientation.Horizontal),
)


def _clamp(value: float, lo: int, hi: int) -> int:
    return int(max(lo, min(hi, value)))


def docks(window) -> dict[str, QDockWidget]:
    """The window's panels by their attribute name (those it has: a window may lack the generation panels)."""
    out = {}
    for name, owner, *_ in DEFAULT_PLACES:
        holder = getattr(window, owner, None) if owner else window
        dock = getattr(holder, name, None) if holder is not None else None
        if isinstance(dock, QDockWidget):
            out[name] = dock
    return out


def arrange(window) -> None:
    """Every panel docked in its default place, shown, and sized for the window's current size."""
    found = docks(window)
    window.setCorner(Qt.Corner.BottomLeftCorner, LEFT)
    window.setCorner(Qt.Corner.BottomRightCorner, RIGHT)
    for dock in window.findChildren(QDockWidget):
        dock.setFloating(False)
    for name, _owner, area, beside, orientation in DEFAULT_PLACES:
        dock = found.get(name)
        if dock is None:
            continue
        window.removeDockWidget(dock)
        if beside is not None and beside in found:
            window.addDockWidget(area, dock)
            window.splitDockWidget(found[beside], dock, orientation)
        else:
            window.addDockWidget(area, dock)
        dock.show()
    size_docks(window)


def size_docks(window) -> None:
    """Column widths and row heights from the window's size (called again once it is shown)."""
    found = docks(window)
    w, h = max(window.width(), 800), max(window.height(), 560)
    left, right = _clamp(w * 0.2, 250, 380), _clamp(w * 0.21, 260, 400)
    bottom = _clamp(h * 0.24, 170, 250)
    column = h - 110  # minus menu bar, toolbar and status bar

    def sized(names, values, orientation) -> None:
        pairs = [(found[n], v) for n, v in zip(names, values) if n in found and found[n].isVisible()
                 and not found[n].isFloating()]
        if pairs:
            window.resizeDocks([d for d, _ in pairs], [v for _, v in pairs], orientation)

    sized(["preview_dock", "instances_dock"], [left, right], Qt.Orientation.Horizontal)
    sized(["prompts_dock"], [bottom], Qt.Orientation.Vertical)
    preview = _clamp(min(left + 10, column * 0.42), 180, 400)
    sized(["preview_dock", "generate_dock"], [preview, column - preview], Qt.Orientation.Vertical)
    editor_dock = found.get("instance_editor_dock")
    needed = editor_dock.minimumSizeHint().height() + 6 if editor_dock is not None else 260
    # the editor's fields at ease, the list the rest (at least six rows of a typical layout)
    editor = _clamp(min(max(needed, column * 0.38), column - 300), 200, 360)
    sized(["instances_dock", "instance_editor_dock"], [column - editor, editor], Qt.Orientation.Vertical)
    middle = w - left - right
    sized(["prompts_dock", "history_dock"], [round(middle * 0.58), round(middle * 0.42)], Qt.Orientation.Horizontal)


def reset(window) -> None:
    """View ▸ Reset layout: the default arrangement, every panel back, the canvas page in front."""
    arrange(window)
    workspace = getattr(window, "workspace", None)
    if workspace is not None:
        workspace.setCurrentIndex(0)
    window.canvas.fit()
    window.statusBar().showMessage("Panels are back in their default places.", 5000)


def save_state(window) -> bytes:
    return window.saveState(LAYOUT_VERSION)


def restore(window, geometry, state) -> bool:
    """Restore a saved window geometry and panel arrangement; False (default kept) when the
    arrangement is from another layout version or does not restore."""
    if geometry is not None:
        window.restoreGeometry(geometry)
    restored = state is not None and bool(window.restoreState(state, LAYOUT_VERSION))
    if restored:
        bring_back_floating_docks(window)
    return restored


def bring_back_floating_docks(window) -> None:
    """A panel left floating where no screen is now (a monitor unplugged) is docked again."""
    screens = [s.availableGeometry() for s in QGuiApplication.screens()]
    for dock in window.findChildren(QDockWidget):
        if dock.isFloating() and not any(g.intersects(dock.frameGeometry()) for g in screens):
            dock.setFloating(False)


# ------------------------------------------------------------------ reaching panels by keyboard
#: (label, key, how to find it): pages of the workspace and the docks, in the order F6 visits them
PANEL_KEYS = (
    ("Canvas", "Alt+1", "canvas"), ("Schedule", "Alt+2", "schedule_panel"),
    ("Instances", "Alt+3", "instances_dock"), ("Instance editor", "Alt+4", "instance_editor_dock"),
    ("Prompts", "Alt+5", "prompts_dock"), ("Generate", "Alt+6", "generate_dock"),
    ("Preview", "Alt+7", "preview_dock"), ("History", "Alt+8", "history_dock"),
)


def panel_widget(window, key: str) -> QWidget | None:
    if key in ("canvas", "schedule_panel"):
        return getattr(window, key, None)
    return docks(window).get(key)


def go_to_panel(window, key: str) -> bool:
    """Show the panel (or page), bring it to the front and put the keyboard focus in it."""
    target = panel_widget(window, key)
    if target is None:
        return False
    workspace = getattr(window, "workspace", None)
    if isinstance(target, QDockWidget):
        target.show()
        target.raise_()
        focus_first(target.widget())
    elif workspace is not None and workspace.indexOf(target) >= 0:
        workspace.show_page(target)
        if key != "canvas":
            focus_first(target)
    else:
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)
    return True


def focus_first(widget: QWidget | None) -> None:
    """Focus the panel's preferred widget (``focus_target``), else its first one that takes Tab."""
    if widget is None:
        return
    preferred = getattr(widget, "focus_target", None)
    if callable(preferred):
        preferred = preferred()
    if isinstance(preferred, QWidget) and preferred.isVisible() and preferred.isEnabled():
        preferred.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return
    w = widget.nextInFocusChain()
    for _ in range(500):
        if w is widget or w is None:
            break
        if widget.isAncestorOf(w) and w.isVisible() and w.isEnabled() \
                and w.focusPolicy() & Qt.FocusPolicy.TabFocus:
            w.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        w = w.nextInFocusChain()
    widget.setFocus(Qt.FocusReason.ShortcutFocusReason)


def current_panel(window) -> str | None:
    """The key of the panel holding the keyboard focus (None: none of them)."""
    from PySide6.QtWidgets import QApplication

    focus = QApplication.focusWidget()
    for _label, _keys, key in PANEL_KEYS:
        target = panel_widget(window, key)
        if target is not None and focus is not None and (target is focus or target.isAncestorOf(focus)):
            return key
    return None


def cycle_panels(window, step: int = 1) -> str | None:
    """F6 / Shift+F6: the next (previous) panel that is shown."""
    keys = [k for _l, _s, k in PANEL_KEYS if panel_widget(window, k) is not None]
    if not keys:
        return None
    now = current_panel(window)
    start = keys.index(now) if now in keys else -step
    for i in range(1, len(keys) + 1):
        key = keys[(start + step * i) % len(keys)]
        target = panel_widget(window, key)
        if isinstance(target, QDockWidget) and not target.isVisible():
            continue
        go_to_panel(window, key)
        return key
    return None


def enlarge_preview(window) -> bool:
    """The Preview pane's Enlarge button: float it large over the window, or dock it back.
    Returns True when it is large now."""
    dock = docks(window).get("preview_dock")
    if dock is None:
        return False
    if dock.isFloating():
        dock.setFloating(False)
        window.statusBar().showMessage("The preview is back in its place.", 4000)
        return False
    screen = window.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry() if screen is not None else window.geometry()
    side = int(min(area.width(), area.height()) * 0.85)
    dock.setFloating(True)
    dock.resize(min(area.width() - 40, int(side * 1.05)), side)
    dock.move(area.center().x() - dock.width() // 2, area.center().y() - dock.height() // 2)
    dock.show()
    dock.raise_()
    window.statusBar().showMessage("The preview is large: Enlarge (or a double-click) puts it back.", 6000)
    return True
