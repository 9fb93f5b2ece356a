"""Dockable panels of the main window (instances, instance editor, prompts)."""
