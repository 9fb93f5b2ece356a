"""The one error type a CLI command raises for bad input (exit code 2, one line, no traceback)."""


class CommandError(Exception):
    """Bad input to a command; its message is shown to the user as is."""
