"""What the band editor's gestures do to the schedule (each one undo step).

* edge drag -> ``move_band_edge`` previewed live, committed on release;
* click on a cell -> that map on/off for the band;
* right-click -> split here, merge with a neighbour, all maps on/off, row factors.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QPoint
from PySide6.QtWidgets import QMenu

from ast_core.schedule import I2T_MAPS, LayerBand

_MAP_LABELS = {"i2i": "I2I", "t2t": "T2T", "instance": "I2T instance",
               "background": "I2T background", "attribute": "I2T attribute"}
_FACTOR_LABELS = {"a_img": "a_img (all segments)", "a_inst": "a_inst (instances only)"}


def lanes_of(band: LayerBand) -> frozenset[str]:
    """The band editor lanes that are on for ``band``."""
    on = {m for m in I2T_MAPS if m in band.i2t_maps}
    if band.i2i:
        on.add("i2i")
    if band.t2t:
        on.add("t2t")
    return frozenset(on)


def describe_band(band: LayerBand) -> str:
    """One line an artist can read: which maps act and which row factors scale them."""
    parts = []
    if band.i2i:
        parts.append(f"I2I (rows {band.i2i_row_factor})")
    if band.t2t:
        parts.append("T2T")
    if band.i2t_maps:
        maps = " + ".join(m for m in I2T_MAPS if m in band.i2t_maps)
        parts.append(f"I2T {maps} (rows {band.i2t_row_factor})")
    return ", ".join(parts) if parts else "no modulation (plain attention)"


def _layers(band: LayerBand) -> str:
    return f"layers {band.start + 1}-{band.end}" if band.end - band.start > 1 \
        else f"layer {band.start + 1}"


class BandActions(QObject):
    def __init__(self, binding, editor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.binding = binding
        self.editor = editor
        self.menu: QMenu | None = None
        editor.edge_previewed.connect(self.preview_edge)
        editor.edge_committed.connect(self.commit_edge)
        editor.drag_cancelled.connect(binding.cancel)
        editor.lane_toggled.connect(self.toggle)
        editor.context_requested.connect(self.show_menu)

    def preview_edge(self, index: int, layer: int) -> None:
        self.binding.preview(lambda s: s.move_band_edge(index, layer))

    def commit_edge(self, index: int, layer: int) -> None:
        self.binding.preview(lambda s: s.move_band_edge(index, layer))
        self.binding.commit(f"Move band edge to layer {layer + 1}")

    def toggle(self, index: int, lane: str) -> None:
        band = self.binding.schedule.bands[index]
        if lane in ("i2i", "t2t"):
            value = not getattr(band, lane)
            changes = {lane: value}
        else:
            value = lane not in band.i2t_maps
            changes = {"i2t_maps": band.i2t_maps ^ {lane}}
        self.binding.edit(f"{_MAP_LABELS[lane]} {'on' if value else 'off'} for {_layers(band)}",
                          lambda s: s.set_band(index, **changes))

    def set_all(self, index: int, on: bool) -> None:
        band = self.binding.schedule.bands[index]
        changes = {"i2i": on, "t2t": on, "i2t_maps": frozenset(I2T_MAPS) if on else frozenset()}
        self.binding.edit(f"All maps {'on' if on else 'off'} for {_layers(band)}",
                          lambda s: s.set_band(index, **changes))

    def split(self, layer: int) -> None:
        self.binding.edit(f"Split band at layer {layer + 1}", lambda s: s.split_band(layer))

    def merge_into_previous(self, index: int) -> None:
        band = self.binding.schedule.bands[index]
        self.binding.edit(f"Merge {_layers(band)} into the previous band",
                          lambda s: s.remove_band(index))

    def merge_into_next(self, index: int) -> None:
        s = self.binding.schedule
        band, nxt = s.bands[index], s.bands[index + 1]
        # the next band's plan takes over this band's layers
        def change(sch) -> None:
            bands = list(sch.bands)
            bands[index:index + 2] = [LayerBand.from_plan(band.start, nxt.end, nxt.plan)]
            sch.set_bands(bands)
        self.binding.edit(f"Merge {_layers(band)} into the next band", change)

    def set_row_factor(self, index: int, field: str, value: str) -> None:
        band = self.binding.schedule.bands[index]
        self.binding.edit(f"{'I2T' if field.startswith('i2t') else 'I2I'} rows use {value} "
                          f"for {_layers(band)}", lambda s: s.set_band(index, **{field: value}))

    def build_menu(self, index: int, layer: int) -> QMenu:
        """The context menu for band ``index`` at ``layer`` (also used by tests)."""
        s = self.binding.schedule
        band = s.bands[index]
        menu = QMenu(self.editor)
        split = menu.addAction(f"Split band at layer {layer + 1}")
        split.setEnabled(layer > band.start)
        split.triggered.connect(lambda: self.split(layer))
        prev = menu.addAction("Merge into previous band")
        prev.setEnabled(index > 0)
        prev.triggered.connect(lambda: self.merge_into_previous(index))
        nxt = menu.addAction("Merge into next band")
        nxt.setEnabled(index + 1 < len(s.bands))
        nxt.triggered.connect(lambda: self.merge_into_next(index))
        menu.addSeparator()
        menu.addAction("All maps on").triggered.connect(lambda: self.set_all(index, True))
        menu.addAction("All maps off").triggered.connect(lambda: self.set_all(index, False))
        menu.addSeparator()
        for field, title in (("i2t_row_factor", "I2T rows scaled by"),
                             ("i2i_row_factor", "I2I rows scaled by")):
            sub = menu.addMenu(title)
            for value, label in _FACTOR_LABELS.items():
                action = sub.addAction(label)
                action.setCheckable(True)
                action.setChecked(getattr(band, field) == value)
                action.triggered.connect(
                    lambda _c=False, f=field, v=value: self.set_row_factor(index, f, v))
        return menu

    def show_menu(self, index: int, layer: int, pos: QPoint) -> None:
        if index < 0:
            return
        self.menu = self.build_menu(index, layer)
        self.menu.popup(pos)
