"""Checking model settings off the GUI thread (the engine's checks import torch).

``ModelCheck.request(settings)`` runs ``engine_run.check`` on the global thread pool and
emits ``checked(settings, ok, message)`` in the GUI thread. A newer request supersedes an
older one still running (only the latest result is announced).
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from .model_settings import ModelSettings

log = logging.getLogger(__name__)


class _Relay(QObject):
    done = Signal(int, object, bool, str)
    backend = Signal(int, str)


def attention_backend_text(settings: ModelSettings) -> str:
    """Which AST attention backend modulated layers run with on the settings' device."""
    try:
        from ast_core.attention.backends import describe_backend
        from ast_core.models import resolve_device

        return describe_backend(resolve_device(settings.device))
    except Exception as e:  # noqa: BLE001 - shown as text, never a crash
        return f"unknown ({e})"


class _CheckTask(QRunnable):
    def __init__(self, serial: int, settings: ModelSettings, relay: _Relay) -> None:
        super().__init__()
        self.serial, self.settings, self.relay = serial, settings, relay

    def run(self) -> None:
        from . import engine_run

        try:
            ok, message = engine_run.check(self.settings)
        except Exception as e:  # noqa: BLE001 - a failed check is a message, not a crash
            log.exception("model check failed")
            ok, message = False, f"Could not check the model ({type(e).__name__}: {e})"
        self.relay.done.emit(self.serial, self.settings, ok, message)
        # after the check: the attention package imports diffusers (seconds, once)
        text = attention_backend_text(self.settings)
        try:
            self.relay.backend.emit(self.serial, text)
        except RuntimeError:  # the dialog was closed meanwhile: nobody to tell
            pass


class ModelCheck(QObject):
    #: (settings, ok, message) of the latest request
    checked = Signal(object, bool, str)
    #: the attention backend line of the latest request (see attention_backend_text)
    backend = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._relay.backend.connect(self._on_backend)
        self._serial = 0
        self.running = False

    def request(self, settings: ModelSettings) -> None:
        self._serial += 1
        self.running = True
        QThreadPool.globalInstance().start(_CheckTask(self._serial, settings, self._relay))

    def _on_backend(self, serial: int, text: str) -> None:
        if serial == self._serial:
            self.backend.emit(text)

    def _on_done(self, serial: int, settings: ModelSettings, ok: bool, message: str) -> None:
        if serial != self._serial:
            return
        self.running = False
        self.checked.emit(settings, ok, message)
