"""File ▸ Export: the layout as a seed-format colour sketch, or as one mask image per instance."""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox


def _start(window) -> str:
    doc = window.document
    folder = doc.path.parent if doc.path else Path.home()
    return str(folder / Path(doc.display_name()).stem)


def _report(window, what: str, written: list[Path], warnings: list[str]) -> None:
    window.statusBar().showMessage(f"Exported {what}: {written[0]}" + (f" (+{len(written) - 1} files)"
                                                                        if len(written) > 1 else ""), 6000)
    if warnings:
        QMessageBox.information(window, f"Exported {what} with notes", "\n".join(f"• {w}" for w in warnings))


def export_sketch(window) -> list[Path]:
    """A colour PNG + its JSON (seed format) that ``Import ▸ Seed sketch`` reads back."""
    from ast_core.exporters import render_sketch

    path, _ = QFileDialog.getSaveFileName(window, "Export sketch (colour PNG + JSON)", _start(window) + ".png",
                                          "Colour sketch (*.png)")
    if not path:
        return []
    png = Path(path) if path.lower().endswith(".png") else Path(path + ".png")
    sketch = render_sketch(window.document.layout, png_name=png.name)
    sketch.prompts["seed"] = window.document.settings.generation.seed  # as `ast-studio export-sketch` does
    try:
        sketch.image.save(png)
        png.with_suffix(".json").write_text(json.dumps(sketch.prompts, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    except OSError as e:
        QMessageBox.critical(window, "Cannot export sketch", f"{png}: {e.strerror or e}")
        return []
    written = [png, png.with_suffix(".json")]
    _report(window, "sketch", written, sketch.warnings)
    return written


def export_masks(window) -> list[Path]:
    """One black/white PNG per instance (exclusive by z-order) + background + masks.json."""
    from ast_core.exporters import MasksTooLarge, mask_files

    folder = QFileDialog.getExistingDirectory(window, "Export masks into folder", str(Path(_start(window)).parent))
    if not folder:
        return []
    folder = Path(folder)
    try:
        files, index = mask_files(window.document.layout)
    except MasksTooLarge as e:
        QMessageBox.warning(window, "Cannot export masks", f"{e}: hide some instances, or use `ast-studio "
                            "export-masks --grid` for masks on a coarser grid. Nothing was written.")
        return []
    clash = [f.name for f in files if (folder / f.name).exists()] + (["masks.json"] if (folder / "masks.json").exists()
                                                                      else [])
    if clash:
        answer = QMessageBox.question(window, "Replace files?",
                                      f"{folder} already holds {len(clash)} of these files ({', '.join(clash[:3])}"
                                      f"{'…' if len(clash) > 3 else ''}). Replace them?")
        if answer != QMessageBox.StandardButton.Yes:
            return []
    written = []
    try:
        for f in files:
            f.image.save(folder / f.name)
            written.append(folder / f.name)
        (folder / "masks.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(folder / "masks.json")
    except OSError as e:
        QMessageBox.critical(window, "Cannot export masks", f"{folder}: {e.strerror or e}")
        return written
    hidden = [i.name for i in window.document.layout.instances if not i.visible]
    notes = [f"hidden instance {n!r} is left out" for n in hidden]
    _report(window, "masks", written, notes)
    return written


def add_export_actions(window, menu) -> dict[str, QAction]:
    sketch = menu.addAction("&Sketch (colour PNG + JSON)…", lambda: export_sketch(window))
    masks = menu.addAction("&Masks (one image per instance)…", lambda: export_masks(window))
    return {"export_sketch": sketch, "export_masks": masks}
