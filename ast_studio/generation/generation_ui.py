"""The generation feature put together: runner + Generate panel + preview pane + history.

``GenerationUi(document)`` builds the widgets and the worker thread; ``install(window)``
docks them into the main window (Generate on the right, Preview on the left, History at
the bottom), adds a **Generate** menu and stops the worker when the application quits::

    ui = GenerationUi(window.document)
    ui.install(window)

Flow: Generate snapshots the layout, schedule and settings into a
:class:`~.events.GenerationJob`; the worker reports Loading / Started / Step / Finished /
Cancelled / Error; a finished render joins ``document.renders`` (outside the undo stack)
and, in "increment" seed mode, the seed moves on.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget

from ast_core.methods import method
from ast_core.schedule.timesteps import steps_to_run

from . import events as ev
from . import history
from .generation_panel import ERROR_TITLES, GenerationPanel
from .history_panel import HistoryPanel
from .model_settings import notifier
from .model_settings_dialog import ModelSettingsDialog
from .preview_pane import PreviewPane, load_outlines_choice, save_outlines_choice
from .worker import GenerationRunner

log = logging.getLogger(__name__)


def prompt_problems(layout, method_name: str) -> list[str]:
    """What the engine would refuse in the prompts under method ``method_name``, checked the
    editor's way (by characters): a base prompt; for a method that needs them there
    (``needs_text_in_base_prompt``), the text of the instances taking part (visible, with an
    area) and of the background inside it; otherwise a prompt for each such instance.
    Empty when a render can go ahead."""
    problems = []
    if not layout.base_prompt.strip():
        problems.append("the base prompt is empty")
    needs_text = method(method_name).needs_text_in_base_prompt
    for inst in layout.visible_instances():
        if inst.is_empty or inst.area <= 0:
            continue
        if needs_text and not layout.in_base_prompt(inst.prompt):
            problems.append(f"{inst.name} is not in the base prompt")
        elif not needs_text and not inst.prompt.strip():
            problems.append(f"{inst.name} has no prompt")
    if needs_text and layout.background_missing_from_base_prompt():
        problems.append("the background prompt is not in the base prompt")
    return problems


class GenerationUi(QObject):
    #: a line for the window's status bar
    status = Signal(str)
    #: a render joined the history (the Render)
    render_added = Signal(object)

    def __init__(self, document, qsettings: QSettings | None = None, runner: GenerationRunner | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.qsettings = qsettings
        self._owns_runner = runner is None
        self.runner = runner or GenerationRunner(self)
        self.panel = GenerationPanel(document)
        self.preview = PreviewPane()
        self.history = HistoryPanel(document)
        self.last_error: ev.Error | None = None
        self._job_layout = None
        self._content = 0  # bumped when the document's content is replaced (new / open)
        self._job_content: dict[int, int] = {}  # job id -> content number it was made from
        self.preview.view.set_canvas_size(document.layout.width, document.layout.height)
        self.preview.outlines.setChecked(load_outlines_choice(qsettings))
        self.preview.outlines_toggled.connect(lambda on: save_outlines_choice(on, qsettings))

        self.panel.generate_requested.connect(self.generate)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.model_settings_requested.connect(self.edit_model_settings)
        self._runner_links = [(self.runner.event, self._on_event), (self.runner.busy_changed, self.panel.set_busy)]
        self.history.view_requested.connect(self.view_render)
        self.history.message.connect(self.status)
        document.replaced.connect(self._on_document_replaced)
        document.layout.events.connect(self._on_layout_event)
        document.part_changed.connect(lambda name: self._recheck_error(name))
        document.settings_changed.connect(self._on_settings_changed)
        notifier().changed.connect(self._on_model_changed)
        for signal, slot in self._runner_links:
            signal.connect(slot)
        self.panel.set_busy(False)
        self._show_idle_layout()

    # ------------------------------------------------------------------ actions
    def generate(self) -> ev.GenerationJob | None:
        """Start a render of the document as it is now (None if one is already running)."""
        if self.runner.busy:
            self.status.emit("A render is already running: cancel it first.")
            return None
        doc = self.document
        model = self.panel.refresh_model()
        settings = doc.settings.generation
        seed = settings.seed_for_run()
        layout = doc.layout.copy()
        engine_settings = settings.engine_settings(layout.width, layout.height, seed,
                                                   doc.settings.method_parameters(settings.method))
        engine_settings["steps"] = steps = steps_to_run(settings.steps, model.family)  # "Model default" -> a number
        job = ev.GenerationJob(
            layout=layout,
            schedule=None if doc.schedule is None else doc.schedule.copy(),
            settings=engine_settings,
            model=model,
            parameters={"render_settings": settings.to_dict()},
            loras=doc.settings.loras,
        )
        self.panel.messages.clear()
        self.last_error = None
        job = self.runner.start(job)
        if job is not None:
            self._job_layout = layout
            self._job_content[job.id] = self._content
            self.preview.set_caption("Starting…")
            w, h = job.settings["width"], job.settings["height"]
            default = f" ({model.model}'s default)" if settings.steps is None else ""
            self.status.emit(f"Rendering {w}×{h}, {steps} steps{default}, seed {seed}…")
        return job

    def cancel(self) -> None:
        if self.runner.busy:
            self.runner.cancel()
            self.panel.status.setText("Cancelling at the end of this step…")

    def edit_model_settings(self) -> bool:
        dialog = ModelSettingsDialog(self.panel.window(), add_loras=self.panel.loras.add_files)
        accepted = dialog.exec() == ModelSettingsDialog.DialogCode.Accepted
        if accepted:
            model = self.panel.refresh_model()
            self.status.emit(f"Model: {model.describe()}")
        return accepted

    def view_render(self, render) -> None:
        try:
            layout = history.layout_of(render)
        except ValueError:
            layout = None
        from PySide6.QtGui import QImage

        image = QImage.fromData(render.image_png, "PNG")
        caption = "Render · " + history.short_summary(render)
        if image.isNull():  # a damaged project file: its image does not decode
            image, caption = None, caption + " · the image cannot be decoded"
        self.preview.show_image(image, layout, caption)
        self.preview.caption.setToolTip(history.summary(render))

    # ------------------------------------------------------------------ events
    def _on_event(self, event) -> None:
        self.panel.show_event(event)
        if isinstance(event, ev.Step):
            self.preview.show_preview(event.preview, event.index, event.total, self._job_layout, event.step_ended)
        elif isinstance(event, ev.Finished):
            self._on_finished(event)
        elif isinstance(event, ev.Cancelled):
            total = self.runner.current_job.settings.get("steps") if self.runner.current_job else None
            of = f" of {total}" if total else ""
            self.preview.set_caption(f"Cancelled after step {event.steps_done}{of}",
                                     "The picture is the preview of the last finished step.")
            self.status.emit("Render cancelled.")
        elif isinstance(event, ev.Error):
            self.last_error = event
            self.preview.set_caption(f"Not rendered: {ERROR_TITLES.get(event.kind, 'render failed').lower()}",
                                     "The message under the Generate button says why.")
            self.status.emit(event.message)
        elif isinstance(event, ev.Loading):
            self.status.emit(event.message)

    def _on_finished(self, event: ev.Finished) -> None:
        doc = self.document
        if self._job_content.pop(event.job_id, self._content) != self._content:
            self.status.emit("A render finished for a project that is no longer open; it was not kept.")
            return
        added = [history.render_from_finished(event, i) for i in range(len(event.images))]
        if not added:
            self.status.emit("The render finished without an image.")
            return
        doc.set_renders(list(doc.renders) + added)
        settings = doc.settings.generation
        used = int(event.job.settings.get("seed", settings.seed))
        after = settings.after_run(used)
        if after != settings:
            doc.settings.set_generation(after)  # outside the undo stack, like the new render
            doc.mark_modified()
        last = added[-1]
        self.preview.show_image(event.images[-1], event.job.layout, "Render · " + history.short_summary(last))
        self.preview.caption.setToolTip(history.summary(last))
        self.history.select(last.id)
        self.status.emit(f"Rendered in {event.seconds:.1f} s; added to the history.")
        for r in added:
            self.render_added.emit(r)

    def _on_document_replaced(self) -> None:
        self._content += 1
        if self.runner.busy:
            self.runner.cancel()
        self.preview.clear((self.document.layout.width, self.document.layout.height))
        self._show_idle_layout()

    def _on_layout_event(self, event) -> None:
        if self.preview.view.image is None and not self.runner.busy:
            self._show_idle_layout()
        self._recheck_error("size" if event.kind == "size_changed" else "layout")

    def _on_settings_changed(self, part: str) -> None:
        if part == "loras":
            self._recheck_error("loras")

    def _on_model_changed(self, _model) -> None:
        self._recheck_error("model")

    def _recheck_error(self, what: str) -> None:
        """After an edit (``what``: "layout", "size", "settings", "loras", "schedule", "renders" or "model"),
        take down a failed render's message once the edit fixed its cause."""
        err = self.last_error
        if err is None or self.runner.busy:
            return
        if err.kind == ev.PROMPT:
            fixed = what in ("layout", "size", "settings") and \
                not prompt_problems(self.document.layout, self.document.settings.generation.method)
        elif err.kind == ev.LORA:
            fixed = what in ("loras", "model")
        elif err.kind == ev.MODEL:
            fixed = what == "model"
        elif err.kind == ev.SETTINGS:
            fixed = what in ("settings", "schedule", "size", "model")
        elif err.kind == ev.OUT_OF_MEMORY:
            fixed = what in ("size", "model")
        else:
            fixed = False
        if fixed:
            self.last_error = None
            self.panel.clear_problem()
            if self.preview.view.image is None:
                self._show_idle_layout()
            else:
                self.preview.set_caption("Last preview · ready to generate again")

    def _show_idle_layout(self) -> None:
        """With nothing rendered yet, the pane shows the canvas' shape and outlines."""
        view = self.preview.view
        view.layout_snapshot = self.document.layout
        view.set_canvas_size(self.document.layout.width, self.document.layout.height)
        self.preview.set_caption(view.placeholder)

    # ------------------------------------------------------------------ main window
    def docks(self, parent=None) -> tuple[QDockWidget, QDockWidget, QDockWidget]:
        out = []
        for title, name, widget in (("Generate", "generate-dock", self.panel), ("Preview", "preview-dock", self.preview),
                                    ("History", "history-dock", self.history)):
            dock = QDockWidget(title, parent)
            dock.setObjectName(name)
            dock.setWidget(widget)
            out.append(dock)
        return tuple(out)

    def install(self, window) -> None:
        """Dock the panels into ``window`` (a MainWindow) and add the Generate menu."""
        generate_dock, preview_dock, history_dock = self.docks(window)
        # left column, full height: the preview above the Generate panel; the history strip at the bottom
        window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.preview_dock = window.add_panel(preview_dock, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.generate_dock = window.add_panel(generate_dock, Qt.DockWidgetArea.LeftDockWidgetArea)
        window.splitDockWidget(self.preview_dock, self.generate_dock, Qt.Orientation.Vertical)
        self.history_dock = window.add_panel(history_dock, Qt.DockWidgetArea.BottomDockWidgetArea)
        window.resizeDocks([self.preview_dock], [400], Qt.Orientation.Horizontal)
        window.resizeDocks([self.preview_dock, self.generate_dock], [330, 420], Qt.Orientation.Vertical)
        menu = window.menu("generate", "&Generate")
        self.generate_action = QAction("&Generate", window)
        self.generate_action.setShortcut(QKeySequence("Ctrl+Return"))
        self.generate_action.triggered.connect(self.generate)
        self.cancel_action = QAction("&Cancel render", window)
        self.cancel_action.triggered.connect(self.cancel)
        self.cancel_action.setEnabled(False)
        model_action = QAction("&Model settings…", window)
        model_action.triggered.connect(self.edit_model_settings)
        for a in (self.generate_action, self.cancel_action):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(model_action)
        self.runner.busy_changed.connect(self._update_actions)
        self._runner_links.append((self.runner.busy_changed, self._update_actions))
        self.status.connect(lambda text: window.statusBar().showMessage(text, 8000))
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _update_actions(self, busy: bool) -> None:
        self.generate_action.setEnabled(not busy)
        self.cancel_action.setEnabled(busy)

    def close(self) -> None:
        """Stop listening to the runner (and stop it, if this object created it)."""
        try:
            notifier().changed.disconnect(self._on_model_changed)
        except (RuntimeError, TypeError):
            pass
        for signal, slot in self._runner_links:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self._runner_links = []
        if self._owns_runner:
            self.runner.shutdown()

    def shutdown(self) -> None:
        self.runner.shutdown()
