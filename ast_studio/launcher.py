"""The ``ast-studio`` console script: a headless command, or the studio window.

``ast-studio`` opens a new document, ``ast-studio FILE.astproj`` opens that file, and
``ast-studio COMMAND ...`` runs a headless command of :mod:`ast_core.cli` without
importing Qt or torch.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from ast_core import cli

    if argv and (argv[0].startswith("-") or argv[0] in cli.command_names()):
        return cli.main(argv)
    from ast_studio.app import run  # imports Qt

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
