"""Layouts from other formats: seed colour sketches, box lists, black/white mask images.

Each importer returns :class:`Imported` (layout, warnings for the user, settings such as
the seed) or raises :class:`ImportFileError` naming the file and the problem.
"""
from .boxes import import_boxes
from .mask_images import import_masks
from .result import ImportFileError, Imported
from .seed_sketch import colour_ranking, import_seed
from .tracing import trace

__all__ = ["ImportFileError", "Imported", "colour_ranking", "import_boxes", "import_masks", "import_seed", "trace"]
