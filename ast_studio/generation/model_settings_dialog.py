"""The Model settings dialog: which model, from where, on which device.

Every change re-checks the settings off the GUI thread with the engine's own folder check
and shows what is missing (e.g. "model folder ... is incomplete: missing transformer/").
OK stores the settings (the user's model configuration, shared with ``ast-studio render``)
even when the check fails, so a folder on a drive that is not mounted yet is not lost;
generating then explains the problem again.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .model_check import ModelCheck
from .model_settings import (
    BUILTIN_MODELS,
    DEVICES,
    DTYPES,
    HF_IDS,
    MODEL_NAMES,
    ModelSettings,
    load_model_settings,
    save_model_settings,
)

SOURCE_LABELS = {"folder": "Local folder", "hf_cache": "Hugging Face cache (offline)"}
DTYPE_LABELS = {"auto": "Auto (bf16 on CUDA, fp16 on MPS, f32 on CPU)", "bf16": "bfloat16", "fp16": "float16",
                "f32": "float32"}
DEVICE_LABELS = {"auto": "Auto (CUDA/ROCm, then XPU, then MPS, then CPU)", "cuda": "CUDA or ROCm GPU",
                 "xpu": "Intel GPU (XPU)", "mps": "Apple GPU (MPS)",
                 "cpu": "CPU"}


class ModelSettingsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model settings")
        self.setMinimumWidth(520)
        initial = load_model_settings()
        self.check = ModelCheck(self)
        self.check.checked.connect(self._on_checked)
        self.last_check: tuple[bool, str] | None = None

        self.model = QComboBox()
        for name in MODEL_NAMES:
            self.model.addItem(name + (" (built in, for testing)" if name in BUILTIN_MODELS else ""), name)
        self.source = QComboBox()
        for key, label in SOURCE_LABELS.items():
            self.source.addItem(label, key)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder with model_index.json (diffusers layout)")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.setContentsMargins(0, 0, 0, 0)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        self.folder_box = QWidget()
        self.folder_box.setLayout(folder_row)
        self.hf_id = QLineEdit()
        self.device = QComboBox()
        for key in DEVICES:
            self.device.addItem(DEVICE_LABELS[key], key)
        self.dtype = QComboBox()
        for key in DTYPES:
            self.dtype.addItem(DTYPE_LABELS[key], key)
        self.cpu_offload = QCheckBox("CPU offload (slower; for GPUs with little memory)")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setMinimumHeight(40)

        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("Source", self.source)
        form.addRow("Folder", self.folder_box)
        form.addRow("Repository id", self.hf_id)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.dtype)
        form.addRow("", self.cpu_offload)
        self.form = form
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.recheck)
        self.set_settings(initial)
        for combo in (self.model, self.source, self.device, self.dtype):
            combo.currentIndexChanged.connect(self._changed)
        for edit in (self.folder, self.hf_id):
            edit.textChanged.connect(self._changed)
        self.cpu_offload.toggled.connect(self._changed)
        self._update_visibility()
        self.recheck()

    # ------------------------------------------------------------------ values
    def settings(self) -> ModelSettings:
        return ModelSettings(
            model=self.model.currentData(), source=self.source.currentData(), folder=self.folder.text().strip(),
            hf_id=self.hf_id.text().strip(), device=self.device.currentData(), dtype=self.dtype.currentData(),
            offload="model" if self.cpu_offload.isChecked() else "none")

    def set_settings(self, s: ModelSettings) -> None:
        for combo, value in ((self.model, s.model), (self.source, s.source), (self.device, s.device),
                             (self.dtype, s.dtype)):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        self.folder.setText(s.folder)
        self.hf_id.setText(s.hf_id)
        self.hf_id.setPlaceholderText(HF_IDS.get(s.model, "owner/name"))
        self.cpu_offload.setChecked(s.cpu_offload)

    def accept(self) -> None:
        save_model_settings(self.settings())
        super().accept()

    # ------------------------------------------------------------------ checking
    def _changed(self, *_args) -> None:
        self._update_visibility()
        self.status.setText("Checking…")
        self._debounce.start()

    def _update_visibility(self) -> None:
        s = self.settings()
        builtin = s.is_builtin
        self.source.setEnabled(not builtin)
        self.form.setRowVisible(self.folder_box, not builtin and s.source == "folder")
        self.form.setRowVisible(self.hf_id, not builtin and s.source == "hf_cache")
        self.hf_id.setPlaceholderText(HF_IDS.get(s.model, "owner/name"))

    def recheck(self) -> None:
        self.status.setText("Checking…")
        self.check.request(self.settings())

    def _on_checked(self, settings: ModelSettings, ok: bool, message: str) -> None:
        if settings != self.settings():
            return
        self.last_check = (ok, message)
        self.status.setProperty("role", "" if ok else "warning")
        self.status.setStyleSheet("" if ok else "color: #f2c744;")
        self.status.setText(("✓ " if ok else "⚠ ") + message)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder", self.folder.text() or "")
        if folder:
            self.folder.setText(folder)
