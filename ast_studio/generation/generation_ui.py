"""The generation feature put together: runner + Generate panel + preview pane + history.

``GenerationUi(document)`` builds the widgets and the worker thread; ``install(window)``
docks them into the main window (Generate on the right, Preview on the left, History at
the bottom), adds a **Generate** menu and stops the worker when the application quits::

    ui = GenerationUi(window.document)
    ui.install(window)

Flow: Generate snapshots the layout, schedule and settings into a
:class:`~.events.GenerationJob` (in "increment" seed mode the seed then moves on past the
job's images) and hands it to the runner, which starts it or queues it behind the running
job; the worker reports Loading / Started / Stage / Step / Finished / Cancelled / Error; a
finished render's images join ``document.renders`` (outside the undo stack), one entry per
image, and so do the images a cancelled job had finished.
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
from .queue_view import describe_job
from .worker import GenerationRunner

log = logging.getLogger(__name__)


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
        self._queued: set[int] = set()  # ids of jobs that waited in the queue
        self.preview.view.set_canvas_size(document.layout.width, document.layout.height)
        self.preview.outlines.setChecked(load_outlines_choice(qsettings))
        self.preview.outlines_toggled.connect(lambda on: save_outlines_choice(on, qsettings))

        self.panel.generate_requested.connect(self.generate)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.model_settings_requested.connect(self.edit_model_settings)
        self._runner_links = [(self.runner.event, self._on_event), (self.runner.busy_changed, self.panel.set_busy),
                              (self.runner.job_started, self._on_job_started),
                              (self.runner.queue_changed, self._show_queue)]
        self.panel.queue.move_requested.connect(self.runner.move)
        self.panel.queue.remove_requested.connect(self.runner.remove)
        self.history.view_requested.connect(self.view_render)
        self.history.message.connect(self.status)
        document.replaced.connect(self._on_document_replaced)
        document.layout.events.connect(self._on_layout_event)
        document.part_changed.connect(lambda name: self._recheck_error(name))
        document.settings_changed.connect(self._on_settings_changed)
        notifier().changed.connect(self._on_model_changed)
        for signal, slot in self._runner_links:
            signal.connect(slot)
        self.panel.set_busy(self.runner.busy)
        self._show_queue()
        self._show_idle_layout()

    # ------------------------------------------------------------------ actions
    def generate(self) -> ev.GenerationJob:
        """Render the document as it is now: at once, or queued behind the running job."""
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
        queued = self.runner.busy
        if not queued:
            self.panel.messages.clear()
            self.last_error = None
        job = self.runner.submit(job)
        self._job_content[job.id] = self._content
        after = settings.after_run(seed, settings.count)  # "increment": the next job starts past these seeds
        if after != settings:
            doc.settings.set_generation(after)  # outside the undo stack, like the renders it makes
            doc.mark_modified()
        if queued:
            self._queued.add(job.id)
            self.status.emit(f"Queued: {describe_job(job)} ({len(self.runner.queue)} waiting).")
        else:
            w, h = job.settings["width"], job.settings["height"]
            default = f" ({model.model}'s default)" if settings.steps is None else ""
            images = f", {settings.count} images" if settings.count > 1 else ""
            self.status.emit(f"Rendering {w}×{h}, {steps} steps{default}, seed {seed}{images}…")
        return job

    def cancel(self) -> None:
        """Stop the running job within one step (the queue carries on)."""
        if self.runner.busy:
            self.runner.cancel()
            self.panel.status.setText("Cancelling at the end of this step…")

    def _on_job_started(self, job) -> None:
        self._job_layout = job.layout
        self.panel.job_started(job)
        self.preview.set_caption("Starting…")

    def _show_queue(self) -> None:
        self.panel.queue.show_jobs(self.runner.queue)

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
        label = ""
        if isinstance(event, ev.Error) and event.job_id in self._queued:
            job = self.runner.current_job
            label = f"queued render, {describe_job(job)}" if job is not None and job.id == event.job_id else ""
        self.panel.show_event(event, label)
        if isinstance(event, ev.Step):
            self.preview.show_preview(event.preview, event.index, event.total, self._job_layout, event.step_ended)
            if event.images > 1:
                self.preview.set_caption(f"Preview · image {event.image}/{event.images} · step {event.index} / "
                                         f"{event.total}")
        elif isinstance(event, ev.Finished):
            self._on_finished(event)
        elif isinstance(event, ev.Cancelled):
            job = self.runner.current_job
            total = job.settings.get("steps") if job is not None and job.id == event.job_id else None
            of = f" of {total}" if total else ""
            kept = self._keep(event.finished) if event.finished is not None else []
            more = f"; its {len(kept)} finished image{'s are' if len(kept) != 1 else ' is'} in the history" \
                if kept else ""
            self.preview.set_caption(f"Cancelled after step {event.steps_done}{of}{more}",
                                     "The picture is the preview of the last finished step.")
            self.status.emit("Render cancelled." + (f" {len(kept)} finished image(s) kept." if kept else ""))
        elif isinstance(event, ev.Error):
            self.last_error = event
            self.preview.set_caption(f"Not rendered: {ERROR_TITLES.get(event.kind, 'render failed').lower()}",
                                     "The message under the Generate button says why.")
            self.status.emit(event.message)
        elif isinstance(event, ev.Loading):
            self.status.emit(event.message)
        if isinstance(event, (ev.Finished, ev.Cancelled, ev.Error)):
            self._queued.discard(event.job_id)
            self._job_content.pop(event.job_id, None)

    def _keep(self, event: ev.Finished) -> list:
        """Add the images of a finished (or partly finished) job to the history; the renders added."""
        doc = self.document
        if self._job_content.get(event.job_id, self._content) != self._content:
            self.status.emit("A render finished for a project that is no longer open; it was not kept.")
            return []
        added = [history.render_from_finished(event, i) for i in range(len(event.images))]
        if added:
            doc.set_renders(list(doc.renders) + added)
            for r in added:
                self.render_added.emit(r)
        return added

    def _on_finished(self, event: ev.Finished) -> None:
        added = self._keep(event)
        if not added:
            if event.images:
                return
            self.status.emit("The render finished without an image.")
            return
        first = added[0]
        self.preview.show_image(event.images[0], event.job.layout, "Render · " + history.short_summary(first)
                                + (f" · 1 of {len(added)} (all in the history)" if len(added) > 1 else ""))
        self.preview.caption.setToolTip(history.summary(first))
        self.history.select(first.id)
        n = f"{len(added)} images" if len(added) > 1 else "the image"
        self.status.emit(f"Rendered in {event.seconds:.1f} s; {n} added to the history.")

    def _on_document_replaced(self) -> None:
        self._content += 1
        self.runner.clear_queue()  # the queued jobs were the previous project's
        if self.runner.busy:
            self.runner.cancel()
        else:  # the last project's "Rendered in 16 s" or failure is not this one's
            self.last_error = None
            self.panel.reset_run_state()
        self.preview.clear((self.document.layout.width, self.document.layout.height))
        if self.document.renders:  # a reopened project shows its newest render, as it was left
            self.view_render(self.document.renders[-1])
        else:
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
                not method(self.document.settings.generation.method).prompt_problems(self.document.layout)
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
        self.generate_action.setText("Add to &queue" if busy else "&Generate")
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
        self.runner.clear_queue()
        if self._owns_runner:
            self.runner.shutdown()

    def shutdown(self) -> None:
        self.runner.shutdown()
