"""The one error type of model loading."""
from __future__ import annotations


class ModelLoadError(Exception):
    """The model could not be loaded; the message names the folder/file and what to do."""
