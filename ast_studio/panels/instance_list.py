"""The instance list: colour swatch, name, visibility and lock per instance; drag to reorder.

The top row is the top-most instance (like layers in a paint program): row r shows
``layout.instances[n - 1 - r]``.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView, QDockWidget, QHBoxLayout, QListWidget, QListWidgetItem, QStyle,
    QStyledItemDelegate, QToolButton, QVBoxLayout, QWidget,
)

from ast_core.document import Instance

from .. import icons
from ..commands import AddInstance, MoveInstance, RemoveInstances, SetPrompts, UpdateInstance, duplicate_instance
from ..document import Document
from .base_prompt_rule import instances_to_flag, method_label

ROW_HEIGHT = 42
ICON = 18


def append_to_base_prompt_command(document: Document, instance_id: str) -> SetPrompts:
    """Append an instance's text to the base prompt (", text" or "text")."""
    inst = document.layout.instance(instance_id)
    if not inst.prompt.strip().rstrip("."):
        raise ValueError(f"{inst.name} has no prompt to append")
    return SetPrompts(document, base=with_text_appended(document.layout.base_prompt, inst.prompt))


def append_background_command(document: Document) -> SetPrompts:
    """Append the background prompt's text to the base prompt, the same way as an instance's."""
    if not document.layout.background_prompt.strip().rstrip("."):
        raise ValueError("the background prompt is empty")
    return SetPrompts(document, base=with_text_appended(document.layout.base_prompt,
                                                        document.layout.background_prompt))


def with_text_appended(base: str, text: str) -> str:
    """``base`` with ``text`` at its end: ", text" (before a final period), or just "text"."""
    base, text = base.rstrip(), text.strip().rstrip(".")
    if base.endswith("."):
        return f"{base[:-1]}, {text}."
    return f"{base}, {text}" if base else text


def strength_badge(strength: float) -> str:
    """How the list shows an instance's strength: "×0.5", "off" at 0."""
    return "off" if strength == 0 else f"×{strength:.2f}".rstrip("0").rstrip(".")


class InstanceDelegate(QStyledItemDelegate):
    def __init__(self, panel: "InstanceList") -> None:
        super().__init__(panel)
        self.panel = panel

    def sizeHint(self, option, index) -> QSize:
        # rows span the list's width; the name and prompt are elided to what is left beside the
        # icons, so a narrow panel never scrolls sideways (and never hides the lock)
        return QSize(3 * (ICON + 8) + 60, ROW_HEIGHT)

    @staticmethod
    def icon_rects(rect: QRect) -> dict[str, QRect]:
        y = rect.top() + (rect.height() - ICON) // 2
        lock = QRect(rect.right() - 8 - ICON, y, ICON, ICON)
        eye = QRect(lock.left() - 8 - ICON, y, ICON, ICON)
        warn = QRect(eye.left() - 8 - ICON, y, ICON, ICON)
        return {"locked": lock, "visible": eye, "warning": warn}

    def paint(self, painter: QPainter, option, index) -> None:
        inst = self.panel.instance_at_row(index.row())
        if inst is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, QColor("#2f4f78"))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor("#2a2d32"))
        painter.setPen(QPen(QColor("#33363b")))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        swatch = QRect(rect.left() + 10, rect.top() + (rect.height() - 20) // 2, 20, 20)
        painter.setPen(QPen(QColor(inst.color).darker(150), 1))
        painter.setBrush(QColor(inst.color))
        painter.drawRoundedRect(swatch, 4, 4)
        rects = self.icon_rects(rect)
        text_left = swatch.right() + 10
        text_width = rects["warning"].left() - 6 - text_left
        if inst.strength != 1.0:  # the instance's AST strength, when it is not the method's own
            badge_font = painter.font()
            badge_font.setPointSizeF(max(7.0, badge_font.pointSizeF() - 1))
            badge_font.setBold(True)
            painter.setFont(badge_font)
            badge = strength_badge(inst.strength)
            bw = painter.fontMetrics().horizontalAdvance(badge) + 10
            box = QRect(rects["warning"].left() - 6 - bw, rect.top() + 6, bw, painter.fontMetrics().height() + 2)
            painter.setPen(QPen(QColor("#f2c744" if inst.strength < 1.0 else "#6fd3a0"), 1))
            painter.setBrush(QColor(0, 0, 0, 60))
            painter.drawRoundedRect(box, 4, 4)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, badge)
            text_width = box.left() - 6 - text_left
        faded = not inst.visible
        name_font = painter.font()
        name_font.setBold(True)
        painter.setFont(name_font)
        painter.setPen(QColor("#7d838b" if faded else "#eef0f2"))
        fm = painter.fontMetrics()
        name = inst.name + ("  (empty)" if inst.is_empty else "")
        painter.drawText(QRect(text_left, rect.top() + 4, text_width, rect.height() // 2),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(name, Qt.TextElideMode.ElideRight, text_width))
        sub_font = painter.font()
        sub_font.setBold(False)
        sub_font.setPointSizeF(max(7.0, sub_font.pointSizeF() - 1))
        painter.setFont(sub_font)
        painter.setPen(QColor("#6f757d" if faded else "#a3a9b1"))
        prompt = inst.prompt or "no prompt yet"
        painter.drawText(QRect(text_left, rect.top() + rect.height() // 2 - 2, text_width, rect.height() // 2),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(prompt, Qt.TextElideMode.ElideRight, text_width))
        if inst.id in self.panel.missing_ids:
            painter.drawPixmap(rects["warning"], icons.pixmap("warning", ICON * 2))
        painter.setOpacity(1.0 if inst.visible else 0.55)
        painter.drawPixmap(rects["visible"], icons.pixmap("visible" if inst.visible else "hidden", ICON * 2))
        painter.setOpacity(1.0 if inst.locked else 0.45)
        painter.drawPixmap(rects["locked"], icons.pixmap("locked" if inst.locked else "unlocked", ICON * 2))
        painter.restore()

    def editorEvent(self, event, model, option, index) -> bool:
        if event.type() not in (QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonPress,
                                QEvent.Type.MouseButtonDblClick):
            return False
        inst = self.panel.instance_at_row(index.row())
        if inst is None:
            return False
        pos = event.position().toPoint()
        for field in ("visible", "locked"):
            if self.icon_rects(option.rect)[field].adjusted(-3, -3, 3, 3).contains(pos):
                if event.type() == QEvent.Type.MouseButtonRelease:
                    self.panel.toggle(inst.id, field)
                return True
        return False

    def helpEvent(self, event, view, option, index) -> bool:
        from PySide6.QtWidgets import QToolTip

        inst = self.panel.instance_at_row(index.row())
        if inst is None:
            return False
        rects = self.icon_rects(option.rect)
        pos = event.pos()
        if rects["visible"].contains(pos):
            tip = "Hide" if inst.visible else "Show"
        elif rects["locked"].contains(pos):
            tip = "Unlock" if inst.locked else "Lock (no drawing, erasing or moving)"
        elif rects["warning"].contains(pos) and inst.id in self.panel.missing_ids and not inst.prompt.strip():
            tip = f"{inst.name} has no prompt: describe it in the Instance panel ({method_label(self.panel.document)} " \
                  "needs one for every instance)."
        elif rects["warning"].contains(pos) and inst.id in self.panel.missing_ids:
            tip = (f"“{inst.prompt}” is not in the base prompt. {method_label(self.panel.document)} needs each "
                   f"instance's text inside the base prompt: use “Append to base prompt”.")
        else:
            tip = f"{inst.name}: {inst.prompt}" if inst.prompt else inst.name
            if inst.strength != 1.0:
                tip += f"\nStrength {inst.strength:.2f} (1.00 = the method as published; change it in the Instance panel)"
        QToolTip.showText(event.globalPos(), tip, view)
        return True


class InstanceListWidget(QListWidget):
    row_moved = Signal(int, int)  # from row, to row (final position)

    def dropEvent(self, event) -> None:
        source = self.currentRow()
        target = self.indexAt(event.position().toPoint())
        where = self.dropIndicatorPosition()
        if not target.isValid():
            row = self.count()
        else:
            row = target.row() + (1 if where == QAbstractItemView.DropIndicatorPosition.BelowItem else 0)
        if row > source:
            row -= 1
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if source >= 0 and row != source:
            self.row_moved.emit(source, row)


class InstanceList(QWidget):
    """The list of instances with add / duplicate / remove / raise / lower buttons."""

    #: a row was double-clicked: the window focuses the name field of the instance editor
    rename_requested = Signal(str)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.layout_model = document.layout
        self.missing_ids: set[str] = set()
        self._syncing = False
        self.list = InstanceListWidget()
        self.list.setItemDelegate(InstanceDelegate(self))
        self.list.setMouseTracking(True)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentRowChanged.connect(self._on_current_row)
        self.list.row_moved.connect(self.move_row)
        self.list.itemDoubleClicked.connect(
            lambda item: self.rename_requested.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.list.setToolTip("The instances, top-most first: click to select, drag to reorder, double-click to "
                             "rename; the eye hides, the lock protects")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(2)
        self.buttons = {}
        for name, tip, slot in (
            ("add", "New empty instance (then draw it)", self.add_instance),
            ("duplicate", "Duplicate the selected instance", self.duplicate_selected),
            ("remove", "Remove the selected instance (Delete)", self.remove_selected),
            ("raise", "Bring forward (z-order)", lambda: self.step_selected(+1)),
            ("lower", "Send backward (z-order)", lambda: self.step_selected(-1)),
        ):
            b = QToolButton()
            b.setIcon(icons.icon(name))
            b.setIconSize(QSize(18, 18))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            buttons.addWidget(b)
            self.buttons[name] = b
            if name == "remove":
                buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 6, 6, 6)
        box.setSpacing(4)
        box.addWidget(self.list, 1)
        box.addLayout(buttons)
        self.layout_model.events.connect(self._on_event)
        document.settings_changed.connect(self._on_settings_changed)
        document.selection_changed.connect(self._select_row)
        self.rebuild()

    # ------------------------------------------------------------- model -> list
    def instance_at_row(self, row: int) -> Instance | None:
        insts = self.layout_model.instances
        i = len(insts) - 1 - row
        return insts[i] if 0 <= i < len(insts) else None

    def row_of(self, instance_id: str) -> int:
        return len(self.layout_model.instances) - 1 - self.layout_model.index_of(instance_id)

    def rebuild(self) -> None:
        self._syncing = True
        try:
            self.list.clear()
            for inst in reversed(self.layout_model.instances):
                item = QListWidgetItem()
                item.setData(Qt.ItemDataRole.UserRole, inst.id)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                self.list.addItem(item)
            self._refresh_missing()
        finally:
            self._syncing = False
        self._select_row(self.document.selected_id)
        self._update_buttons()

    def _on_settings_changed(self, part: str) -> None:
        if part == "generation":  # the method may have changed
            self._refresh_missing()

    def _refresh_missing(self) -> None:
        self.missing_ids = {i.id for i in instances_to_flag(self.document)}  # only where the method needs it
        self.list.viewport().update()

    def focus_target(self):
        return self.list

    def _on_event(self, event) -> None:
        if event.kind in ("instance_added", "instance_removed", "order_changed", "reset"):
            self.rebuild()
        elif event.kind in ("instance_changed", "prompts_changed", "geometry_changed"):
            self._refresh_missing()

    def _select_row(self, instance_id) -> None:
        self._syncing = True
        try:
            if instance_id is None:
                self.list.setCurrentRow(-1)
                self.list.clearSelection()
            else:
                self.list.setCurrentRow(self.row_of(instance_id))
        finally:
            self._syncing = False
        self._update_buttons()

    def _on_current_row(self, row: int) -> None:
        if self._syncing:
            return
        inst = self.instance_at_row(row)
        self.document.select(inst.id if inst is not None else None)

    def _update_buttons(self) -> None:
        has = self.document.selected_id is not None
        for name in ("duplicate", "remove", "raise", "lower"):
            self.buttons[name].setEnabled(has)

    # ------------------------------------------------------------------ edits
    def _push(self, cmd) -> None:
        self.document.undo_stack.push(cmd)

    def add_instance(self) -> None:
        layout = self.layout_model
        from ast_core.document import next_colour

        inst = Instance(name=layout.next_name(), color=next_colour(layout.used_colours()))
        self._push(AddInstance(self.document, inst))

    def duplicate_selected(self) -> None:
        if self.document.selected_id:
            self._push(duplicate_instance(self.document, self.document.selected_id))

    def remove_selected(self) -> None:
        if self.document.selected_id:
            self._push(RemoveInstances(self.document, [self.document.selected_id]))

    def step_selected(self, delta: int) -> None:
        iid = self.document.selected_id
        if iid is None:
            return
        index = self.layout_model.index_of(iid) + delta
        if 0 <= index < len(self.layout_model.instances):
            self._push(MoveInstance(self.document, iid, index))

    def _context_menu(self, pos) -> None:
        from PySide6.QtWidgets import QMenu

        inst = self.instance_at_row(self.list.indexAt(pos).row())
        menu = QMenu(self)
        if inst is not None:
            self.document.select(inst.id)
            top = len(self.layout_model.instances) - 1
            index = self.layout_model.index_of(inst.id)
            menu.addAction(icons.icon("duplicate"), "Duplicate", self.duplicate_selected)
            menu.addAction(icons.icon("remove"), "Remove", self.remove_selected)
            menu.addSeparator()
            menu.addAction("Bring to front", lambda: self._push(MoveInstance(self.document, inst.id, top))
                           ).setEnabled(index < top)
            menu.addAction("Send to back", lambda: self._push(MoveInstance(self.document, inst.id, 0))
                           ).setEnabled(index > 0)
            menu.addSeparator()
            menu.addAction("Show" if not inst.visible else "Hide", lambda: self.toggle(inst.id, "visible"))
            menu.addAction("Unlock" if inst.locked else "Lock", lambda: self.toggle(inst.id, "locked"))
            if inst.id in self.missing_ids and inst.prompt.strip():
                menu.addSeparator()
                menu.addAction(icons.icon("append"), "Append to base prompt",
                               lambda: self._push(append_to_base_prompt_command(self.document, inst.id)))
        else:
            menu.addAction(icons.icon("add"), "New instance", self.add_instance)
        menu.popup(self.list.viewport().mapToGlobal(pos))
        self.context_menu = menu  # kept for tests and so it is not garbage-collected while open

    def move_row(self, from_row: int, to_row: int) -> None:
        """A drag in the list: the instance at ``from_row`` ends up at ``to_row``."""
        inst = self.instance_at_row(from_row)
        n = len(self.layout_model.instances)
        if inst is None or not 0 <= to_row < n:
            return
        self._push(MoveInstance(self.document, inst.id, n - 1 - to_row))
        self.document.select(inst.id)

    def toggle(self, instance_id: str, field: str) -> None:
        inst = self.layout_model.instance(instance_id)
        if field == "visible":
            verb = "Hide" if inst.visible else "Show"
        else:
            verb = "Unlock" if inst.locked else "Lock"
        self._push(UpdateInstance(self.document, instance_id, {field: not getattr(inst, field)},
                                  text=f"{verb} {inst.name}"))


def instance_list_dock(document: Document, parent=None) -> QDockWidget:
    dock = QDockWidget("Instances", parent)
    dock.setObjectName("instances-dock")
    dock.setWidget(InstanceList(document, dock))
    return dock
