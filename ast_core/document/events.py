"""Plain-Python change notifications that views subscribe to (no Qt)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayoutEvent:
    """One change of a Layout.

    kind is one of:
      "instance_added", "instance_removed", "instance_changed" (fields in ``fields``),
      "geometry_changed", "order_changed", "prompts_changed", "size_changed", "reset".
    """

    kind: str
    instance_id: str | None = None
    fields: tuple[str, ...] = ()
    index: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Signal:
    """A minimal observer list: ``connect(cb)``, ``disconnect(cb)``, ``emit(*args)``.

    A failing callback is logged and does not stop the others, so a broken view can
    never abort an edit halfway through the model.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., None]] = []

    def connect(self, callback: Callable[..., None]) -> Callable[..., None]:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., None]) -> None:
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def emit(self, *args: Any) -> None:
        for cb in list(self._callbacks):
            try:
                cb(*args)
            except Exception:  # pragma: no cover - logged, never re-raised
                log.exception("layout event callback %r failed", cb)

    def __len__(self) -> int:
        return len(self._callbacks)
