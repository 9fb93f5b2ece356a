"""The generation worker: a QObject on its own QThread that owns the loaded pipeline.

GUI side, use :class:`GenerationRunner`::

    runner = GenerationRunner()
    runner.event.connect(on_event)     # Loading / Started / Stage / Step / Finished / Cancelled / Error
    runner.submit(job)                 # runs now, or joins the queue while a job runs
    runner.queue, runner.move(id, -1), runner.remove(id)   # the waiting jobs, in order
    runner.cancel()                    # stops the running job within one step; the queue goes on
    runner.shutdown()                  # at exit

One job runs at a time; the jobs submitted meanwhile wait in the queue and start one after the
other as each job ends, whether it finished, was cancelled or failed. The loaded model stays
cached in the worker between jobs and is reloaded only when the model settings change
(:meth:`ModelSettings.load_key`).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from PySide6.QtCore import QObject, QThread, Signal, Slot

from . import engine_run
from . import events as ev

log = logging.getLogger(__name__)


class GenerationWorker(QObject):
    """Runs jobs on the thread it lives on. ``event`` carries the typed events."""

    event = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._loaded = None
        self._loaded_key: tuple | None = None
        self.loads = 0  # how many times a model was loaded (the cache is visible to tests)
        self.steps_done = 0  # steps finished by the running job (read from any thread)

    def request_cancel(self) -> None:
        """Thread-safe: the running job stops at the end of its current step."""
        self._cancel.set()

    def clear_cancel(self) -> None:
        self._cancel.clear()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @Slot(object)
    def run(self, job: ev.GenerationJob) -> None:
        steps_done = 0
        self.steps_done = 0
        t0 = time.perf_counter()
        try:
            engine_run.check_prompts(job)
            loaded = self._model_for(job)
            if self._cancel.is_set():
                self.event.emit(ev.Cancelled(0, job.id))
                return
            # "Model default" (None) steps and guidance mean the loaded family's defaults: the job
            # carries the numbers that run, so the history and captions record them
            ran = engine_run.numbers_that_run(job.settings, loaded.family)
            if any(job.settings.get(k) != v for k, v in ran.items()):
                job = replace(job, settings={**job.settings, **ran})
            total = ran["steps"]
            self.event.emit(ev.Started(total, job.id))

            def on_step(info) -> None:
                nonlocal steps_done
                ended = time.perf_counter()
                steps_done = int(info.step)  # 1-based: the step that just finished
                self.steps_done = steps_done
                preview = None
                try:
                    preview = engine_run.preview_rgb(info, loaded)
                except Exception:  # noqa: BLE001 - a failed preview must not stop the render
                    log.exception("preview of step %s failed", steps_done)
                self.event.emit(ev.Step(steps_done, int(info.total), preview, ended, job.id,
                                        int(info.image), int(info.images)))

            def on_stage(stage) -> None:
                self.event.emit(ev.Stage(stage.kind, stage.text, stage.image, stage.images, job.id))

            # The engine checks the flag after every step and raises its Cancelled; a cancel
            # that arrives after an image's last step keeps that image.
            result = engine_run.run(job, loaded, on_step, self._cancel, on_stage)
            self.event.emit(_finished(result, job, t0))
        except BaseException as exc:  # noqa: BLE001 - every failure becomes an Error event
            if _is_engine_cancel(exc):
                done = getattr(exc, "result", None)
                finished = _finished(done, job, t0) if done is not None and done.images else None
                self.event.emit(ev.Cancelled(int(getattr(exc, "step", steps_done)), job.id, finished))
                return
            # whatever happens below, the job must end with an event (or the studio stays busy)
            try:
                if engine_run.is_out_of_memory(exc):
                    self._drop_model()
                    engine_run.free_memory()
            except Exception:  # noqa: BLE001
                log.exception("freeing memory after an out-of-memory error failed")
            try:
                error = engine_run.describe_error(exc, job)
            except Exception:  # noqa: BLE001
                error = ev.Error(f"Rendering failed ({type(exc).__name__}: {exc})", ev.INTERNAL, "", job.id)
            log.warning("generation failed: %s", error.message)
            self.event.emit(error)

    def _model_for(self, job: ev.GenerationJob):
        key = job.model.load_key()
        if self._loaded is not None and key == self._loaded_key:
            return self._loaded
        self._drop_model()
        self.event.emit(ev.Loading(f"Loading {job.model.describe()}…", None, job.id))
        t = time.perf_counter()

        def on_progress(stage) -> None:
            share = stage.done / stage.total if stage.total else None
            self.event.emit(ev.Loading(stage.text, share, job.id))

        self._loaded = engine_run.load(job.model, on_progress)
        self._loaded_key = key
        self.loads += 1
        self.event.emit(ev.Loading(f"Loaded {job.model.model} in {time.perf_counter() - t:.1f} s", 1.0, job.id))
        return self._loaded

    def _drop_model(self) -> None:
        self._loaded, self._loaded_key = None, None

    @Slot()
    def release(self) -> None:
        """Forget the loaded model (frees its memory once nothing else holds it)."""
        self._drop_model()


def _finished(result, job: ev.GenerationJob, t0: float) -> ev.Finished:
    """The Finished event of ``result`` (images decoded and PNG-encoded here, on the worker thread)."""
    images = [engine_run.to_rgb_array(im) for im in result.images]
    pngs = [engine_run.encode_png(im) for im in images]
    metadatas = [dict(m) for m in result.image_metadata]
    return ev.Finished(images, dict(result.metadata), list(getattr(result, "warnings", []) or []), job,
                       time.perf_counter() - t0, job.id, pngs, metadatas)


def _is_engine_cancel(exc: BaseException) -> bool:
    cls = type(exc)
    return cls.__name__ == "Cancelled" and cls.__module__.startswith("ast_core")


class GenerationRunner(QObject):
    """GUI-thread handle of the worker thread: submit, queue, cancel, receive events in the GUI thread."""

    event = Signal(object)
    busy_changed = Signal(bool)
    #: the waiting jobs changed (added, moved, removed, or one went to the worker)
    queue_changed = Signal()
    #: a job went to the worker (the GenerationJob)
    job_started = Signal(object)
    _submit = Signal(object)
    _release = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("generation")
        self.worker = GenerationWorker()
        self.worker.moveToThread(self._thread)
        self._submit.connect(self.worker.run)
        self._release.connect(self.worker.release)
        self.worker.event.connect(self._on_event)
        self._thread.start()
        self._busy = False
        self._next_id = 0
        self._queue: list[ev.GenerationJob] = []
        self.current_job: ev.GenerationJob | None = None

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def queue(self) -> tuple[ev.GenerationJob, ...]:
        """The jobs waiting, in the order they will run."""
        return tuple(self._queue)

    def _numbered(self, job: ev.GenerationJob) -> ev.GenerationJob:
        self._next_id += 1
        return replace(job, id=self._next_id)  # every field kept (the LoRAs too)

    def submit(self, job: ev.GenerationJob) -> ev.GenerationJob:
        """Run ``job`` now, or queue it behind the running job; returns it numbered."""
        job = self._numbered(job)
        if self._busy:
            self._queue.append(job)
            self.queue_changed.emit()
        else:
            self._launch(job)
        return job

    def _launch(self, job: ev.GenerationJob) -> None:
        self.current_job = job
        self.worker.clear_cancel()
        self._set_busy(True)
        self.job_started.emit(job)
        self._submit.emit(job)

    def move(self, job_id: int, delta: int) -> bool:
        """Move a waiting job ``delta`` places (negative: sooner); False if it cannot move."""
        ids = [j.id for j in self._queue]
        if job_id not in ids:
            return False
        i = ids.index(job_id)
        k = max(0, min(len(ids) - 1, i + delta))
        if k == i:
            return False
        self._queue.insert(k, self._queue.pop(i))
        self.queue_changed.emit()
        return True

    def remove(self, job_id: int) -> bool:
        """Take a waiting job out of the queue (it never runs)."""
        kept = [j for j in self._queue if j.id != job_id]
        if len(kept) == len(self._queue):
            return False
        self._queue = kept
        self.queue_changed.emit()
        return True

    def clear_queue(self) -> None:
        if self._queue:
            self._queue = []
            self.queue_changed.emit()

    def cancel(self) -> None:
        """Stop the running job (within one step); the queue carries on with the next."""
        if self._busy:
            self.worker.request_cancel()

    def release_model(self) -> None:
        self._release.emit()

    def _on_event(self, event) -> None:
        self.event.emit(event)
        ended = isinstance(event, (ev.Finished, ev.Cancelled, ev.Error))
        if not ended or self.current_job is None or event.job_id != self.current_job.id:
            return
        if self._queue:
            job = self._queue.pop(0)
            self.queue_changed.emit()
            self._launch(job)
        else:
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Drop the queue, cancel any job and stop the thread (call before the application quits)."""
        self._queue = []
        self.worker.request_cancel()
        self._thread.quit()
        if not self._thread.wait(timeout_ms):
            log.warning("the generation thread did not stop within %d ms", timeout_ms)
