"""Headless commands of ``ast-studio`` (import, export, info, render...).

Each command lives in its own module of this package, named in ``COMMAND_MODULES``;
the module defines ``register(subparsers)`` that adds its sub-parser and sets
``func=callable(args) -> int``. A command signals bad input by raising
:class:`CommandError`: the user sees one line on stderr and exit code 2, as for a command
line argparse cannot parse.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import CommandError

#: Modules (in this package) that register commands, in the order of ``--help``.
COMMAND_MODULES: list[str] = ["import_export", "info", "render", "tiny_model", "models"]


class UsageError(Exception):
    """A command line argparse cannot parse; shown as one line (argparse would add its usage)."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise UsageError(self.prog, message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ast-studio",
        description="AST Studio: multi-instance layout-to-image generation. "
        "With no command (or a .astproj file) the studio window opens.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def command_names() -> set[str]:
    return set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def _tolerant_output() -> None:
    """A character the terminal cannot show is escaped instead of ending the command."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _tolerant_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        print(f"{e.prog}: error: {e} (see {e.prog} --help)", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help and --version exit 0 after printing
        return int(e.code or 0) if e.code in (0, None) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CommandError as e:
        print(f"ast-studio {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ast-studio {args.command}: interrupted", file=sys.stderr)
        return 130
