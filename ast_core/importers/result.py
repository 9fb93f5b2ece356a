"""What an importer hands back, and the one error type it raises."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..document import Layout


class ImportFileError(ValueError):
    """An input file that cannot be imported; the message names the file and the problem."""


@dataclass
class Imported:
    """An imported layout plus what the user should be told about the import.

    ``settings`` holds generation settings found in the input (e.g. ``{"seed": 42}``).
    """

    layout: Layout
    warnings: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def project_settings(self) -> dict[str, Any]:
        """The settings as a project stores them: ``{"generation": {"seed": N, "seed_mode": "fixed"}}``.

        (The studio's generation panel and ``ast-studio render`` read ``settings["generation"]``;
        a seed that came with the input is meant to be reused, hence "fixed".)
        """
        if not self.settings:
            return {}
        generation = dict(self.settings)
        if "seed" in generation:
            generation["seed_mode"] = "fixed"
        return {"generation": generation}
