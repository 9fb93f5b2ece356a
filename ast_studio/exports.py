"""File ▸ Export: the layout as a seed-format colour sketch, or as one mask image per instance."""
from __future__ import annotations

from PySide6.QtGui import QAction


def add_export_actions(window, menu) -> dict[str, QAction]:
    placeholder = menu.addAction("(exporters not available yet)")
    placeholder.setEnabled(False)
    return {}
