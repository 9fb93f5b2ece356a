"""Layouts to other formats: the seed colour sketch (PNG + JSON) and per-instance mask PNGs."""
from .mask_files import MaskFile, MasksTooLarge, mask_files
from .sketch import Sketch, render_sketch

__all__ = ["MaskFile", "MasksTooLarge", "Sketch", "mask_files", "render_sketch"]
