"""Menus, toolbar and shortcuts of the main window."""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMessageBox, QSpinBox, QToolButton, QWidget, QSizePolicy

from . import icons, settings
from .canvas.view import BRUSH_SIZES
from .canvas_size import PRESETS, CanvasSizeDialog, ask_to_scale
from .commands import RemoveInstances, SetCanvasSize, duplicate_instance
from .panels.instance_list import append_to_base_prompt_command


SHORTCUTS_TEXT = """\
B  brush      P  polygon      E  eraser      V  select / move
[ ]  smaller / bigger brush      Esc  deselect (the next drawing makes a new instance)
Polygon: click vertices, double-click or Enter closes, Backspace removes the last, Esc cancels
Select: click picks the top-most instance, drag or arrow keys (Shift: 10 px) move it, Delete removes it
+ / -  zoom      mouse wheel  zoom at the cursor      Ctrl+0  fit      Ctrl+1  100%      N  names on/off
Space + drag (or middle button)  pan
Ctrl+Z  undo      Ctrl+Shift+Z  redo      Ctrl+D  duplicate instance      double-click a row  rename
Ctrl+N / Ctrl+O / Ctrl+S / Ctrl+Shift+S  new / open / save / save as"""


def _action(window, text, slot=None, shortcut=None, icon=None, tip=None, checkable=False) -> QAction:
    a = QAction(text, window)
    if icon:
        a.setIcon(icons.icon(icon))
    if shortcut:
        a.setShortcuts([QKeySequence(s) for s in (shortcut if isinstance(shortcut, (list, tuple)) else [shortcut])])
    if tip or shortcut:
        keys = shortcut[0] if isinstance(shortcut, (list, tuple)) else shortcut
        a.setToolTip(f"{tip or text.replace('&', '')}" + (f"  ({keys})" if keys else ""))
    a.setCheckable(checkable)
    if slot is not None:
        a.triggered.connect(lambda _checked=False: slot())
    window.addAction(a)
    return a


def set_canvas_size(window, width: int, height: int) -> bool:
    """Resize the canvas (one undo step); with instances drawn, ask whether they scale with it."""
    layout = window.document.layout
    if (width, height) == (layout.width, layout.height):
        return False
    drawn = [i for i in layout.instances if not i.is_empty]
    scale = False
    if drawn:
        scale = ask_to_scale(window, len(drawn), (layout.width, layout.height), (width, height))
        if scale is None:
            return False
    window.document.undo_stack.push(SetCanvasSize(window.document, width, height, scale_instances=scale))
    return True


def custom_canvas_size(window) -> None:
    layout = window.document.layout
    dialog = CanvasSizeDialog(layout.width, layout.height, window)
    if dialog.exec():
        set_canvas_size(window, *dialog.size())


def build_actions(window) -> dict[str, QAction]:
    doc, canvas, files = window.document, window.canvas, window.files
    acts: dict[str, QAction] = {}

    # ------------------------------------------------------------------- File
    m = window.menu("file")
    acts["new"] = _action(window, "&New", files.new, QKeySequence.StandardKey.New, "new", "New project")
    acts["open"] = _action(window, "&Open…", files.open, QKeySequence.StandardKey.Open, "open",
                           "Open a project, or the project of a PNG rendered by AST Studio")
    recent = m.addMenu("Open &Recent")
    acts["save"] = _action(window, "&Save", files.save, QKeySequence.StandardKey.Save, "save", "Save the project")
    acts["save_as"] = _action(window, "Save &As…", files.save_as, "Ctrl+Shift+S")
    for key in ("new", "open"):
        m.insertAction(recent.menuAction(), acts[key])
    m.addActions([acts["save"], acts["save_as"]])
    m.addSeparator()
    imports = m.addMenu("&Import")
    acts["import_seed"] = _action(window, "Seed &sketch (colour PNG + JSON)…", files.import_seed_sketch)
    acts["import_boxes"] = _action(window, "&Boxes (JSON)…", files.import_boxes)
    acts["import_masks"] = _action(window, "&Masks (black/white images)…", files.import_masks)
    imports.addActions([acts["import_seed"], acts["import_boxes"], acts["import_masks"]])
    window.export_menu = m.addMenu("&Export")
    from .exports import add_export_actions

    acts.update(add_export_actions(window, window.export_menu))
    m.addSeparator()
    acts["quit"] = _action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    m.addAction(acts["quit"])

    def fill_recent() -> None:
        recent.clear()
        paths = settings.recent_files()
        for p in paths:
            recent.addAction(str(p), partial(files.open_path, p))
        if paths:
            recent.addSeparator()
            recent.addAction("Clear the list", settings.clear_recent_files)
        else:
            recent.addAction("(no recent projects)").setEnabled(False)

    recent.aboutToShow.connect(fill_recent)
    window.recent_menu = recent

    # ------------------------------------------------------------------- Edit
    m = window.menu("edit")
    undo = doc.undo_stack.createUndoAction(window, "&Undo")
    undo.setShortcuts([QKeySequence("Ctrl+Z")])
    undo.setIcon(icons.icon("undo"))
    redo = doc.undo_stack.createRedoAction(window, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    redo.setIcon(icons.icon("redo"))
    for a in (undo, redo):
        window.addAction(a)
    acts["undo"], acts["redo"] = undo, redo
    def selected_id():
        return doc.selected_id

    def remove() -> None:
        if selected_id():
            doc.undo_stack.push(RemoveInstances(doc, [selected_id()]))

    def duplicate() -> None:
        if selected_id():
            doc.undo_stack.push(duplicate_instance(doc, selected_id()))

    def append() -> None:
        inst = doc.selected()
        if inst is not None and inst.prompt.strip():
            doc.undo_stack.push(append_to_base_prompt_command(doc, inst.id))

    acts["delete"] = _action(window, "&Delete instance", remove, QKeySequence.StandardKey.Delete,
                             "remove")
    acts["duplicate"] = _action(window, "D&uplicate instance", duplicate, "Ctrl+D", "duplicate")
    acts["deselect"] = _action(window, "Select &none", lambda: doc.select(None), "Ctrl+Shift+A")
    acts["append"] = _action(window, "&Append instance text to base prompt", append, None, "append")
    m.addActions([undo, redo])
    m.addSeparator()
    m.addActions([acts["duplicate"], acts["delete"], acts["deselect"], acts["append"]])

    def selection_changed(_id=None) -> None:
        has = doc.selected_id is not None
        for key in ("delete", "duplicate", "append"):
            acts[key].setEnabled(has)

    doc.selection_changed.connect(selection_changed)
    selection_changed()

    # ----------------------------------------------------------------- Canvas
    m = window.menu("canvas")
    group = QActionGroup(window)
    group.setExclusive(True)
    for name, label, key in (("brush", "&Brush", "B"), ("polygon", "&Polygon", "P"), ("eraser", "&Eraser", "E"),
                             ("select", "&Select / move", "V")):
        a = _action(window, label, partial(canvas.set_tool, name), key, name if name != "select" else "select",
                    checkable=True)
        group.addAction(a)
        m.addAction(a)
        acts[f"tool_{name}"] = a
    canvas.tool_changed.connect(lambda name: acts[f"tool_{name}"].setChecked(True))
    acts[f"tool_{canvas.tool.name}"].setChecked(True)
    m.addSeparator()
    acts["brush_bigger"] = _action(window, "Bigger brush", lambda: canvas.step_brush_size(+1), "]")
    acts["brush_smaller"] = _action(window, "Smaller brush", lambda: canvas.step_brush_size(-1), "[")
    acts["erase_all"] = _action(window, "Eraser erases &all instances", None, None, None,
                                "Eraser: erase from every instance instead of the selected one", checkable=True)
    acts["erase_all"].toggled.connect(canvas.set_erase_all)
    m.addActions([acts["brush_bigger"], acts["brush_smaller"], acts["erase_all"]])
    m.addSeparator()
    sizes = m.addMenu("Canvas &size")
    for label, w, h in PRESETS:
        sizes.addAction(label, partial(set_canvas_size, window, w, h))
    sizes.addSeparator()
    sizes.addAction("&Custom…", partial(custom_canvas_size, window))
    window.canvas_size_menu = sizes

    # ------------------------------------------------------------------- View
    m = window.menu("view")
    acts["zoom_in"] = _action(window, "Zoom &in", canvas.zoom_in, ["+", "=", "Ctrl++"], "zoom-in")
    acts["zoom_out"] = _action(window, "Zoom &out", canvas.zoom_out, ["-", "Ctrl+-"], "zoom-out")
    acts["fit"] = _action(window, "&Fit to window", canvas.fit, "Ctrl+0", "fit")
    acts["actual"] = _action(window, "&Actual size (100%)", canvas.actual_size, "Ctrl+1")
    acts["show_names"] = _action(window, "Show instance &names", None, "N", None,
                                 "Show each instance's name on the canvas", checkable=True)
    acts["show_names"].setChecked(True)
    acts["show_names"].toggled.connect(canvas.scene().show_names)
    first = m.actions()[0] if m.actions() else None
    for key in ("zoom_in", "zoom_out", "fit", "actual"):
        m.insertAction(first, acts[key])
    m.insertSeparator(first)
    m.insertAction(first, acts["show_names"])
    m.insertSeparator(first)

    # ------------------------------------------------------------------- Help
    m = window.menu("help")
    acts["shortcuts"] = _action(window, "&Keyboard shortcuts", lambda: QMessageBox.information(
        window, "Keyboard shortcuts", SHORTCUTS_TEXT), "F1")
    m.addAction(acts["shortcuts"])

    # ---------------------------------------------------------------- toolbar
    tb = window.tool_bar
    tb.setIconSize(QSize(24, 24))
    tb.addActions([acts["new"], acts["open"], acts["save"]])
    tb.addSeparator()
    tb.addActions([undo, redo])
    tb.addSeparator()
    tb.addActions([acts[f"tool_{n}"] for n in ("brush", "polygon", "eraser", "select")])
    tb.addSeparator()
    size_label = QLabel(" Size ")
    size_label.setStyleSheet("color: #9aa0a8;")
    tb.addWidget(size_label)
    spin = QSpinBox()
    spin.setRange(BRUSH_SIZES[0], BRUSH_SIZES[-1])
    spin.setSuffix(" px")
    spin.setToolTip("Brush / eraser diameter in canvas pixels  ([ and ])")
    spin.setFixedWidth(84)
    spin.setValue(int(canvas.brush_radius * 2))
    spin.valueChanged.connect(lambda v: canvas.set_brush_diameter(v) if int(canvas.brush_radius * 2) != v else None)
    canvas.brush_size_changed.connect(lambda d: spin.setValue(d) if spin.value() != d else None)
    spin.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    tb.addWidget(spin)
    window.brush_size_box = spin
    erase_btn = QToolButton()
    erase_btn.setDefaultAction(acts["erase_all"])
    erase_btn.setText("Erase all")
    erase_btn.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    tb.addWidget(erase_btn)
    tb.addSeparator()
    size_btn = QToolButton()
    size_btn.setMenu(sizes)
    size_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    size_btn.setToolTip("Canvas size")
    size_btn.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0; }")
    size_btn.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

    def show_size(_event=None) -> None:
        size_btn.setText(f"Canvas {doc.layout.width} × {doc.layout.height}  ▾")

    doc.layout.events.connect(lambda e: show_size() if e.kind in ("size_changed", "reset") else None)
    show_size()
    tb.addWidget(size_btn)
    spacer = QWidget()
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    tb.addWidget(spacer)
    tb.addActions([acts["zoom_out"], acts["zoom_in"], acts["fit"]])
    return acts
