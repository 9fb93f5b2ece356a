"""The project's LoRAs as the studio reads them (a bad list is named, never fatal)."""
from __future__ import annotations

import logging

from ast_core.models.options import OptionError, loras_from_settings

log = logging.getLogger(__name__)


def project_loras(settings: dict | None) -> tuple:
    """The LoRAs stored in a project's settings; a list that cannot be read gives none (logged)."""
    try:
        return loras_from_settings(settings or {})
    except OptionError as e:
        log.warning("project settings: %s; rendering without LoRAs", e)
        return ()
