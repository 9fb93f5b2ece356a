"""Counting references to None, to catch a Qt binding that loses them (PySide6 6.12.0).

``NoneReferences()`` notes ``sys.getrefcount(None)``; ``lost()`` says how many references
have gone since, not counting those the cyclic garbage collector freed meanwhile (garbage
left by earlier tests holds None in its attributes; collecting it is no leak). Ordinary
Python code moves the count both ways by a handful; a binding that forgets to add the
reference it returns loses one per call, thousands in a GUI test.
"""
from __future__ import annotations

import gc
import sys


class _Collections:
    """References to None that cyclic garbage collections released, summed since start-up."""

    released = 0
    _at_start = 0

    @classmethod
    def callback(cls, phase: str, info: dict) -> None:
        if phase == "start":
            cls._at_start = sys.getrefcount(None)
        else:
            cls.released += cls._at_start - sys.getrefcount(None)


if _Collections.callback not in gc.callbacks:
    gc.callbacks.append(_Collections.callback)


def _none_is_immortal() -> bool:
    """True on Python 3.12+ (PEP 683): None's count is fixed and can never reach zero."""
    before = sys.getrefcount(None)
    held = [None] * 1000
    after = sys.getrefcount(None)
    del held
    return after - before < 1000


NONE_IS_IMMORTAL = _none_is_immortal()


class NoneReferences:
    #: the largest loss ordinary tests show (at most 9 over the studio suite on PySide6 6.11.3), with room
    MARGIN = 100
    _given_back: list = []

    def __init__(self) -> None:
        self.start = sys.getrefcount(None)
        self.collected = _Collections.released

    def lost(self) -> int:
        return self.start - sys.getrefcount(None) - (_Collections.released - self.collected)

    def problem(self, what: str) -> str:
        """"" when at most MARGIN references were lost; else the failure message (and the lost
        references are given back, so the process survives to report it)."""
        lost = self.lost()
        if lost <= self.MARGIN:
            return ""
        self.give_back(lost)
        self.start, self.collected = sys.getrefcount(None), _Collections.released
        import PySide6

        return (f"{what} lost {lost} references to None (allowed: {self.MARGIN}). The Qt binding drops "
                f"None's reference count (PySide6 {PySide6.__version__}); on Python {sys.version.split()[0]} "
                f"that aborts the studio with 'Fatal Python error: none_dealloc'. Use a binding without the "
                f"bug (see pyproject.toml).")

    @classmethod
    def give_back(cls, count: int) -> None:
        """Hold ``count`` more references to None, so a leaking binding cannot crash the process."""
        cls._given_back.extend([None] * max(0, int(count)))
