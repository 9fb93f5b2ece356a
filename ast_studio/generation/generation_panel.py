"""The Generate panel: model, settings, the method's parameters, AST controls, LoRAs,
Generate / Cancel, progress, queue, messages.

One job runs at a time: while it runs, **Generate** reads "Add to queue" and puts the project as
it is now in the render queue shown under it (reorder, remove); **Cancel** stops the running
job within one step and the queue carries on. The progress bar shows the stage ("Loading model
(3/7 components: vae)", "Encoding prompts", "Image 2/4 · step 3/28") with the elapsed time and
the time left under it. The settings stay editable; they apply to the next render. Every change
is an undo command on the document (settings -> ``settings.generation``; the method's own
parameters -> its entry in ``settings.method_parameters`` (:mod:`.method_parameters`); the AST
controls are the schedule's simple view,
:class:`~ast_studio.schedule.simple_view.SimpleScheduleView`; LoRAs -> ``settings.loras``
(:mod:`.lora_list`)). Steps and guidance at their lowest value mean the configured model's own
default, shown as "Model default (N)".
Problems (missing model, out of memory, an instance whose text is not in the base prompt)
appear in the message area under the buttons, never as a blocking dialog.
"""
from __future__ import annotations

import html
import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ast_core.schedule.timesteps import steps_to_run

from ast_core.methods import METHODS, method

from . import events as ev
from .commands import SetRenderSettings
from .job_clock import JobClock, clock_text
from .lora_list import LoraList
from .method_parameters import MethodParametersBox
from .model_settings import ModelSettings, load_model_settings, model_note, notifier
from .queue_view import QueueView
from ast_core.project.settings import GUIDANCE_RANGE, MAX_IMAGES, MAX_SEED, STEP_RANGE

GUIDANCE_STEP = 0.5
#: the guidance box's lowest value stands for "the model's default" (0 is a guidance of its own)
GUIDANCE_MODEL_DEFAULT = GUIDANCE_RANGE[0] - GUIDANCE_STEP

log = logging.getLogger(__name__)

SEED_MODE_LABELS = {"fixed": "Fixed", "random": "Random", "increment": "Increment"}
SEED_MODE_TIPS = {"fixed": "Every render uses this seed", "random": "Every render draws a new seed (kept in the history)",
                  "increment": "After each render the seed goes up by one"}
MESSAGE_STYLE = {
    "error": "background: #4a2326; color: #ffd7d9; border: 1px solid #8c3b41; border-radius: 4px; padding: 6px;",
    "warning": "background: #47401f; color: #fbe9a6; border: 1px solid #8a7a2e; border-radius: 4px; padding: 6px;",
    "info": "background: #23364d; color: #d6e7ff; border: 1px solid #365b86; border-radius: 4px; padding: 6px;",
}
ERROR_TITLES = {
    ev.OUT_OF_MEMORY: "Out of memory",
    ev.MODEL: "Model not available",
    ev.PROMPT: "Prompt problem",
    ev.SETTINGS: "Settings problem",
    ev.LORA: "LoRA problem",
    ev.INTERNAL: "Render failed",
}


class MessageArea(QFrame):
    """A dismissable message under the Generate button (not a dialog: the GUI never blocks)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = ""
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str, level: str = "error", title: str = "") -> None:
        self.level = level
        body = html.escape(text).replace("\n", "<br>")
        self.label.setText(f"<b>{html.escape(title)}</b><br>{body}" if title else body)
        self.label.setStyleSheet(MESSAGE_STYLE.get(level, MESSAGE_STYLE["info"]))
        self.show()

    def text(self) -> str:
        """The message as plain text ("" when there is none)."""
        if not self.level:
            return ""
        doc = QTextDocument()
        doc.setHtml(self.label.text())
        return doc.toPlainText()

    def clear(self) -> None:
        self.level = ""
        self.label.clear()
        self.hide()


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "heading")
    return label


class GenerationPanel(QWidget):
    """Settings + Generate/Cancel for the document; talks to a :class:`GenerationRunner`."""

    #: ask for a render (the controller builds the job; queued while one runs); the Generate button
    generate_requested = Signal()
    #: stop the running job; the Cancel button
    cancel_requested = Signal()
    model_settings_requested = Signal()

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._updating = False
        self._busy = False

        # --- model
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_note = QLabel()  # says so while no model is configured (tiny-flux renders)
        self.model_note.setWordWrap(True)
        self.model_note.setProperty("role", "warning")
        self.model_note.hide()
        self.model_button = QPushButton("Model settings…")
        self.model_button.setToolTip("Choose the model, where its files are, the device "
                                     "and the precision")
        self.model_button.clicked.connect(self.model_settings_requested)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_label, 1)
        model_row.addWidget(self.model_button)

        # --- settings
        self.size_label = QLabel()
        self.size_label.setToolTip("The image size is the canvas size (Canvas ▸ Size to change it)")
        self.steps = QSpinBox()
        # 0 stands for "the model's default" (28 for FLUX.1-dev, 4 for schnell and tiny-flux)
        self.steps.setRange(0, STEP_RANGE[1])
        self.steps.setSpecialValueText("Model default")
        self.steps.setToolTip("Denoising steps; at the lowest value the model's own default is used")
        self.guidance = QDoubleSpinBox()
        # the lowest value stands for "the model's default" (3.5 for FLUX.1-dev, 0 for schnell...)
        self.guidance.setRange(GUIDANCE_MODEL_DEFAULT, GUIDANCE_RANGE[1])
        self.guidance.setDecimals(1)
        self.guidance.setSingleStep(GUIDANCE_STEP)
        self.guidance.setSpecialValueText("Model default")
        self.guidance.setToolTip("How closely the image follows the prompts; at the lowest value the model's own "
                                 "default is used. Models that run classifier-free guidance do twice the work per "
                                 "step above 1.")
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed_mode = QComboBox()
        self.seed_mode.setToolTip("Which seed the next render uses: this one, a new random one, or this one and then "
                                  "the next")
        for key, label in SEED_MODE_LABELS.items():
            self.seed_mode.addItem(label, key)
            self.seed_mode.setItemData(self.seed_mode.count() - 1, SEED_MODE_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self.count = QSpinBox()
        self.count.setRange(1, MAX_IMAGES)
        self.count.setToolTip("Images one Generate makes (variations): seeds S, S+1, ...; each joins the history "
                              "with its own seed and can be restored on its own")
        self.method = QComboBox()
        self.method.setToolTip("How the layout controls the picture: AST (the attention method), regional "
                               "prompting, or none (the base prompt alone)")
        for key, control in METHODS.items():  # the registry: every method the engine has
            self.method.addItem(control.label, key)
            self.method.setItemData(self.method.count() - 1, control.description, Qt.ItemDataRole.ToolTipRole)
        # the fields may be narrower than their longest text, so the panel fits a 1280-pixel screen
        for box, width in ((self.steps, 90), (self.seed, 70)):
            box.setMinimumWidth(width)
        for combo in (self.seed_mode, self.method):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Size", self.size_label)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.seed_mode, 1)
        form.addRow("Seed", seed_row)
        form.addRow("Images", self.count)
        form.addRow("Method", self.method)

        # --- the selected method's own parameters (built from the registry)
        self.method_parameters = MethodParametersBox(document)

        # --- AST controls: the schedule's simple view (the Schedule page is the expert view)
        from ast_studio.schedule.simple_view import SimpleScheduleView

        self.simple_schedule = SimpleScheduleView(document)
        self.ast_controls = QWidget()
        self.ast_controls.setToolTip("How strongly AST keeps each instance to its region and its words, for every "
                                     "instance at once (each instance also has its own strength)")
        ast_box = QVBoxLayout(self.ast_controls)
        ast_box.setContentsMargins(0, 0, 0, 0)
        ast_box.addWidget(_heading("AST controls"))
        ast_box.addWidget(self.simple_schedule)

        # --- the project's LoRAs
        self.loras = LoraList(document)
        self.loras.message.connect(lambda text: self.messages.show_message(text, "warning"))

        # --- run
        self.generate_button = QPushButton("Generate")
        self.generate_button.setMinimumHeight(36)
        self.generate_button.clicked.connect(self.generate_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setMinimumHeight(36)
        self.cancel_button.setToolTip("Stop the running render at the end of its current step; the queue goes on")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.clock: JobClock | None = None
        self.timing = QLabel("")  # "0:07 elapsed · about 0:21 left" while a job runs
        self.timing.setStyleSheet("color: #9aa0a8;")
        self.timing.hide()
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_timing)
        self.queue = QueueView()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.hide()  # shown while a render runs, and with its outcome
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #9aa0a8;")
        self.messages = MessageArea()

        # The run controls stay on top; the settings scroll under them in a short dock.
        self.settings_box = QWidget()
        settings = QVBoxLayout(self.settings_box)
        settings.setContentsMargins(0, 0, 6, 0)
        settings.addWidget(_heading("Model"))
        settings.addLayout(model_row)
        settings.addWidget(self.model_note)
        settings.addWidget(_heading("Settings"))
        settings.addLayout(form)
        settings.addWidget(self.method_parameters)
        settings.addWidget(self.ast_controls)
        settings.addWidget(self.loras)
        settings.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.settings_box)
        # never narrower than the settings: the docks take room from the canvas instead
        self.setMinimumWidth(self.settings_box.minimumSizeHint().width()
                             + self.scroll.verticalScrollBar().sizeHint().width() + 20)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 3)
        buttons.addWidget(self.cancel_button, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.timing)
        layout.addWidget(self.status)
        layout.addWidget(self.queue)
        layout.addWidget(self.messages)
        layout.addWidget(self.scroll, 1)

        # a typed number counts when Enter or Tab confirms it (the arrows count at once): a value
        # half typed is never written back over what the user is typing
        for box in (self.steps, self.guidance, self.seed, self.count):
            box.setKeyboardTracking(False)
        self.steps.valueChanged.connect(lambda v: self._set("steps", int(v) or None))
        self.guidance.valueChanged.connect(
            lambda v: self._set("guidance", None if v < GUIDANCE_RANGE[0] else round(float(v), 3)))
        self.seed.valueChanged.connect(lambda v: self._set("seed", int(v)))
        self.count.valueChanged.connect(lambda v: self._set("count", int(v)))
        self.seed_mode.currentIndexChanged.connect(lambda _i: self._set("seed_mode", self.seed_mode.currentData()))
        self.method.currentIndexChanged.connect(lambda _i: self._set("method", self.method.currentData()))
        document.part_changed.connect(self._on_part_changed)
        document.replaced.connect(self.refresh)
        document.layout.events.connect(self._on_layout_event)
        notifier().changed.connect(self._on_model_changed)
        self.refresh()
        self.refresh_model()

    # ------------------------------------------------------------------ model -> view
    def _on_part_changed(self, name: str) -> None:
        if name in ("settings", "schedule"):
            self.refresh()

    def _on_layout_event(self, event) -> None:
        if event.kind in ("size_changed", "reset"):
            self._show_size()

    def _show_size(self) -> None:
        layout = self.document.layout
        self.size_label.setText(f"{layout.width} × {layout.height} (canvas)")

    def refresh(self) -> None:
        """Show the document's settings and schedule."""
        self._updating = True
        try:
            s = self.document.settings.generation
            self.steps.setValue(s.steps or 0)
            self.guidance.setValue(GUIDANCE_MODEL_DEFAULT if s.guidance is None else s.guidance)
            self.seed.setValue(s.seed)
            self.count.setValue(s.count)
            self.seed_mode.setCurrentIndex(self.seed_mode.findData(s.seed_mode))
            self.method.setCurrentIndex(self.method.findData(s.method))
            self.seed.setEnabled(s.seed_mode != "random")
            self.seed.setToolTip("A new random seed is drawn for every render; the history keeps it"
                                 if s.seed_mode == "random" else "The seed of the next render: the same seed and "
                                 "settings give the same picture")
            self.ast_controls.setEnabled(method(s.method).uses_schedule)
            self._show_size()
        finally:
            self._updating = False

    def refresh_model(self) -> ModelSettings:
        """Show the configured model (and the note while none is configured); returns it."""
        model = load_model_settings()
        note = model_note()
        self.model_label.setText(model.describe())
        self.model_note.setText(f"No model configured: the built-in {model.model} renders (random weights: it shows "
                                f"the pipeline working, not real pictures). Model settings… chooses one."
                                if note else "")
        self.model_note.setVisible(bool(note))
        self.steps.setSpecialValueText(f"Model default ({steps_to_run(None, model.family)})")
        self.guidance.setSpecialValueText(f"Model default ({model.family.default_guidance:g})")
        return model

    def _on_model_changed(self, _model) -> None:
        self.refresh_model()

    # ------------------------------------------------------------------ view -> model
    def _set(self, field: str, value) -> None:
        if self._updating:
            return
        current = self.document.settings.generation.to_dict()
        if current.get(field) == value:
            return
        self.document.undo_stack.push(SetRenderSettings(self.document, {field: value}))

    # ------------------------------------------------------------------ run state
    def set_busy(self, busy: bool) -> None:
        """While a job runs, Generate adds to the queue and Cancel stops the running job."""
        self._busy = busy
        self.generate_button.setText("Add to queue" if busy else "Generate")
        self.generate_button.setToolTip("Queue a render of the project as it is now; it starts when the running "
                                        "one ends (Ctrl+Return)" if busy else "Render the layout (Ctrl+Return)")
        self.generate_button.setStyleSheet("background: #2f4f78; border-color: #4f9dff; font-weight: 600;")
        self.cancel_button.setEnabled(busy)
        self.cancel_button.setStyleSheet("background: #5a2a2e; border-color: #8c3b41;" if busy
                                         else "color: #6b7078;")  # greyed: nothing to cancel
        if busy:
            self._tick.start()
        else:
            self._tick.stop()
            self.progress.setRange(0, max(1, self.progress.maximum()))

    @property
    def busy(self) -> bool:
        return self._busy

    def clear_problem(self) -> None:
        """A failed render's cause was fixed: take its message down."""
        self.messages.clear()
        self.messages.setToolTip("")
        self.status.setText("Ready")

    def reset_run_state(self) -> None:
        """Another project was opened (or a new one started): no progress, time or message of a
        render of the previous one stays."""
        self.clock = None
        self.progress.hide()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.timing.hide()
        self.clear_problem()

    def job_started(self, job) -> None:
        """A job went to the worker: its clock starts (loading counts as elapsed)."""
        self.status.setText("Starting…")
        self.clock = JobClock()
        self.progress.show()
        self.progress.setRange(0, 0)
        self.progress.setFormat("Starting…")
        self._show_timing()

    def _show_timing(self) -> None:
        if self.clock is None:
            self.timing.hide()
            return
        self.timing.setText(self.clock.text())
        self.timing.show()

    def _stop_clock(self) -> None:
        """The job ended: the timing line keeps its whole time."""
        if self.clock is not None:
            self.timing.setText(f"{clock_text(self.clock.elapsed())} in all")
            self.timing.show()
        self.clock = None

    def show_event(self, event, label: str = "") -> None:
        """Reflect a worker event in the progress bar, timing, status line and message area.
        ``label`` names the job in a failure's message (several jobs may have run from the queue)."""
        if isinstance(event, ev.Loading):
            self.progress.show()
            self.status.setText(event.message)
            if event.progress is None:
                self.progress.setRange(0, 0)  # busy indicator
                self.progress.setFormat("Loading model…")
            else:
                self.progress.setRange(0, 1000)
                self.progress.setValue(int(1000 * event.progress))
                self.progress.setFormat(event.message)
        elif isinstance(event, ev.Started):
            self.progress.show()
            self.progress.setRange(0, 0)
            self.progress.setFormat("Preparing…")
            self.status.setText("Rendering…")
        elif isinstance(event, ev.Stage):
            if event.kind == "denoising" and self.clock is not None:
                self.clock.denoising()
            if event.kind != "denoising" or self.progress.maximum() == 0:
                self.progress.setFormat(event.text)
            self.status.setText(f"{event.text}…" if event.kind != "denoising" else "Rendering…")
        elif isinstance(event, ev.Step):
            total = event.total * event.images
            self.progress.setRange(0, max(1, total))
            self.progress.setValue((event.image - 1) * event.total + event.index)
            of = f"Image {event.image}/{event.images} · " if event.images > 1 else ""
            self.progress.setFormat(f"{of}Step {event.index}/{event.total}")
            if self.clock is not None:
                self.clock.step(event.index, event.total, event.image, event.images, event.step_ended)
                self._show_timing()
        elif isinstance(event, ev.Finished):
            if self.progress.maximum() == 0:  # still the busy indicator: no step was reported
                self.progress.setRange(0, 1)
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat("Done")
            seeds = [m.get("seed", "?") for m in event.metadatas] or [event.job.settings.get("seed") if event.job else "?"]
            what = f"{len(seeds)} images (seeds {seeds[0]}–{seeds[-1]})" if len(seeds) > 1 else f"seed {seeds[0]}"
            self.status.setText(f"Rendered in {event.seconds:.1f} s ({what}).")
            if event.warnings:
                self.messages.show_message("\n".join(str(w) for w in event.warnings), "warning", "Warnings")
            self._stop_clock()
        elif isinstance(event, ev.Cancelled):
            self.progress.setFormat("Cancelled")
            kept = len(event.finished.images) if event.finished is not None else 0
            more = f"; the {kept} finished image{'s' if kept != 1 else ''} joined the history" if kept else ""
            self.status.setText(f"Cancelled after {event.steps_done} step{'s' if event.steps_done != 1 else ''}{more}.")
            self._stop_clock()
        elif isinstance(event, ev.Error):
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("")
            title = ERROR_TITLES.get(event.kind, "Render failed") + (f" ({label})" if label else "")
            self.progress.hide()
            self.status.setText(f"{title}. Nothing was changed in the document.")
            self.messages.show_message(event.message, "error", title)
            self.messages.setToolTip(event.details[-2000:] if event.details else "")
            self._stop_clock()
