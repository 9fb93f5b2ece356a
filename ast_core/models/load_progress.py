"""Counting the components of a diffusers folder as they load.

``DiffusionPipeline.from_pretrained`` loads a pipeline's components (transformer, VAE, text
encoders, tokenizers, scheduler) one after the other in a single loop, which it wraps in
``diffusers.utils.logging.tqdm(items, desc="Loading pipeline components...")`` (diffusers
0.42, the release this project pins). :func:`counting_components` puts a counting wrapper in
that place for the duration of one load: the loop runs unchanged (the wrapper yields the same
items) and ``report(done, total, name)`` is called before each component loads and once all
have. Any other use of that ``tqdm`` goes to the original. Loads that use it are serialised (the
wrapper is process-wide while it is in place).
"""
from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator

_DESCRIPTION = "Loading pipeline components..."
_lock = threading.Lock()

Report = Callable[[int, int, str], None]


class _Counting:
    def __init__(self, original, report: Report) -> None:
        self._original, self._report = original, report

    def __call__(self, *args, **kwargs):
        if kwargs.get("desc") == _DESCRIPTION and args:
            return self._count(list(args[0]))
        return self._original(*args, **kwargs)

    def _count(self, items: list) -> Iterator:
        total = len(items)
        for done, item in enumerate(items):
            name = item[0] if isinstance(item, tuple) and item and isinstance(item[0], str) else ""
            self._report(done, total, name)
            yield item
        self._report(total, total, "")

    def __getattr__(self, name: str):
        return getattr(self._original, name)


@contextlib.contextmanager
def counting_components(report: Report | None) -> Iterator[None]:
    """While the block runs, ``report(done, total, component)`` follows ``from_pretrained``'s loading."""
    if report is None:
        yield
        return
    from diffusers.utils import logging as diffusers_logging

    with _lock:
        original = diffusers_logging.tqdm
        diffusers_logging.tqdm = _Counting(original, report)
        try:
            yield
        finally:
            diffusers_logging.tqdm = original
