"""The Model settings dialog: which model, from where (folder, Hugging Face cache or one file with
its other parts from a base), which VAE / text encoder files, and how it runs (device,
precision, quantisation of the transformer and of T5, offload, VAE tiling).

Two tabs keep it usable on a 1366x768 screen: **Model** (family, source, part files, "Scan a
models folder…") and **Memory and device**. The choices and their texts come from the engine
(:mod:`ast_core.models.options`: ``CHOICES`` and ``LABELS``). Every change re-checks the
settings off the GUI thread with the engine's own checks (:func:`ast_core.models.check_model`:
files, folders, the model family, the device, quantisations and packages) and shows the
result in one line. OK stores the settings (the user's model configuration, shared with
``ast-studio render``) even when the check fails, so a folder on a drive that is not mounted
yet is not lost; generating then explains the problem again. LoRAs picked from a scanned
folder join the project's LoRA list on OK (through ``add_loras``).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ast_core.models.options import CHOICES as OPTION_CHOICES
from ast_core.models.options import LABELS as OPTION_LABELS

from .model_check import ModelCheck
from .model_scan import ModelsFolderScan
from .model_settings import (
    BUILTIN_MODELS,
    HF_IDS,
    MODEL_NAMES,
    ModelSettings,
    load_model_settings,
    save_model_settings,
)

SOURCE_LABELS = {"folder": "Local folder (diffusers layout)", "hf_cache": "Hugging Face cache (offline)",
                 "file": "One weights file (.safetensors / .gguf)"}
DTYPE_LABELS = {"auto": "Auto (bf16 on CUDA/ROCm/XPU and MPS, f32 on CPU)", "bf16": "bfloat16", "fp16": "float16",
                "f32": "float32"}
DEVICE_LABELS = {"auto": "Auto (CUDA/ROCm, then XPU, then MPS, then CPU)", "cuda": "CUDA or ROCm GPU",
                 "xpu": "Intel GPU (XPU)", "mps": "Apple GPU (MPS)",
                 "cpu": "CPU"}
WEIGHTS_FILTER = "Weights (*.safetensors *.sft *.gguf)"
MAX_TEXT_ENCODERS = 3


def _path_row(placeholder: str, browse: Callable[[QLineEdit], None]) -> tuple[QWidget, QLineEdit]:
    """A line edit with a Browse… button, as one form field."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    button = QPushButton("Browse…")
    button.clicked.connect(lambda: browse(edit))
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    row.addWidget(button)
    box = QWidget()
    box.setLayout(row)
    return box, edit


def _choice_box(name: str, labels: dict[str, str] | None = None) -> QComboBox:
    """A combo box of the engine's choices for option ``name``, labelled with their texts."""
    combo = QComboBox()
    texts = labels or OPTION_LABELS.get(name, {})
    for key in OPTION_CHOICES[name] if name in OPTION_CHOICES else texts:
        text = texts.get(key, key)
        combo.addItem(text if labels else f"{key}: {text}", key)
        combo.setItemData(combo.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
    # long texts stay readable in the list without widening the dialog
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(24)
    return combo


class ModelSettingsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None,
                 add_loras: Callable[[list[str]], object] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model settings")
        self.setMinimumWidth(560)
        self.add_loras = add_loras
        self.pending_loras: list[str] = []  # LoRAs picked from a scan, added to the project on OK
        self.scan_dialog: ModelsFolderScan | None = None
        initial = load_model_settings()
        self.check = ModelCheck(self)
        self.check.checked.connect(self._on_checked)
        self.attention = QLabel("…")  # which AST attention backend runs on the device
        self.check.backend.connect(self.attention.setText)
        self.last_check: tuple[bool, str] | None = None

        # --- tab "Model": family, source and part files
        self.model = QComboBox()
        for name in MODEL_NAMES:
            self.model.addItem(name + (" (built in, for testing)" if name in BUILTIN_MODELS else ""), name)
        self.source = QComboBox()
        for key, label in SOURCE_LABELS.items():
            self.source.addItem(label, key)
        self.folder_box, self.folder = _path_row("folder with model_index.json (diffusers layout)", self._browse_folder)
        self.hf_id = QLineEdit()
        self.file_box, self.file = _path_row("a transformer, GGUF or all-in-one checkpoint file", self._browse_weights)
        self.base_box, self.base = _path_row("", self._browse_folder)
        self.base.setToolTip("Where the model's other parts (text encoders, VAE, configs) come from: a diffusers "
                             "folder or a cached Hugging Face id. Empty: the family's repository in the cache.")
        self.vae_box, self.vae = _path_row("the model's own VAE", self._browse_weights)
        self.vae.setToolTip("A VAE file replacing the model's own (e.g. ae.safetensors)")
        self.text_encoder_boxes, self.text_encoders = [], []
        for i in range(MAX_TEXT_ENCODERS):
            box, edit = _path_row("the model's own" if i == 0 else "", self._browse_weights)
            edit.setToolTip("A text encoder file (CLIP-L, CLIP-G or T5; fp16 or fp8) replacing the model's own; "
                            "which one it replaces is read from the file")
            self.text_encoder_boxes.append(box)
            self.text_encoders.append(edit)
        self.scan_button = QPushButton("Scan a models folder…")
        self.scan_button.setToolTip("List every weights file of a folder (e.g. ComfyUI's models folder) with what it "
                                    "is, and pick the model file, VAE, text encoders or LoRAs from it")
        self.scan_button.clicked.connect(self.open_scan)
        self.loras_note = QLabel()
        self.loras_note.setWordWrap(True)
        self.loras_note.hide()
        source_form = QFormLayout()
        source_form.addRow("Model", self.model)
        source_form.addRow("Source", self.source)
        source_form.addRow("Folder", self.folder_box)
        source_form.addRow("Repository id", self.hf_id)
        source_form.addRow("Model file", self.file_box)
        source_form.addRow("Other parts from", self.base_box)
        source_form.addRow("VAE file", self.vae_box)
        for i, box in enumerate(self.text_encoder_boxes):
            source_form.addRow(f"Text encoder file {i + 1}", box)
        source_form.addRow("", self.scan_button)
        source_form.addRow(self.loras_note)
        self.source_form = source_form

        # --- tab "Memory and device"
        self.device = _choice_box("device", DEVICE_LABELS)
        self.dtype = _choice_box("dtype", DTYPE_LABELS)
        self.quantize = _choice_box("quantize")
        self.quantize.setToolTip("Quantisation of the diffusion transformer (a GGUF file is quantised already)")
        self.text_encoder_quantize = _choice_box("text_encoder_quantize")
        self.text_encoder_quantize.setToolTip("Quantisation of the T5 text encoder")
        self.offload = _choice_box("offload")
        self.vae_tiling = _choice_box("vae_tiling")
        device_form = QFormLayout()
        device_form.addRow("Device", self.device)
        device_form.addRow("Precision", self.dtype)
        device_form.addRow("Transformer weights", self.quantize)
        device_form.addRow("T5 weights", self.text_encoder_quantize)
        device_form.addRow("Offload", self.offload)
        device_form.addRow("VAE tiling", self.vae_tiling)
        device_form.addRow("AST attention", self.attention)
        self.device_form = device_form

        self.tabs = QTabWidget()
        for title, form in (("Model", source_form), ("Memory and device", device_form)):
            page = QWidget()
            page.setLayout(form)
            scroll = QScrollArea()  # a small screen scrolls a page instead of cutting it
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(page)
            self.tabs.addTab(scroll, title)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setMinimumHeight(40)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.recheck)
        self.set_settings(initial)
        for combo in (self.model, self.source, self.device, self.dtype, self.quantize, self.text_encoder_quantize,
                      self.offload, self.vae_tiling):
            combo.currentIndexChanged.connect(self._changed)
        for edit in (self.folder, self.hf_id, self.file, self.base, self.vae, *self.text_encoders):
            edit.textChanged.connect(self._changed)
        self._update_visibility()
        self.recheck()

    # ------------------------------------------------------------------ values
    def settings(self) -> ModelSettings:
        return ModelSettings(
            model=self.model.currentData(), source=self.source.currentData(), folder=self.folder.text().strip(),
            hf_id=self.hf_id.text().strip(), file=self.file.text().strip(), base=self.base.text().strip(),
            vae=self.vae.text().strip(),
            text_encoders=tuple(t for t in (e.text().strip() for e in self.text_encoders) if t),
            device=self.device.currentData(), dtype=self.dtype.currentData(),
            quantize=self.quantize.currentData(), text_encoder_quantize=self.text_encoder_quantize.currentData(),
            offload=self.offload.currentData(), vae_tiling=self.vae_tiling.currentData())

    def set_settings(self, s: ModelSettings) -> None:
        for combo, value in ((self.model, s.model), (self.source, s.source), (self.device, s.device),
                             (self.dtype, s.dtype), (self.quantize, s.quantize),
                             (self.text_encoder_quantize, s.text_encoder_quantize), (self.offload, s.offload),
                             (self.vae_tiling, s.vae_tiling)):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        for edit, value in ((self.folder, s.folder), (self.hf_id, s.hf_id), (self.file, s.file), (self.base, s.base),
                            (self.vae, s.vae)):
            edit.setText(value)
        for i, edit in enumerate(self.text_encoders):
            edit.setText(s.text_encoders[i] if i < len(s.text_encoders) else "")
        self._update_visibility()

    def accept(self) -> None:
        save_model_settings(self.settings())
        if self.pending_loras and self.add_loras is not None:
            self.add_loras(list(self.pending_loras))
        self.pending_loras = []
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
        form = self.source_form
        form.setRowVisible(self.folder_box, not builtin and s.source == "folder")
        form.setRowVisible(self.hf_id, not builtin and s.source == "hf_cache")
        form.setRowVisible(self.file_box, not builtin and s.source == "file")
        form.setRowVisible(self.base_box, not builtin and s.source == "file")
        form.setRowVisible(self.vae_box, not builtin)
        for box in self.text_encoder_boxes:
            form.setRowVisible(box, not builtin)
        self.hf_id.setPlaceholderText(HF_IDS.get(s.model, "owner/name"))
        self.base.setPlaceholderText(f"{HF_IDS[s.model]} in the Hugging Face cache" if s.model in HF_IDS
                                     else "a diffusers folder or a cached Hugging Face id")
        gguf = not builtin and s.source == "file" and s.file.lower().endswith(".gguf")
        if gguf and self.quantize.currentData() != "none":
            self.quantize.setCurrentIndex(self.quantize.findData("none"))
        self.quantize.setEnabled(not gguf)
        self.quantize.setToolTip("A GGUF file is quantised already" if gguf
                                 else "Quantisation of the diffusion transformer")

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

    # ------------------------------------------------------------------ files
    def _browse_folder(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder", edit.text() or "")
        if folder:
            edit.setText(folder)

    def _browse_weights(self, edit: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Weights file", edit.text() or "", WEIGHTS_FILTER)
        if path:
            edit.setText(path)

    # ------------------------------------------------------------------ scanning a models folder
    def open_scan(self) -> ModelsFolderScan:
        """Show the scan of a models folder (window-modal, not blocking); returns it."""
        from ast_studio.settings import models_folder

        if self.scan_dialog is None:
            self.scan_dialog = ModelsFolderScan(self, models_folder(), with_loras=self.add_loras is not None)
            self.scan_dialog.model_file_chosen.connect(self.use_model_file)
            self.scan_dialog.vae_chosen.connect(self.vae.setText)
            self.scan_dialog.text_encoders_chosen.connect(self.use_text_encoders)
            self.scan_dialog.loras_chosen.connect(self.add_pending_loras)
        self.scan_dialog.open()
        return self.scan_dialog

    def use_model_file(self, path: str, family: str) -> None:
        """A transformer or checkpoint file becomes the source (its family chosen when known)."""
        if family in MODEL_NAMES and family not in BUILTIN_MODELS:  # a built-in family ignores the file
            self.model.setCurrentIndex(self.model.findData(family))
        self.source.setCurrentIndex(self.source.findData("file"))
        self.file.setText(path)

    def use_text_encoders(self, paths: list) -> None:
        for i, edit in enumerate(self.text_encoders):
            edit.setText(paths[i] if i < len(paths) else "")

    def add_pending_loras(self, paths: list) -> None:
        for p in paths:
            if p not in self.pending_loras:
                self.pending_loras.append(p)
        names = ", ".join(p.replace("\\", "/").rsplit("/", 1)[-1] for p in self.pending_loras)
        self.loras_note.setText(f"On OK, these LoRAs join the project's list: {names}")
        self.loras_note.setVisible(bool(self.pending_loras))
