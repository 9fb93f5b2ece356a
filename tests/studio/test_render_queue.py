"""Iterating in the studio on tiny-flux: the render queue, variations in the history, progress and ETA."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QSettings, QStandardPaths, Qt

from ast_core.project import RenderSettings
from ast_studio.document import Document
from ast_studio.generation import events as ev
from ast_studio.generation import history
from ast_studio.generation.generation_ui import GenerationUi
from ast_studio.generation.job_clock import JobClock, clock_text
from ast_studio.generation.model_settings import ModelSettings, save_model_settings
from ast_studio.generation.worker import GenerationRunner

from test_generation import SCREENS, TIMEOUT, of_type, two_animals


@pytest.fixture(scope="module")
def runner(qapp):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    r = GenerationRunner()
    yield r
    r.shutdown()
    torch.set_num_threads(threads)


@pytest.fixture
def studio(qtbot, runner, tmp_path):
    QStandardPaths.setTestModeEnabled(True)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "user-settings"))
    save_model_settings(ModelSettings(model="tiny-flux"))
    doc = Document()
    doc.layout.replace_all(two_animals())
    doc.settings.set_generation(RenderSettings(steps=2, seed=11))
    ui = GenerationUi(doc, QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat), runner=runner)
    for w in (ui.panel, ui.preview, ui.history):
        qtbot.addWidget(w)
        w.show()
    events: list = []
    runner.event.connect(events.append)
    ui.test_events = events
    yield ui
    runner.event.disconnect(events.append)
    runner.clear_queue()
    if runner.busy:
        runner.cancel()
        qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT)
    ui.close()
    doc.undo_stack.clear()


def idle(ui) -> bool:
    return not ui.runner.busy and not ui.runner.queue


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_generate_while_rendering_queues_and_the_queue_survives_cancel_and_errors(qtbot, studio, monkeypatch):
    import ast_core.generate as engine

    panel, runner, doc = studio.panel, studio.runner, studio.document
    gate, real = threading.Event(), engine.generate

    def generate(layout, schedule, settings, model, on_step=None, cancel=None, on_stage=None):
        if settings.seed == 21:
            raise RuntimeError("the second render broke")

        def step(info):
            on_step(info)
            if settings.seed == 11:
                gate.wait(TIMEOUT / 1000)  # the first job holds after its first step
        return real(layout, schedule, settings, model, on_step=step, cancel=cancel, on_stage=on_stage)

    monkeypatch.setattr(engine, "generate", generate)
    try:
        click(qtbot, panel.generate_button)  # job A, seed 11
        qtbot.waitUntil(lambda: bool(of_type(studio.test_events, ev.Step)), timeout=TIMEOUT)
        loads = runner.worker.loads  # the model is loaded now
        assert panel.generate_button.text() == "Add to queue" and panel.cancel_button.isEnabled()
        for seed in (21, 31, 41):  # B fails, C is removed, D is moved before C
            panel.seed.setValue(seed)
            click(qtbot, panel.generate_button)
        view = panel.queue
        assert view.isVisible() and view.list.count() == 3 and view.title.text() == "Waiting (3)"
        assert [runner.queue[k].settings["seed"] for k in range(3)] == [21, 31, 41]
        assert view.list.item(0).text().startswith("1. seed 21 · 2 steps")
        view.list.setCurrentRow(2)
        click(qtbot, view.up)  # D before C
        assert [j.settings["seed"] for j in runner.queue] == [21, 41, 31] and view.selected_id() == runner.queue[1].id
        SCREENS.mkdir(parents=True, exist_ok=True)
        panel.grab().save(str(SCREENS / "generation-queue.png"))
        view.list.setCurrentRow(2)
        click(qtbot, view.remove)  # C never runs
        assert [j.settings["seed"] for j in runner.queue] == [21, 41] and view.list.count() == 2

        click(qtbot, panel.cancel_button)  # cancels A only
        gate.set()
        qtbot.waitUntil(lambda: idle(studio), timeout=TIMEOUT)
    finally:
        gate.set()
    ends = [e for e in studio.test_events if isinstance(e, (ev.Finished, ev.Cancelled, ev.Error))]
    assert [type(e) for e in ends] == [ev.Cancelled, ev.Error, ev.Finished]
    assert ends[0].steps_done == 1 and ends[0].finished is None
    assert "the second render broke" in ends[1].message
    assert [history.seed_of(r) for r in doc.renders] == [41]  # only D made a picture
    message = panel.messages.text()  # B's failure stays up while D runs and after it
    assert "the second render broke" in message and "queued render, seed 21" in message
    assert not view.isVisible() and panel.generate_button.text() == "Generate"
    assert runner.worker.loads == loads  # the model stayed loaded from job to job


def test_variations_join_the_history_side_by_side_each_restorable(qtbot, studio, tmp_path):
    from ast_core.provenance import read_png

    panel, doc = studio.panel, studio.document
    panel.count.setValue(3)
    assert doc.settings.generation.count == 3
    seen = {}

    def watch(event):
        if isinstance(event, ev.Step) and event.image == 2 and "format" not in seen:
            seen["format"] = panel.progress.format()
            seen["timing"] = panel.timing.text()

    studio.runner.event.connect(watch)
    try:
        with qtbot.waitSignal(studio.runner.busy_changed, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
            click(qtbot, panel.generate_button)
    finally:
        studio.runner.event.disconnect(watch)
    assert seen["format"] == "Image 2/3 · Step 1/2" and "elapsed · about" in seen["timing"]
    stages = [e.text for e in of_type(studio.test_events, ev.Stage)]
    assert stages[0] == "Encoding prompts" and "Decoding image 3/3" in stages
    assert "Rendered in" in panel.status.text() and "3 images (seeds 11–13)" in panel.status.text()
    assert "in all" in panel.timing.text()

    assert [history.seed_of(r) for r in doc.renders] == [11, 12, 13]
    assert [history.variation_of(r) for r in doc.renders] == [(1, 3), (2, 3), (3, 3)]
    strip = studio.history.strip
    assert strip.isWrapping() and strip.count() == 3
    assert [strip.item(k).text() for k in range(3)] == ["seed 13 · 3/3", "seed 12 · 2/3", "seed 11 · 1/3"]
    assert studio.history.selected_id() == doc.renders[0].id  # the first of the batch is shown
    studio.history.decode_thumbnails()
    SCREENS.mkdir(parents=True, exist_ok=True)
    studio.history.grab().save(str(SCREENS / "history-variations.png"))

    studio.history.select(doc.renders[1].id)  # restore the second variation: its own seed, one image
    panel.seed.setValue(99)
    assert studio.history.restore_selected()
    g = doc.settings.generation
    assert (g.seed, g.count) == (12, 1) and panel.count.value() == 1
    exported = studio.history.export_selected(tmp_path / "second.png")
    read = read_png(exported)
    assert read.project.settings.generation.seed == 12 and read.metadata["image"] == {
        "index": 2, "count": 3, "first_seed": 11}


def test_cancel_during_a_later_variation_keeps_the_finished_images(qtbot, studio):
    panel, doc = studio.panel, studio.document
    panel.count.setValue(3)
    panel.steps.setValue(3)

    def cancel_in_second(event):
        if isinstance(event, ev.Step) and event.image == 2:
            studio.cancel()

    studio.runner.event.connect(cancel_in_second)
    try:
        with qtbot.waitSignal(studio.runner.busy_changed, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
            studio.generate()
    finally:
        studio.runner.event.disconnect(cancel_in_second)
    last = studio.test_events[-1]
    assert isinstance(last, ev.Cancelled) and len(last.finished.images) == 1
    assert [history.seed_of(r) for r in doc.renders] == [11]
    assert "its 1 finished image is in the history" in studio.preview.caption.text()
    assert "the 1 finished image joined the history" in panel.status.text()


def test_increment_mode_moves_past_every_image_as_jobs_are_queued(qtbot, studio):
    doc = studio.document
    doc.settings.set_generation(RenderSettings(steps=1, seed=5, seed_mode="increment", count=2))
    first = studio.generate()
    second = studio.generate()  # queued or run: either way the seeds do not repeat
    assert (first.settings["seed"], second.settings["seed"]) == (5, 7) and doc.settings.generation.seed == 9
    qtbot.waitUntil(lambda: idle(studio), timeout=TIMEOUT)
    assert [history.seed_of(r) for r in doc.renders] == [5, 6, 7, 8]


def test_job_clock_paces_the_time_left():
    clock = JobClock(now=100.0)
    assert clock.remaining() is None and clock.text(now=103.0) == "0:03 elapsed"
    clock.denoising(now=104.0)
    clock.step(1, 4, image=1, images=2, now=106.0)  # 2 s a step, 7 steps to go
    assert clock.remaining() == pytest.approx(14.0)
    clock.step(2, 4, image=2, images=2, now=116.0)  # 6 steps in 12 s, 2 to go
    assert clock.remaining() == pytest.approx(4.0) and clock.text(now=116.0) == "0:16 elapsed · about 0:04 left"
    assert clock_text(3725) == "1:02:05"
