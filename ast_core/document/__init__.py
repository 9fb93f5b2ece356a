"""The document model: Layout, Instance, geometry operations and change events."""
from .events import LayoutEvent, Signal
from .instance import PALETTE, STRENGTH_RANGE, Instance, colour_for_prompt, colours_for_prompts, next_colour
from .layout import Layout, LayoutError, check_size

__all__ = ["Instance", "Layout", "LayoutError", "LayoutEvent", "PALETTE", "STRENGTH_RANGE", "Signal", "check_size", "colour_for_prompt", "colours_for_prompts", "next_colour"]
