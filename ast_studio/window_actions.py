"""Menus, toolbar and shortcuts of the main window.

Help ▸ Keyboard shortcuts (F1) lists the keys of these actions as they are when it opens
(:mod:`.shortcuts_help`); every action says what it does in its tooltip.
"""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QSizePolicy, QSpinBox, QToolButton, QWidget

from . import icons, settings
from .canvas.view import BRUSH_SIZES
from .canvas_size import PRESETS, CanvasSizeDialog, ask_to_scale
from .commands import AddInstance, RemoveInstances, SetCanvasSize, duplicate_instance
from .panels.instance_list import append_to_base_prompt_command


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


def new_instance(window):
    """Edit ▸ New instance: an empty instance, selected, and a drawing tool to give it a shape."""
    from ast_core.document import Instance, next_colour

    doc, canvas = window.document, window.canvas
    layout = doc.layout
    inst = Instance(name=layout.next_name(), color=next_colour(layout.used_colours()))
    doc.undo_stack.push(AddInstance(doc, inst, text=f"New instance {inst.name}"))
    if canvas.tool.name not in ("brush", "polygon"):
        canvas.set_tool("brush")
    window.workspace.show_page(canvas)
    canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)
    window.statusBar().showMessage(f"{inst.name}: draw its shape (B brush, P polygon), then describe it in the "
                                   f"Instance panel (Alt+4).", 8000)
    return inst


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
    acts["save_as"] = _action(window, "Save &As…", files.save_as, "Ctrl+Shift+S", None,
                              "Save the project under another name")
    for key in ("new", "open"):
        m.insertAction(recent.menuAction(), acts[key])
    m.addActions([acts["save"], acts["save_as"]])
    m.addSeparator()
    imports = m.addMenu("&Import")
    acts["import_seed"] = _action(window, "Seed &sketch (colour PNG + JSON)…", files.import_seed_sketch, None, None,
                                  "A new project from a colour sketch and its prompts (the AST demo's format)")
    acts["import_boxes"] = _action(window, "&Boxes (JSON)…", files.import_boxes, None, None,
                                   "A new project from a list of boxes with prompts")
    acts["import_masks"] = _action(window, "&Masks (black/white images)…", files.import_masks, None, None,
                                   "A new project with one instance per black/white mask picture")
    imports.addActions([acts["import_seed"], acts["import_boxes"], acts["import_masks"]])
    window.export_menu = m.addMenu("&Export")
    from .exports import add_export_actions

    acts.update(add_export_actions(window, window.export_menu))
    m.addSeparator()
    acts["quit"] = _action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit, None, "Quit AST Studio")
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

    acts["new_instance"] = _action(window, "&New instance", lambda: new_instance(window), "Ctrl+Shift+N",
                                   "new-instance", "Add an empty instance and draw its shape (brush or polygon)")
    acts["delete"] = _action(window, "&Delete instance", remove, QKeySequence.StandardKey.Delete,
                             "remove", "Remove the selected instance")
    acts["duplicate"] = _action(window, "D&uplicate instance", duplicate, "Ctrl+D", "duplicate",
                                "Copy the selected instance, in a new colour")
    acts["deselect"] = _action(window, "Select &none", lambda: doc.select(None), "Ctrl+Shift+A", None,
                               "Deselect: the next drawing makes a new instance")
    acts["append"] = _action(window, "&Append instance text to base prompt", append, None, "append",
                             "Add the selected instance's prompt at the end of the base prompt")
    undo.setToolTip("Undo the last edit  (Ctrl+Z)")
    redo.setToolTip("Redo the edit you undid  (Ctrl+Shift+Z)")
    m.addActions([undo, redo])
    m.addSeparator()
    m.addActions([acts["new_instance"], acts["duplicate"], acts["delete"], acts["deselect"], acts["append"]])

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
    tool_tips = {"brush": "Brush: paint an instance's shape (onto the selected one, or a new one)",
                 "polygon": "Polygon: click the corners of a shape",
                 "eraser": "Eraser: rub out part of an instance (the one named beside the cursor)",
                 "select": "Select / move: click an instance to select it, drag to move it"}
    for name, label, key in (("brush", "&Brush", "B"), ("polygon", "&Polygon", "P"), ("eraser", "&Eraser", "E"),
                             ("select", "&Select / move", "V")):
        a = _action(window, label, partial(canvas.set_tool, name), key, name if name != "select" else "select",
                    tool_tips[name], checkable=True)
        group.addAction(a)
        m.addAction(a)
        acts[f"tool_{name}"] = a
    canvas.tool_changed.connect(lambda name: acts[f"tool_{name}"].setChecked(True))
    acts[f"tool_{canvas.tool.name}"].setChecked(True)
    m.addSeparator()
    acts["brush_bigger"] = _action(window, "Bigger brush", lambda: canvas.step_brush_size(+1), "]", None,
                                   "A bigger brush and eraser")
    acts["brush_smaller"] = _action(window, "Smaller brush", lambda: canvas.step_brush_size(-1), "[", None,
                                    "A smaller brush and eraser")
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
    from .picture_actions import build_picture_actions

    acts.update(build_picture_actions(window))
    m.addSeparator()
    m.addMenu(window.background_menu)

    # ------------------------------------------------------------------- View
    m = window.menu("view")
    acts["zoom_in"] = _action(window, "Zoom &in", canvas.zoom_in, ["+", "=", "Ctrl++"], "zoom-in",
                              "Zoom in on the canvas")
    acts["zoom_out"] = _action(window, "Zoom &out", canvas.zoom_out, ["-", "Ctrl+-"], "zoom-out",
                               "Zoom out of the canvas")
    acts["fit"] = _action(window, "&Fit to window", canvas.fit, "Ctrl+0", "fit", "Show the whole canvas")
    acts["actual"] = _action(window, "&Actual size (100%)", canvas.actual_size, "Ctrl+1", None,
                             "One canvas pixel per screen pixel")
    acts["show_names"] = _action(window, "Show instance &names", None, "N", None,
                                 "Show each instance's name on the canvas", checkable=True)
    acts["show_names"].setChecked(True)
    acts["show_names"].toggled.connect(canvas.scene().show_names)
    first = m.actions()[0] if m.actions() else None
    for key in ("zoom_in", "zoom_out", "fit", "actual"):
        m.insertAction(first, acts[key])
    m.insertSeparator(first)
    m.insertAction(first, acts["show_names"])
    m.insertAction(first, acts["show_result"])
    m.insertAction(first, acts["result_over"])
    m.insertSeparator(first)
    from . import window_layout

    go = QMenu("&Go to", window)
    go.setToolTipsVisible(True)
    for label, key, target in window_layout.PANEL_KEYS:
        name = f"go_{target}"
        acts[name] = _action(window, f"&{label}", partial(window_layout.go_to_panel, window, target), key, None,
                             f"Show the {label} {'page' if target in ('canvas', 'schedule_panel') else 'panel'} "
                             f"and put the keyboard in it")
        go.addAction(acts[name])
    go.addSeparator()
    acts["next_panel"] = _action(window, "&Next panel", lambda: window_layout.cycle_panels(window, 1), "F6", None,
                                 "Move the keyboard to the next panel")
    acts["previous_panel"] = _action(window, "&Previous panel", lambda: window_layout.cycle_panels(window, -1),
                                     "Shift+F6", None, "Move the keyboard to the previous panel")
    go.addActions([acts["next_panel"], acts["previous_panel"]])
    m.insertMenu(first, go)
    acts["reset_layout"] = _action(window, "&Reset layout", lambda: window_layout.reset(window), None, None,
                                   "Every panel back in its default place, sized for this window")
    m.addSeparator()
    m.addAction(acts["reset_layout"])

    # ------------------------------------------------------------------- Help
    m = window.menu("help")
    from .shortcuts_help import show_shortcuts

    acts["shortcuts"] = _action(window, "&Keyboard shortcuts", lambda: show_shortcuts(window), "F1", None,
                                "Every key of the studio, read from its menus and tools")
    m.addAction(acts["shortcuts"])

    # ---------------------------------------------------------------- toolbar
    tb = window.tool_bar
    tb.setIconSize(QSize(24, 24))
    tb.addActions([acts["new"], acts["open"], acts["save"]])
    tb.addSeparator()
    tb.addActions([undo, redo])
    tb.addSeparator()
    tb.addActions([acts[f"tool_{n}"] for n in ("brush", "polygon", "eraser", "select")])
    tb.addAction(acts["new_instance"])
    tb.addSeparator()
    size_label = QLabel(" Size ")
    size_label.setToolTip("Brush and eraser diameter")
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
    size_btn.setToolTip("Canvas size: the size of the picture that is generated")
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
