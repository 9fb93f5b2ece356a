"""The drawing canvas: scene (items mirroring the Layout), view (zoom/pan/input) and tools."""
from .scene import CanvasScene
from .view import CanvasView

__all__ = ["CanvasScene", "CanvasView"]
