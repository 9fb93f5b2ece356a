"""The schedule panel, the schedule's expert view: where (layer) and when (step) each AST
modulation acts. In the studio it is the Schedule page beside the canvas; its simple view, in
an artist's words, is the Generate panel's AST controls (:mod:`.simple_view`).

Preset + reset, the weight ``w`` of each kind, the selected kind's step curve (keyframes,
numeric entry, the preset's power-curve parameters), then the layer bands and the steps x
layers heatmap of the selected kind's effective coefficient: one column in a narrow dock, two
side by side when there is room. Every edit is one undo step on the document's stack and
lands in ``document.schedule`` (saved with the project, read by the next generation).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ast_core.schedule import (
    I2T_MAPS,
    KINDS,
    KeyframeCurve,
    PowerCurve,
    preset_schedule,
)

from . import palette
from .band_actions import BandActions, describe_band, lanes_of
from .band_editor import BandEditor
from .binding import ScheduleBinding
from .curve_editor import CurveEditor
from .heatmap import Heatmap
from .simple_view import SIMPLE_NAMES

#: at least this wide, the panel puts the bands and the heatmap beside the curve
TWO_COLUMNS_WIDTH = 700

LANES = [("i2i", "I2I", palette.KIND_COLOURS["i2i"]),
         ("t2t", "T2T", palette.KIND_COLOURS["t2t"])] + [
    (m, f"I2T {m}", palette.KIND_COLOURS["i2t"].darker(100 + 25 * i))
    for i, m in enumerate(I2T_MAPS)]


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "heading")
    return label


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {palette.DIM_TEXT.name()}; font-size: 11px;")
    return label


def _spin(lo: float, hi: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(lo, hi)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    spin.setKeyboardTracking(False)
    spin.setToolTip(tip)
    return spin


class SchedulePanel(QWidget):
    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.binding = ScheduleBinding(document, self)
        self.kind = "i2i"
        self._updating = False
        self._build()
        self.band_actions = BandActions(self.binding, self.bands, self)
        self.binding.changed.connect(lambda _e: self.refresh())
        self.binding.context_changed.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        self.columns = QBoxLayout(QBoxLayout.Direction.TopToBottom, body)
        self.columns.setContentsMargins(8, 6, 8, 8)
        self.columns.setSpacing(12)
        left, right = QWidget(), QWidget()
        self.columns.addWidget(left, 1)
        self.columns.addWidget(right, 1)
        col = QVBoxLayout(left)
        right_col = QVBoxLayout(right)
        for c in (col, right_col):
            c.setContentsMargins(0, 0, 0, 0)
            c.setSpacing(4)

        # preset
        row = QHBoxLayout()
        row.addWidget(QLabel("Preset"))
        self.preset_combo = QComboBox()
        self.preset_combo.addItems(self.binding.preset_names())
        self.preset_combo.setPlaceholderText("custom")
        self.preset_combo.setToolTip("Start from a named schedule (replaces every curve and band)")
        self.preset_combo.activated.connect(
            lambda i: self._apply_preset(self.preset_combo.itemText(i)))
        row.addWidget(self.preset_combo, 1)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Reset the whole schedule to the chosen preset")
        self.reset_button.clicked.connect(
            lambda: self._apply_preset(self.preset_combo.currentText()))
        row.addWidget(self.reset_button)
        col.addLayout(row)
        self.status_label = _hint("")
        col.addWidget(self.status_label)
        self.problem_label = QLabel("")
        self.problem_label.setProperty("role", "warning")
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()
        col.addWidget(self.problem_label)

        # kinds and weights
        col.addWidget(_heading("Kinds and their weights"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        self.kind_group = QButtonGroup(self)
        self.kind_buttons: dict[str, QToolButton] = {}
        self.weight_spins: dict[str, QDoubleSpinBox] = {}
        for c, kind in enumerate(KINDS):
            button = QToolButton()
            button.setText(palette.KIND_LABELS[kind])
            button.setCheckable(True)
            button.setToolTip(palette.KIND_TITLES[kind] + f" (show its curve and heatmap). Its weight is "
                              f"\u201c{SIMPLE_NAMES[kind]}\u201d in the Generate panel's AST controls.")
            colour = palette.KIND_COLOURS[kind].name()
            button.setStyleSheet(
                f"QToolButton {{ color: {colour}; font-weight: 600; padding: 3px 10px; }}"
                f"QToolButton:checked {{ background: {colour}; color: #111; }}")
            button.clicked.connect(lambda _c=False, k=kind: self.set_kind(k))
            self.kind_group.addButton(button)
            self.kind_buttons[kind] = button
            grid.addWidget(button, 0, c)
            spin = _spin(0.0, 50.0, 0.1, 2, f"w for {palette.KIND_LABELS[kind]} (\u201c{SIMPLE_NAMES[kind]}\u201d "
                                           "in the AST controls): coefficient = w × strength on the layers it "
                                           "acts on")
            spin.setPrefix("w ")
            spin.setMinimumWidth(60)
            spin.valueChanged.connect(lambda v, k=kind: self._set_weight(k, v))
            self.weight_spins[kind] = spin
            grid.addWidget(spin, 1, c)
        col.addLayout(grid)
        col.addWidget(_hint("The same weights as the Generate panel's AST controls: "
                            + ", ".join(f"{palette.KIND_LABELS[k]} = {SIMPLE_NAMES[k]}" for k in ("i2t", "t2t", "i2i"))
                            + "."))

        # curve
        self.curve_heading = _heading("Step curve")
        col.addWidget(self.curve_heading)
        self.curve_shape = _hint("")
        col.addWidget(self.curve_shape)
        self.curve = CurveEditor()
        self.curve.points_previewed.connect(self._preview_points)
        self.curve.points_committed.connect(self._commit_points)
        self.curve.points_nudged.connect(self._nudge_points)
        self.curve.drag_cancelled.connect(self.binding.cancel)
        self.curve.selection_changed.connect(lambda _i: self._show_keyframe())
        col.addWidget(self.curve, 1)  # the curve and the heatmap take the room a big window gives
        row = QHBoxLayout()
        self.key_step = _spin(1.0, 1000.0, 1.0, 1, "Step of the selected keyframe")
        self.key_step.setPrefix("step ")
        self.key_value = _spin(0.0, 100.0, 0.05, 3, "Strength of the selected keyframe")
        self.key_step.valueChanged.connect(lambda _v: self._enter_keyframe())
        self.key_value.valueChanged.connect(lambda _v: self._enter_keyframe())
        for spin in (self.key_step, self.key_value):
            spin.setMinimumWidth(60)
            row.addWidget(spin, 1)
        self.preset_curve_button = QPushButton("Preset curve")
        self.preset_curve_button.setToolTip("Give this kind its preset's curve back")
        self.preset_curve_button.clicked.connect(self.reset_curve)
        row.addWidget(self.preset_curve_button)
        col.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("(t/1000)^"))
        self.decay_spin = QDoubleSpinBox()
        self.decay_spin.setRange(0.0, 20.0)
        self.decay_spin.setDecimals(1)
        self.decay_spin.setSingleStep(0.5)
        self.decay_spin.setKeyboardTracking(False)
        self.decay_spin.setToolTip("Decay of the preset curve: strength = (t/1000)^decay")
        row.addWidget(self.decay_spin, 1)
        row.addWidget(QLabel("first"))
        self.modulated_spin = QDoubleSpinBox()  # whole steps; same look as the other spins
        self.modulated_spin.setDecimals(0)
        self.modulated_spin.setRange(0, 200)
        self.modulated_spin.setKeyboardTracking(False)
        self.modulated_spin.setToolTip("Modulated steps: the curve is 0 after this step")
        row.addWidget(self.modulated_spin, 1)
        for spin in (self.decay_spin, self.modulated_spin):
            spin.setMinimumWidth(52)
        row.addWidget(QLabel("steps"))
        self.power_button = QPushButton("Apply")
        self.power_button.setToolTip("Replace this kind's curve by (t/1000)^decay on the first "
                                     "steps")
        self.power_button.clicked.connect(self._use_power_curve)
        row.addWidget(self.power_button)
        col.addLayout(row)
        col.addWidget(_hint("Double-click: add keyframe · drag: move (Shift: between steps) · "
                            "right-click or Delete: remove · arrow keys: nudge"))


        # bands
        col = right_col
        col.addWidget(_heading("Layer bands"))
        col.addWidget(_hint("Which maps act on which transformer layers."))
        self.bands = BandEditor()
        self.bands.set_lanes(LANES)
        col.addWidget(self.bands)
        col.addWidget(_hint("Drag an edge to move it · click a cell to switch a map on/off for "
                            "that band · right-click: split, merge, row factors"))

        # heatmap
        self.heatmap_heading = _heading("Coefficient per step and layer")
        col.addWidget(self.heatmap_heading)
        self.heatmap = Heatmap()
        self.heatmap.hovered.connect(self._show_hover)
        col.addWidget(self.heatmap, 1)
        self.readout = _hint("Hover the map to read a value.")
        col.addWidget(self.readout)
        self.context_label = _hint("")
        col.addWidget(self.context_label)
        for editor in (self.curve, self.heatmap):
            editor.setSizePolicy(editor.sizePolicy().horizontalPolicy(), QSizePolicy.Policy.Expanding)
            editor.setMaximumHeight(520)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        wide = self.width() >= TWO_COLUMNS_WIDTH
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self.columns.direction() != direction:
            self.columns.setDirection(direction)

    def focus_target(self) -> QWidget:
        return self.kind_buttons[self.kind]

    # ------------------------------------------------------------------ view state
    def set_kind(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {list(KINDS)}, got {kind!r}")
        self.kind = kind
        self.curve.select(-1)
        self.refresh()

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        self._updating = True
        try:
            self._refresh()
        finally:
            self._updating = False

    def _refresh(self) -> None:
        s = self.binding.schedule
        timesteps = self.binding.timesteps()
        steps = len(timesteps)
        kind, label = self.kind, palette.KIND_LABELS[self.kind]
        self.kind_buttons[kind].setChecked(True)

        # preset and status
        names = self.binding.preset_names()
        if [self.preset_combo.itemText(i) for i in range(self.preset_combo.count())] != names:
            self.preset_combo.clear()  # the configured model changed architecture
            self.preset_combo.addItems(names)
        self.preset_combo.setCurrentIndex(self.preset_combo.findText(s.preset))  # -1: custom
        if self.binding.is_default():
            status = "Project default (not yet edited)."
        elif self.binding.differs_from_preset():
            status = f"Edited from \"{s.preset or 'no preset'}\"."
        else:
            status = f"Preset \"{s.preset}\"."
        self.status_label.setText(status + " Saved with the project; used by the next generation.")
        self.problem_label.setText(self.binding.problem)
        self.problem_label.setVisible(bool(self.binding.problem))

        for k in KINDS:
            self.weight_spins[k].setValue(s.weight(k))

        # curve
        curve = s.curve(kind)
        if isinstance(curve, PowerCurve):
            points = curve.to_keyframes(timesteps).points
            count = curve.modulated_count(steps)
            share = "" if curve.modulated_fraction is None else \
                f" ({curve.modulated_fraction:.0%} of the steps, rounded up)"
            shape = f"(t/1000)^{curve.decay:g} over the first {count} steps{share}"
            self.decay_spin.setValue(curve.decay)
            self.modulated_spin.setValue(count)
        else:
            points = curve.points
            preset_curve = self._preset_curve(kind)
            if isinstance(preset_curve, PowerCurve):
                self.decay_spin.setValue(preset_curve.decay)
                self.modulated_spin.setValue(preset_curve.modulated_count(steps))
            shape = f"{len(points)} keyframe{'s' if len(points) != 1 else ''}"
        self.curve_heading.setText(f"Step curve: {label}")
        note = ""
        if not s.layer_mask(kind).any():
            note = f" {label} acts on no layer (see Layer bands), so this curve has no effect."
        elif s.weight(kind) == 0:
            note = f" w is 0, so {label} has no effect."
        self.curve_shape.setText(f"Strength per denoising step: {shape}. The dots are the values "
                                 f"the engine uses; dashed lines are the other kinds.{note}")
        strengths = {k: s.curve(k).values(timesteps) for k in KINDS}
        self.curve.set_data(points, strengths[kind].tolist(), steps,
                            palette.KIND_COLOURS[kind], s.weight(kind))
        self.curve.set_ghosts([(palette.KIND_COLOURS[k], strengths[k].tolist())
                               for k in KINDS if k != kind])
        self._show_keyframe()

        # bands
        runs = self.binding.layer_runs()
        self.bands.set_bands([(b.start, b.end, lanes_of(b), describe_band(b)) for b in s.bands],
                             s.num_layers, runs)

        # heatmap: one colour scale for all kinds, so kinds compare at a glance
        tables = {k: s.coefficient_table(k, timesteps) for k in KINDS}
        vmax = max(float(t.max()) for t in tables.values())
        self.heatmap.set_data(tables[kind], vmax if vmax > 0 else 1.0, label, runs)
        self.heatmap_heading.setText(f"Coefficient per step and layer: {label}")
        layout = self.document.layout
        source = (f"{self.binding.family.name}'s default" if self.binding.steps_from_model
                  else "generation settings")
        self.context_label.setText(
            f"Drawn for {steps} steps ({source}) at {layout.width}x{layout.height} with "
            f"{self.binding.family.name}'s scheduler; "
            + " + ".join(f"{e - b} {name}" for name, b, e in runs) + " layers.")

    def _show_keyframe(self) -> None:
        i = self.curve.selected_index()
        points = self.curve.points()
        enabled = 0 <= i < len(points)
        was = self._updating
        self._updating = True
        try:
            steps = self.binding.steps
            self.key_step.setRange(1.0, float(max(1, steps)))
            for w in (self.key_step, self.key_value):
                w.setEnabled(enabled)
            if enabled:
                x, y = points[i]
                self.key_step.setValue(1.0 + x * (steps - 1))
                self.key_value.setValue(y)
        finally:
            self._updating = was

    def _show_hover(self, step: int, layer: int, value: float) -> None:
        if step < 0:
            self.readout.setText("Hover the map to read a value.")
        else:
            self.readout.setText(self.heatmap.describe(step, layer))

    # ------------------------------------------------------------------ edits
    def _apply_preset(self, name: str) -> None:
        if not self._updating:
            self.binding.apply_preset(name)

    def _set_weight(self, kind: str, value: float) -> None:
        if self._updating:
            return
        self.binding.edit(f"Set {palette.KIND_LABELS[kind]} weight to {value:g}",
                          lambda s: s.set_weight(kind, value), merge_key=("weight", kind))

    def _preview_points(self, points: list) -> None:
        kind = self.kind
        self.binding.preview(lambda s: s.set_curve(kind, KeyframeCurve(tuple(points))))

    def _commit_points(self, points: list, text: str) -> None:
        kind = self.kind
        self.binding.preview(lambda s: s.set_curve(kind, KeyframeCurve(tuple(points))))
        if not self.binding.commit(f"{text} ({palette.KIND_LABELS[kind]} curve)"):
            self.refresh()

    def _nudge_points(self, points: list, index: int) -> None:
        kind = self.kind
        self.binding.edit(f"Nudge keyframe ({palette.KIND_LABELS[kind]} curve)",
                          lambda s: s.set_curve(kind, KeyframeCurve(tuple(points))),
                          merge_key=("nudge", kind, index))
        self.curve.select(index)

    def _enter_keyframe(self) -> None:
        if self._updating:
            return
        i = self.curve.selected_index()
        points = self.curve.points()
        if not 0 <= i < len(points):
            return
        steps = self.binding.steps
        x = (self.key_step.value() - 1.0) / (steps - 1) if steps > 1 else 0.0
        lo = points[i - 1][0] + 1e-4 if i > 0 else 0.0
        hi = points[i + 1][0] - 1e-4 if i + 1 < len(points) else 1.0
        points[i] = (min(max(x, lo), hi), self.key_value.value())
        self._commit_points(points, "Set keyframe")
        self.curve.select(i)

    def _use_power_curve(self) -> None:
        kind = self.kind
        curve = PowerCurve(self.decay_spin.value(), int(round(self.modulated_spin.value())))
        self.binding.edit(f"Power curve ({palette.KIND_LABELS[kind]})",
                          lambda s: s.set_curve(kind, curve))

    def _preset_curve(self, kind: str):
        try:
            return preset_schedule(self.binding.schedule.preset, self.binding.schedule.structure).curve(kind)
        except ValueError:
            return PowerCurve()

    def reset_curve(self) -> None:
        """Give the selected kind its preset's curve back (one undo step)."""
        kind = self.kind
        curve = self._preset_curve(kind)
        self.binding.edit(f"Reset {palette.KIND_LABELS[kind]} curve",
                          lambda sch: sch.set_curve(kind, curve))


def make_schedule_dock(document, parent: QWidget | None = None) -> QDockWidget:
    """The schedule panel in a dock titled "Schedule" (objectName ``schedule_dock``)."""
    dock = QDockWidget("Schedule", parent)
    dock.setObjectName("schedule_dock")
    panel = SchedulePanel(document, dock)
    dock.setWidget(panel)
    dock.setMinimumWidth(320)
    return dock


def install_schedule_panel(window) -> SchedulePanel:
    """Add the schedule panel to the studio's main window as the workspace's "Schedule" page,
    beside the canvas (room for the curves, bands and heatmap on any screen); sets
    ``window.schedule_panel``."""
    panel = SchedulePanel(window.document, window.workspace)
    panel.setObjectName("schedule-panel")
    window.workspace.add_page(panel, "Schedule", "The schedule's expert view: step curves, layer bands and the "
                                                 "heatmap of every coefficient (Alt+2)")
    window.schedule_panel = panel
    return panel
