"""Runs the fuzz cases of one category in this process, under CPU-time and memory limits.

    python astproj_fuzz_child.py CATEGORY SEED FIRST [LAST] [--studio]

Prints one JSON line when a case starts and one with its result, so the parent names the
case that killed or hung this process. A case is either refused (ProjectFileError naming
the file and the member or field, one line) or accepted: then ``ast-studio info`` prints it,
it saves and reloads identically, and with ``--studio`` the studio's document takes it,
shows its history and saves it as Save and autosave do. The input file never changes.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: CPU seconds one case may use (the machine is shared and slow; a hang runs into it at once).
CASE_CPU_SECONDS = 60
#: Address space of the whole process (the biggest accepted case needs a few hundred MB).
MEMORY_BYTES = 4 << 30
#: Problems that concern the whole file, so the message names no member.
WHOLE_FILE = ("no such file", "not a file", "not an AST Studio project", "cannot be opened")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def _limit_cpu_for_next_case() -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = spent + CASE_CPU_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _state(path: Path) -> tuple:
    """What must not change: the input's bytes (when a regular file) and its folder's listing."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return digest, sorted(os.listdir(path.parent))


def _same_project(a, b) -> None:
    from ast_core.project import layout_to_dict

    assert layout_to_dict(a.layout) == layout_to_dict(b.layout), "layout differs after save and reload"
    assert (a.settings, a.schedule) == (b.settings, b.schedule), "settings or schedule differ after save and reload"
    assert [(r.id, r.image_png, r.parameters, r.layout, r.created) for r in a.renders] == [
        (r.id, r.image_png, r.parameters, r.layout, r.created) for r in b.renders], "renders differ after save and reload"
    assert a.created == b.created


def _info(path: Path) -> None:
    """``ast-studio info`` and ``info --json`` print the project on a strict UTF-8 stdout."""
    from ast_core.cli import main

    for extra in ([], ["--json"]):
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
        err = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["info", str(path), *extra])
        out.flush()
        assert code == 0 and not err.getvalue(), f"info {extra}: exit {code}: {err.getvalue()[:300]}"
        assert raw.getvalue()


def _studio(project, path: Path, work: Path) -> None:
    """The studio's document takes the project, its history shows, and it saves (Save and autosave)."""
    from PySide6.QtGui import QGuiApplication

    from ast_core.project import load_project, save_project
    from ast_studio.document import Document
    from ast_studio.generation import history
    from ast_studio.generation.history_panel import thumbnail
    from ast_studio.schedule.binding import ScheduleBinding

    app = QGuiApplication.instance() or QGuiApplication(["fuzz"])
    doc = Document()
    doc.load(project, path)
    binding = ScheduleBinding(doc)
    doc.settings.generation
    for render in doc.renders:
        history.summary(render), history.short_summary(render), history.render_settings_of(render)
        history.seed_of(render)
        for read in (history.schedule_of, history.layout_of):
            try:
                read(render)
            except ValueError:  # the history panel says the render's schedule or layout cannot be read
                pass
        assert not thumbnail(render.image_png).isNull()
        try:
            history.export_png(render, work / "export.png")
        except history.RenderImageError:
            pass
    saved = work / "studio.astproj"
    save_project(doc.to_project(), saved)  # Save
    _same_project(project, load_project(saved))
    save_project(doc.to_project(), work / "autosave.astproj", keep_backup=False)  # autosave
    binding.deleteLater()
    doc.deleteLater()
    app.processEvents()


def run_case(make, work: Path, studio: bool) -> dict:
    from ast_core.project import ProjectFileError, load_project, save_project

    folder = work / "input"
    folder.mkdir()
    path = folder / "case.astproj"
    make(path)
    before = _state(path)
    try:
        project = load_project(path)
    except ProjectFileError as e:
        message = str(e)
        assert message.startswith(f"{path}: ") and e.file == str(path), f"message does not name the file: {message[:200]}"
        assert "\n" not in message, f"message is not one line: {message[:200]!r}"
        assert e.where or e.problem.startswith(WHOLE_FILE), f"message names no member or field: {message[:200]}"
        assert len(message) < 600, f"message of {len(message)} characters"
        assert _state(path) == before, "the input changed"
        return {"outcome": "refused", "message": message[len(str(path)) + 2:][:200]}
    _info(path)
    out = work / "saved.astproj"
    save_project(project, out)
    _same_project(project, load_project(out))
    if studio:
        _studio(project, path, work)
    assert _state(path) == before, "the input changed"
    return {"outcome": "accepted"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("category")
    parser.add_argument("seed", type=int)
    parser.add_argument("first", type=int)
    parser.add_argument("last", type=int, nargs="?")
    parser.add_argument("--studio", action="store_true")
    args = parser.parse_args(argv)
    _limit_memory()
    import astproj_fuzz

    with tempfile.TemporaryDirectory(prefix="astproj-fuzz-") as tmp:
        tmp = Path(tmp)
        todo = astproj_fuzz.cases(args.category, args.seed, astproj_fuzz.base_files(tmp))
        last = len(todo) if args.last is None else min(args.last, len(todo))
        print(json.dumps({"total": len(todo)}), flush=True)
        for index in range(args.first, last):
            name, make = todo[index]
            print(json.dumps({"index": index, "name": name, "start": True}), flush=True)
            _limit_cpu_for_next_case()
            work = tmp / f"case-{index}"
            work.mkdir()
            started = time.process_time()
            try:
                result = run_case(make, work, args.studio)
            except Exception as e:  # noqa: BLE001 - every other outcome is a finding to report
                result = {"outcome": "error", "error": f"{type(e).__name__}: {str(e)[:300]}",
                          "where": traceback.format_exc(limit=-3)[-1200:]}
            result.update(index=index, name=name, seconds=round(time.process_time() - started, 3))
            print(json.dumps(result), flush=True)
            _remove(work)
    return 0


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
