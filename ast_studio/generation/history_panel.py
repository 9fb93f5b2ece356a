"""The render history: a grid of thumbnails, newest first.

The thumbnails fill the panel's width in rows (a taller History dock shows more rows); the
images of one job (variations) sit side by side, labelled with their seed and their place
("seed 12 · 2/4"), each its own entry. Click a thumbnail to view it in the preview pane,
double-click it (or Enter) to open it full size (``open_requested``); the buttons restore its
parameters (generation settings with the method's parameters and the LoRAs, the schedule,
optionally the layout it was made from), export it as a
PNG with its metadata, or delete it (undoable). The strip follows ``document.renders``.

Thumbnails are decoded after the strip is shown, one per turn of the event loop, and kept:
opening a project with many large renders does not wait for their pixels, and an image
that does not decode shows as a grey square.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from . import history
from .commands import RemoveRender, RestoreLayout, SetLoras, SetMethodParameters, restore_settings_command

log = logging.getLogger(__name__)

THUMB = 96
ROLE_ID = Qt.ItemDataRole.UserRole


def placeholder(size: int = THUMB) -> QPixmap:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.darkGray)
    return pix


def thumbnail(png: bytes, size: int = THUMB) -> QPixmap:
    """The PNG scaled to fit ``size``; a grey square when it does not decode."""
    image = QImage.fromData(png, "PNG")
    if image.isNull():
        return placeholder(size)
    return QPixmap.fromImage(image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))


class HistoryPanel(QWidget):
    #: a render was chosen for viewing (the Render)
    view_requested = Signal(object)
    #: a render was double-clicked or Enter pressed on it: open it full size (the Render)
    open_requested = Signal(object)
    #: something to tell the user (status text)
    message = Signal(str)

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._icons: dict[tuple[str, int], QIcon] = {}  # (render id, id of its PNG bytes) -> thumbnail
        self._pending: list = []  # renders whose thumbnail is still to be decoded
        self._items: dict[str, QListWidgetItem] = {}  # render id -> its item in the strip
        self._decode_timer = QTimer(self)
        self._decode_timer.setSingleShot(True)
        self._decode_timer.setInterval(0)
        self._decode_timer.timeout.connect(self._decode_next)
        self.strip = QListWidget()
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(True)
        self.strip.setResizeMode(QListView.ResizeMode.Adjust)
        self.strip.setMovement(QListView.Movement.Static)
        self.strip.setIconSize(QSize(THUMB, THUMB))
        self.strip.setGridSize(QSize(THUMB + 12, THUMB + 26))
        self.strip.setMinimumHeight(THUMB + 46)
        self.strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.strip.itemClicked.connect(self._on_clicked)
        self.strip.itemActivated.connect(lambda _item: self._open_selected())
        self.strip.setToolTip("Finished renders, newest first: click to show one in the Preview, double-click "
                              "(or Enter) to open it full size")
        self.strip.currentItemChanged.connect(lambda *_: self._update_buttons())

        self.empty = QLabel("Finished renders appear here.")
        self.empty.setStyleSheet("color: #9aa0a8;")
        # the empty panel is as tall as the grid and its info line will be: the first render must
        # not make the dock grow (Qt never shrinks it back, and the canvas would lose room each time)
        self.empty.setMinimumHeight(THUMB + 46)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.restore = QPushButton("Restore parameters")
        self.restore.setToolTip("Set the generation settings (with the method's parameters and the LoRAs) and "
                                "the schedule (and optionally the layout) to those of this render; one undo step")
        menu = QMenu(self.restore)
        self.restore_settings_action = menu.addAction("Settings and schedule")
        self.restore_settings_action.triggered.connect(lambda: self.restore_selected(with_layout=False))
        self.restore_all_action = menu.addAction("Settings, schedule and layout")
        self.restore_all_action.triggered.connect(lambda: self.restore_selected(with_layout=True))
        self.restore.setMenu(menu)
        self.export = QPushButton("Export PNG…")
        self.export.setToolTip("Save this render as a PNG file, with its parameters and layout inside")
        self.export.clicked.connect(self._export_dialog)
        self.delete = QPushButton("Delete")
        self.delete.setToolTip("Remove this render from the history (undo brings it back)")
        self.delete.clicked.connect(self.delete_selected)
        self.info = QLabel("")
        self.info.setStyleSheet("color: #9aa0a8;")
        self.info.setWordWrap(True)
        self.info.setMinimumHeight(2 * self.info.fontMetrics().lineSpacing())  # room for two lines, always

        buttons = QHBoxLayout()
        buttons.addWidget(self.restore)
        buttons.addWidget(self.export)
        buttons.addWidget(self.delete)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.strip)
        layout.addWidget(self.empty)
        layout.addWidget(self.info)
        layout.addLayout(buttons)
        document.part_changed.connect(self._on_part_changed)
        self.refresh()

    # ------------------------------------------------------------------ model -> view
    def _on_part_changed(self, name: str) -> None:
        if name == "renders":
            self.refresh()

    def refresh(self) -> None:
        selected = self.selected_id()
        self.strip.blockSignals(True)
        self.strip.clear()
        keys = {self._key(r) for r in self.document.renders}
        self._icons = {k: v for k, v in self._icons.items() if k in keys}
        self._pending = [r for r in self.document.renders if self._key(r) not in self._icons]
        waiting = QIcon(placeholder())
        self._items = {}
        for render in reversed(self.document.renders):  # newest first
            seed = history.seed_of(render)
            variation = history.variation_of(render)
            text = f"seed {seed}" if seed != "" else ""
            if variation:
                text += f" · {variation[0]}/{variation[1]}"
            item = QListWidgetItem(self._icons.get(self._key(render), waiting), text)
            item.setData(ROLE_ID, render.id)
            self._items[render.id] = item
            item.setToolTip(history.summary(render) + (f"\n{render.created}" if render.created else ""))
            self.strip.addItem(item)
            if render.id == selected:
                self.strip.setCurrentItem(item)
        self.strip.blockSignals(False)
        self.empty.setVisible(not self.document.renders)
        self.strip.setVisible(bool(self.document.renders))
        self._update_buttons()
        if self._pending:
            self._decode_timer.start()

    @staticmethod
    def _key(render) -> tuple[str, int]:
        return render.id, id(render.image_png)

    def _decode_next(self) -> None:
        """Decode one waiting thumbnail, then come back for the next on the next turn."""
        if not self._pending:
            return
        render = self._pending.pop()  # the newest first: it is the leftmost
        icon = self._icons[self._key(render)] = QIcon(thumbnail(render.image_png))
        item = self._items.get(render.id)
        if item is not None:
            item.setIcon(icon)
        if self._pending:
            self._decode_timer.start()

    def decode_thumbnails(self) -> None:
        """Decode every waiting thumbnail now (tests; a screenshot)."""
        while self._pending:
            self._decode_next()

    def _update_buttons(self) -> None:
        render = self.selected_render()
        for w in (self.restore, self.export, self.delete):
            w.setEnabled(render is not None)
        text = history.summary(render) if render is not None else ""
        self.info.setText(text.split("\n", 1)[0])  # the method's parameters and the LoRAs: in the tooltip
        self.info.setToolTip(text)

    # ------------------------------------------------------------------ selection
    def selected_id(self) -> str | None:
        item = self.strip.currentItem()
        return item.data(ROLE_ID) if item is not None else None

    def selected_render(self):
        rid = self.selected_id()
        return next((r for r in self.document.renders if r.id == rid), None)

    def select(self, render_id: str) -> None:
        for row in range(self.strip.count()):
            if self.strip.item(row).data(ROLE_ID) == render_id:
                self.strip.setCurrentRow(row)
                self._update_buttons()
                return

    def _open_selected(self) -> None:
        render = self.selected_render()
        if render is not None:
            self.open_requested.emit(render)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        render = self.selected_render()
        if render is not None:
            self.view_requested.emit(render)

    # ------------------------------------------------------------------ actions
    def restore_selected(self, with_layout: bool = False) -> bool:
        """Restore the selected render's settings + schedule (+ layout): one undo step."""
        render = self.selected_render()
        if render is None:
            return False
        from ast_studio.schedule.commands import SetSchedule

        doc = self.document
        stack = doc.undo_stack
        try:
            layout = history.layout_of(render) if with_layout else None
        except ValueError as e:
            self.message.emit(f"This render's layout snapshot cannot be read: {e}")
            return False
        try:
            schedule = history.schedule_of(render)
        except ValueError as e:
            self.message.emit(f"This render's schedule cannot be read: {e}")
            return False
        try:
            method_parameters = history.method_parameters_of(render)
        except ValueError as e:
            self.message.emit(f"This render's method parameters cannot be read: {e}")
            return False
        try:
            loras = history.loras_of(render)
        except ValueError as e:
            self.message.emit(f"This render's LoRAs cannot be read: {e}")
            return False
        commands = []
        cmd = restore_settings_command(doc, history.render_settings_of(render))
        if cmd is not None:
            commands.append(cmd)
        if method_parameters is not None:
            name, values = method_parameters
            if values != doc.settings.method_parameters(name):
                commands.append(SetMethodParameters(doc, name, values, "Restore method parameters"))
        if loras is not None and loras != doc.settings.loras:
            commands.append(SetLoras(doc, loras, "Restore LoRAs"))
        if schedule != doc.schedule or doc.unread_schedule is not None:
            commands.append(SetSchedule(doc, doc.schedule, schedule, "Restore schedule"))
        if layout is not None and not layout.same_as(doc.layout):
            commands.append(RestoreLayout(doc, layout))
        what = "parameters" + (" and layout" if with_layout else "")
        if not commands:
            self.message.emit(f"The {what} already match this render.")
            return True
        stack.beginMacro(f"Restore render {what}")
        try:
            for cmd in commands:
                stack.push(cmd)
        finally:
            stack.endMacro()
        self.message.emit(f"Restored the {what} of the render.")
        return True

    def delete_selected(self) -> bool:
        rid = self.selected_id()
        if rid is None:
            return False
        row = self.strip.currentRow()
        self.document.undo_stack.push(RemoveRender(self.document, rid))
        # the next render takes the selection and the strip keeps the focus (else the disabled
        # Delete button hands it to whatever comes next, such as a number box, and typing lands there)
        if self.strip.count():
            self.strip.setCurrentRow(min(max(row, 0), self.strip.count() - 1))
            self.strip.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.setFocus(Qt.FocusReason.OtherFocusReason)  # the panel itself: keys typed go nowhere
        return True

    def export_selected(self, path) -> str | None:
        render = self.selected_render()
        if render is None:
            return None
        try:
            written = history.export_png(render, path)
        except OSError as e:
            self.message.emit(f"Could not export the PNG to {path}: {e.strerror or e}")
            return None
        except history.RenderImageError as e:
            self.message.emit(f"Could not export the PNG to {path}: {e}")
            return None
        self.message.emit(f"Exported {written}")
        return str(written)

    def _export_dialog(self) -> None:
        render = self.selected_render()
        if render is None:
            return
        base = self.document.path.stem if self.document.path else "render"
        path, _ = QFileDialog.getSaveFileName(self, "Export render", f"{base}-{render.id}.png", "PNG image (*.png)")
        if path:
            self.export_selected(path)
