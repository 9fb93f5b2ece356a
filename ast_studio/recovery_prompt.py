"""At start-up, offer to recover what a crashed session autosaved."""
from __future__ import annotations

import time

from PySide6.QtWidgets import QMessageBox

from .recovery import pending_recoveries


def offer_recovery(window) -> bool:
    """Ask about the newest leftover recovery file; True when a document was recovered."""
    found = pending_recoveries(window.autosave.folder)
    if not found:
        return False
    newest, older = found[0], found[1:]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(newest.saved))
    answer = QMessageBox.question(
        window, "Recover unsaved work?",
        f"AST Studio did not close properly last time. Changes to {newest.name} were autosaved at {when}.\n\n"
        f"Recover them? (No deletes the autosaved copy.)",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes,
    )
    for extra in older:  # only the newest is offered; older leftovers are superseded
        extra.remove()
    if answer != QMessageBox.StandardButton.Yes:
        newest.remove()
        return False
    from ast_core.project import ProjectFileError, load_project

    if window.document.is_modified and not window.files.maybe_save():
        return False
    try:
        project = load_project(newest.project)
    except (ProjectFileError, OSError) as e:
        kept = newest.set_aside()
        QMessageBox.critical(window, "Cannot recover", f"{e}\n\nThe autosaved copy is kept as {kept}.")
        return False
    window.document.load(project, newest.original, modified=True)
    if newest.original is None:
        window.document.set_untitled_name("Recovered")
    newest.remove()
    window.autosave.autosave()
    window.statusBar().showMessage(f"Recovered {newest.name}: save it to keep the changes", 8000)
    return True
