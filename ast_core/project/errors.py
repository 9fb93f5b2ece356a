"""The one error type of the .astproj reader (and of a refused save)."""
from __future__ import annotations


class ProjectFileError(ValueError):
    """A project file that cannot be read (or a project that cannot be written).

    The message always reads ``"<file>: <member or field>: <problem>"`` so the user
    knows which file, which part of it and what is wrong.
    """

    def __init__(self, file: str, where: str, problem: str) -> None:
        self.file = str(file)
        self.where = where
        self.problem = problem
        super().__init__(f"{self.file}: {where}: {problem}" if where else f"{self.file}: {problem}")


class FieldError(ValueError):
    """A bad field inside one JSON part; the reader adds the file and member names.

    ``field`` is a dotted/indexed path such as ``instances[2].geometry``.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)
