"""The render queue under the Generate button: the jobs waiting, in order, to reorder or remove.

It shows what :class:`~.worker.GenerationRunner` holds (``runner.queue``) and asks it to move or
remove a job through its signals; it is hidden while nothing waits.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QToolButton, QVBoxLayout, QWidget

ROLE_ID = Qt.ItemDataRole.UserRole


def describe_job(job) -> str:
    """"seed 12 · 28 steps · 4 images · ast": what tells queued jobs apart."""
    s = job.settings
    n = s.get("num_images", 1) or 1
    seeds = f"seed {s.get('seed')}" if n == 1 else f"seeds {s.get('seed')}–{s.get('seed', 0) + n - 1}"
    steps = s.get("steps")
    images = f" · {n} images" if n > 1 else ""
    return f"{seeds} · {steps if steps else 'default'} steps{images} · {s.get('method', '?')}"


class QueueView(QWidget):
    #: move the job with this id by this many places (negative: sooner)
    move_requested = Signal(int, int)
    #: take the job with this id out of the queue
    remove_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.list = QListWidget()
        self.list.setMaximumHeight(110)
        self.list.setToolTip("Renders waiting to start, in order: each starts when the one before it ends")
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self.up = self._button("▲", "Run the selected render sooner", lambda: self._move(-1))
        self.down = self._button("▼", "Run the selected render later", lambda: self._move(+1))
        self.remove = self._button("✕", "Remove the selected render from the queue (Delete)", self._remove)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list, self._remove,
                  context=Qt.ShortcutContext.WidgetShortcut)
        buttons = QVBoxLayout()
        for b in (self.up, self.down, self.remove):
            buttons.addWidget(b)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(row)
        self.show_jobs(())

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    def show_jobs(self, jobs) -> None:
        """Show the waiting jobs (the runner's queue), keeping the selected one selected."""
        selected = self.selected_id()
        self.list.blockSignals(True)
        self.list.clear()
        for position, job in enumerate(jobs, 1):
            item = QListWidgetItem(f"{position}. {describe_job(job)}")
            item.setData(ROLE_ID, job.id)
            self.list.addItem(item)
            if job.id == selected:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)
        self.title.setText(f"Waiting ({len(jobs)})")
        self.setVisible(bool(jobs))
        self._update_buttons()

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(ROLE_ID) if item is not None else None

    def select(self, job_id: int) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ROLE_ID) == job_id:
                self.list.setCurrentRow(row)

    def _update_buttons(self) -> None:
        row, n = self.list.currentRow(), self.list.count()
        self.up.setEnabled(row > 0)
        self.down.setEnabled(0 <= row < n - 1)
        self.remove.setEnabled(row >= 0)

    def _move(self, delta: int) -> None:
        job_id = self.selected_id()
        if job_id is not None:
            self.move_requested.emit(job_id, delta)

    def _remove(self) -> None:
        job_id = self.selected_id()
        if job_id is not None:
            self.remove_requested.emit(job_id)
