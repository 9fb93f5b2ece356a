"""The schedule panel: step curves, layer bands and the steps x layers coefficient heatmap.

    from ast_studio.schedule import install_schedule_panel, SchedulePanel
    dock = install_schedule_panel(main_window)   # uses main_window.document
"""
from .binding import ScheduleBinding
from .schedule_panel import SchedulePanel, install_schedule_panel, make_schedule_dock

__all__ = ["ScheduleBinding", "SchedulePanel", "install_schedule_panel", "make_schedule_dock"]
