"""Autosave + recovery after a real crash, and start-up (time, no torch, file argument, first run)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from ast_studio.recovery import pending_recoveries

from editing_support import drag, line, open_window

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "examples" / "beach.astproj"


def isolated_env(tmp_path: Path) -> dict:
    """A child process whose settings and app data live under tmp_path."""
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               PYTHONPATH=str(ROOT))
    return env


CRASHING_SESSION = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {tests!r})
    from PySide6.QtWidgets import QApplication
    from PySide6.QtTest import QTest
    from ast_studio.app import application
    from ast_studio.main_window import MainWindow
    from editing_support import drag, line
    app = application()
    w = MainWindow(autosave_delay_ms=100, recovery_folder={folder!r})
    w.resize(1200, 800); w.show(); QTest.qWaitForWindowExposed(w); w.canvas.fit()
    drag(w.canvas, line(100, 100, 900, 500, n=30))
    w.document.layout.set_prompts("a crashed stroke", "")
    for _ in range(500):  # up to 10 s on a loaded machine; it stops as soon as both files are there
        QTest.qWait(20)
        if w.autosave.project_path.exists() and w.autosave.info_path.exists():
            break
    print(len(w.document.layout.instances[0].geometry.exterior.coords), flush=True)
    os._exit(3)  # a crash: no close, no clean-up
""")


def test_autosave_then_recover_after_a_crash(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "recovery"
    script = CRASHING_SESSION.format(tests=str(Path(__file__).parent), folder=str(folder))
    done = subprocess.run([sys.executable, "-c", script], env=isolated_env(tmp_path), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    found = pending_recoveries(folder)
    assert len(found) == 1 and found[0].original is None

    asked = []

    def answer_yes(parent, title, text, *a, **k):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer_yes)
    window = open_window(qtbot, tmp_path, recovery_folder=folder)
    assert window.offer_recovery()
    assert "did not close properly" in asked[0]
    doc = window.document
    assert len(doc.layout.instances) == 1 and doc.layout.base_prompt == "a crashed stroke"
    assert doc.layout.instances[0].area > 800 * 24 * 0.9
    assert doc.is_modified and window.windowTitle().startswith("Recovered*")
    assert pending_recoveries(folder) == []  # the leftover is gone; this session autosaves its own
    assert window.autosave.project_path.exists()
    assert not window.offer_recovery()


def test_declining_recovery_deletes_the_leftover(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "recovery"
    folder.mkdir()
    # a leftover from a process that no longer exists
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    first = open_window(qtbot, tmp_path, recovery_folder=folder)
    drag(first.canvas, line(100, 100, 400, 100))
    assert first.autosave.autosave()
    (folder / "session-crashed.astproj").write_bytes(first.autosave.project_path.read_bytes())
    (folder / "session-crashed.json").write_text(json.dumps({"pid": pid, "path": None}))
    assert len(pending_recoveries(folder)) == 1  # the running window's own file is not offered
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    second = open_window(qtbot, tmp_path, recovery_folder=folder)
    assert not second.offer_recovery()
    assert not (folder / "session-crashed.astproj").exists()
    assert second.document.layout.instances == []


def test_autosave_runs_only_while_modified_and_clean_close_removes_it(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path, autosave_delay_ms=50)
    autosave = window.autosave
    assert not autosave.timer.isActive()
    drag(window.canvas, line(100, 100, 400, 100))
    assert autosave.timer.isActive() and autosave.timer.interval() == 50
    qtbot.waitUntil(autosave.project_path.exists, timeout=3000)
    window.document.undo_stack.undo()  # back to clean: nothing to recover
    assert not autosave.timer.isActive() and not autosave.project_path.exists()
    drag(window.canvas, line(100, 100, 400, 100))
    qtbot.waitUntil(autosave.project_path.exists, timeout=3000)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert window.close()
    assert not autosave.project_path.exists()


KILLED_SESSION = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {tests!r})
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from editing_support import drag, line
    app = QApplication(sys.argv[:1])

    def draw():
        w = [w for w in QApplication.topLevelWidgets() if w.objectName() == "main-window"][0]
        QTest.qWaitForWindowExposed(w)
        w.canvas.fit()
        w.document.select(None)
        w.canvas.set_tool("brush")
        drag(w.canvas, line(60, 420, 460, 440, n=30))
        inst = w.document.layout.instances[-1]
        print(json.dumps({{"drawn": time.time(), "instances": len(w.document.layout.instances), "area": inst.area,
                          "name": inst.name, "folder": str(w.autosave.folder)}}), flush=True)

    QTimer.singleShot(300, draw)
    from ast_studio.launcher import main
    sys.exit(main([]))
""")

RECOVERING_SESSION = textwrap.dedent("""
    import json, sys
    from PySide6.QtWidgets import QApplication, QMessageBox
    from ast_studio.main_window import MainWindow

    asked = []
    def answer_yes(parent, title, text, *a, **k):
        asked.append(text)
        return QMessageBox.StandardButton.Yes
    QMessageBox.question = answer_yes
    QMessageBox.warning = lambda *a, **k: QMessageBox.StandardButton.Discard  # closing: drop the recovered copy
    offer = MainWindow.offer_recovery

    def offer_and_report(self):
        recovered = offer(self)
        inst = self.document.layout.instances[-1] if self.document.layout.instances else None
        print(json.dumps({"recovered": recovered, "asked": asked, "title": self.windowTitle(),
                          "instances": len(self.document.layout.instances),
                          "area": inst.area if inst else 0, "name": inst.name if inst else ""}), flush=True)
        self.close()
        return recovered
    MainWindow.offer_recovery = offer_and_report
    from ast_studio.launcher import main
    sys.exit(main([]))
""")


def read_line(process, timeout: float) -> str:
    import select

    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"no output within {timeout} s"
    return process.stdout.readline()


def test_a_stroke_survives_sigkill_seconds_after_it_was_drawn(tmp_path):
    """The studio as launched (default autosave timing) is killed a few seconds after the first
    stroke; the next start offers the stroke back."""
    env = isolated_env(tmp_path)
    script = KILLED_SESSION.format(tests=str(Path(__file__).parent))
    studio = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        drawn = json.loads(read_line(studio, 60))
        assert drawn["instances"] == 7  # the beach example of a first run, plus the stroke
        folder = Path(drawn["folder"])
        deadline = drawn["drawn"] + 10.0
        while time.time() < deadline and not list(folder.glob("session-*.astproj")):
            time.sleep(0.02)
        written_after = time.time() - drawn["drawn"]
    finally:
        studio.send_signal(signal.SIGKILL)
        _, stderr = studio.communicate(timeout=30)
    assert studio.returncode == -signal.SIGKILL, stderr[-3000:]
    print(f"\nrecovery file in place {written_after:.2f} s after the stroke; then SIGKILL")
    assert written_after < 10.0, "no recovery file within 10 s of the stroke"
    assert len(pending_recoveries(folder)) == 1

    done = subprocess.run([sys.executable, "-c", RECOVERING_SESSION], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["recovered"] and "did not close properly" in report["asked"][0]
    assert report["instances"] == 7 and report["name"] == drawn["name"]
    assert abs(report["area"] - drawn["area"]) < 1e-6 * drawn["area"]
    assert report["title"].startswith("Recovered*")


def test_the_recovery_file_follows_each_burst_of_edits(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, autosave_delay_ms=300)
    autosave, doc = window.autosave, window.document
    writes = []
    autosave.saved.connect(lambda path: writes.append(time.perf_counter()))
    started = time.perf_counter()
    for k in range(5):  # a burst: strokes closer together than the delay
        drag(window.canvas, line(100, 100 + 40 * k, 400, 100 + 40 * k))
        assert not autosave.project_path.exists() or writes
    qtbot.waitUntil(lambda: len(writes) == 1, timeout=5000)
    assert writes[0] - started >= 0.3
    qtbot.wait(500)
    assert len(writes) == 1, "one write per burst"
    from ast_core.project import load_project

    assert len(load_project(autosave.project_path).layout.instances) == 1
    doc.layout  # a second burst, after a pause, is written again
    drag(window.canvas, line(100, 600, 400, 600))
    qtbot.waitUntil(lambda: len(writes) == 2, timeout=5000)
    recovered = load_project(autosave.project_path).layout.instances[0]
    assert recovered.geometry.equals(doc.layout.instances[0].geometry)
    print(f"\nrecovery write (snapshot to file in place, off the GUI thread): "
          f"{', '.join(f'{1000 * s:.0f} ms' for s in autosave.write_seconds)}")
    # saving removes it; a write that was queued before the save does not bring it back
    drag(window.canvas, line(100, 700, 400, 700))
    autosave.autosave_in_background()
    assert window.files.write(tmp_path / "saved.astproj")
    qtbot.wait(300)
    assert not autosave.project_path.exists() and not autosave.info_path.exists()


def test_edits_that_never_pause_are_still_written(qtbot, tmp_path):
    from ast_studio.recovery import Autosave

    window = open_window(qtbot, tmp_path)
    window.autosave.stop()
    autosave = Autosave(window.document, delay_ms=400, folder=tmp_path / "r2", max_wait_ms=600)
    writes = []
    autosave.saved.connect(writes.append)
    started = time.perf_counter()
    while time.perf_counter() - started < 1.0 and not writes:  # an edit every 100 ms
        drag(window.canvas, line(100, 100, 400, 100 + (time.perf_counter() - started) * 300))
        qtbot.wait(100)
    assert writes, "continuous editing postponed the recovery write forever"
    assert time.perf_counter() - started < 1.0
    autosave.stop()


STARTUP = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication(sys.argv[:1])
    def report():
        w = [w for w in QApplication.topLevelWidgets() if w.objectName() == "main-window"][0]
        app.processEvents()
        print(json.dumps({{"seconds": time.perf_counter() - t0, "visible": w.isVisible(), "title": w.windowTitle(),
                          "instances": len(w.document.layout.instances),
                          "torch": "torch" in sys.modules, "diffusers": "diffusers" in sys.modules}}), flush=True)
        w.document.undo_stack.setClean()
        app.quit()
    QTimer.singleShot(0, report)
    from ast_studio.launcher import main
    sys.exit(main({argv!r}))
""")


def launch(tmp_path, argv) -> dict:
    done = subprocess.run([sys.executable, "-c", STARTUP.format(argv=argv)], env=isolated_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="example project not built")
def test_startup_opens_the_file_fast_without_torch(tmp_path):
    r = launch(tmp_path, [str(EXAMPLE)])
    print(f"start-up to a visible window with beach.astproj: {r['seconds']:.2f} s")
    assert r["visible"] and r["title"] == "beach.astproj — AST Studio" and r["instances"] == 6
    assert not r["torch"] and not r["diffusers"]
    assert r["seconds"] <= 2.0


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="example project not built")
def test_first_run_opens_the_example_then_new_documents(tmp_path):
    first = launch(tmp_path, [])
    assert first["title"] == "beach — AST Studio" and first["instances"] == 6
    second = launch(tmp_path, [])
    assert second["title"] == "Untitled — AST Studio" and second["instances"] == 0
