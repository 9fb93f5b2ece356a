""""Scan a models folder…": what every weights file under a folder is, and picking files from it.

The engine's :func:`ast_core.models.checkpoint_files.scan_folder` reads only file headers (a
ComfyUI ``models/`` folder with ``checkpoints/``, ``diffusion_models/`` or ``unet/``, ``clip/``
or ``text_encoders/``, ``vae/`` and ``loras/``, or any folder); it runs off the GUI thread. The
list shows each file with what it holds (transformer, all-in-one checkpoint, VAE, text encoder,
LoRA; the model it fits; how it is stored); the buttons hand the selected files to the Model
settings dialog: the model file, the VAE, the text encoders, or LoRAs for the project.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

#: the groups of the list, in order: kind -> heading
KIND_HEADINGS = {"transformer": "Diffusion transformers", "checkpoint": "All-in-one checkpoints", "vae": "VAEs",
                 "text_encoder": "Text encoders", "lora": "LoRAs", "unknown": "Other files"}
MODEL_KINDS = ("transformer", "checkpoint")
ROLE_FACTS = Qt.ItemDataRole.UserRole


class _Relay(QObject):
    done = Signal(int, object, object, str)  # serial, facts, problems, error


class _ScanTask(QRunnable):
    def __init__(self, serial: int, folder: str, relay: _Relay) -> None:
        super().__init__()
        self.serial, self.folder, self.relay = serial, folder, relay

    def run(self) -> None:
        from ast_core.models.checkpoint_files import CheckpointFileError, scan_folder

        try:
            found, problems = scan_folder(self.folder)
            error = ""
        except CheckpointFileError as e:
            found, problems, error = [], [], str(e)
        except OSError as e:
            found, problems, error = [], [], f"{self.folder}: cannot be read ({e.strerror or e})"
        except Exception as e:  # noqa: BLE001 - a failed scan is a message, not a crash
            log.exception("scanning %s failed", self.folder)
            found, problems, error = [], [], f"Could not scan {self.folder} ({type(e).__name__}: {e})"
        try:
            self.relay.done.emit(self.serial, found, problems, error)
        except RuntimeError:  # the dialog was closed meanwhile
            pass


class ModelsFolderScan(QDialog):
    """Lists the weights files of a folder; the buttons emit the chosen paths."""

    model_file_chosen = Signal(str, str)  # path, family name ("" when unknown)
    vae_chosen = Signal(str)
    text_encoders_chosen = Signal(list)
    loras_chosen = Signal(list)

    def __init__(self, parent: QWidget | None = None, folder: str = "", with_loras: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scan a models folder")
        self.resize(760, 460)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._serial = 0
        self.scanning = False
        self.facts: list = []
        self.folder = QLineEdit(folder)
        self.folder.setPlaceholderText("a models folder, e.g. ~/ComfyUI/models")
        self.folder.returnPressed.connect(self.scan)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.scan_button = QPushButton("Scan")
        self.scan_button.clicked.connect(self.scan)
        top = QHBoxLayout()
        top.addWidget(self.folder, 1)
        top.addWidget(browse)
        top.addWidget(self.scan_button)
        self.files = QTreeWidget()
        self.files.setHeaderLabels(["File", "What it is"])
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.files.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.files.header().setStretchLastSection(True)
        self.files.setColumnWidth(0, 300)
        self.files.itemSelectionChanged.connect(self._update_buttons)
        self.files.itemDoubleClicked.connect(lambda *_: self._use_default())
        self.status = QLabel("Choose a folder and press Scan; only the files' headers are read.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.use_model = QPushButton("Use as model file")
        self.use_model.setToolTip("The selected transformer or all-in-one checkpoint becomes the model's source")
        self.use_model.clicked.connect(self.choose_model_file)
        self.use_vae = QPushButton("Use as VAE")
        self.use_vae.clicked.connect(self.choose_vae)
        self.use_text_encoders = QPushButton("Use as text encoders")
        self.use_text_encoders.setToolTip("The selected text encoder files (up to 3: CLIP-L, CLIP-G, T5) replace the "
                                          "model's own")
        self.use_text_encoders.clicked.connect(self.choose_text_encoders)
        self.add_loras = QPushButton("Add LoRAs to the project")
        self.add_loras.setToolTip("The selected LoRA files join the project's LoRAs (strength 1) when you press OK "
                                  "in Model settings")
        self.add_loras.clicked.connect(self.choose_loras)
        self.add_loras.setVisible(with_loras)
        picks = QHBoxLayout()
        for b in (self.use_model, self.use_vae, self.use_text_encoders, self.add_loras):
            picks.addWidget(b)
        picks.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.files, 1)
        layout.addWidget(self.status)
        layout.addLayout(picks)
        layout.addWidget(close)
        self._update_buttons()

    # ------------------------------------------------------------------ scanning
    def scan(self) -> None:
        folder = self.folder.text().strip()
        if not folder:
            self.status.setText("Choose a folder to scan.")
            return
        from ast_studio.settings import set_models_folder

        set_models_folder(folder)  # offered again next time
        self._serial += 1
        self.scanning = True
        self.scan_button.setEnabled(False)
        self.status.setText(f"Scanning {folder}…")
        QThreadPool.globalInstance().start(_ScanTask(self._serial, str(Path(folder).expanduser()), self._relay))

    def _on_done(self, serial: int, found, problems, error: str) -> None:
        if serial != self._serial:
            return
        self.scanning = False
        self.scan_button.setEnabled(True)
        self.facts = list(found)
        self.files.clear()
        if error:
            self.status.setText("⚠ " + error)
            self._update_buttons()
            return
        root = Path(self.folder.text().strip()).expanduser()
        for kind, heading in KIND_HEADINGS.items():
            group = [f for f in self.facts if f.kind == kind]
            if not group:
                continue
            parent = QTreeWidgetItem([f"{heading} ({len(group)})", ""])
            parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.files.addTopLevelItem(parent)
            for facts in group:
                try:
                    name = str(facts.path.relative_to(root))
                except ValueError:
                    name = str(facts.path)
                item = QTreeWidgetItem([name, facts.describe()])
                item.setData(0, ROLE_FACTS, facts)
                item.setToolTip(0, str(facts.path))
                item.setToolTip(1, facts.describe())
                parent.addChild(item)
            parent.setExpanded(True)
        lines = [f"{len(self.facts)} weights file{'s' if len(self.facts) != 1 else ''} found."]
        if problems:
            more = " …" if len(problems) > 3 else ""
            lines.append(f"{len(problems)} unreadable: " + "; ".join(problems[:3]) + more)
        self.status.setText(" ".join(lines) if self.facts or problems else
                            f"No .safetensors or .gguf files under {root}.")
        self._update_buttons()

    # ------------------------------------------------------------------ picking
    def selected_facts(self) -> list:
        return [item.data(0, ROLE_FACTS) for item in self.files.selectedItems()
                if item.data(0, ROLE_FACTS) is not None]

    def select(self, *names: str) -> None:
        """Select the files whose names (relative or base names) are given (tests, keyboard users)."""
        self.files.clearSelection()
        for i in range(self.files.topLevelItemCount()):
            group = self.files.topLevelItem(i)
            for j in range(group.childCount()):
                item = group.child(j)
                facts = item.data(0, ROLE_FACTS)
                if item.text(0) in names or facts.path.name in names:
                    item.setSelected(True)

    def _kinds(self) -> set[str]:
        return {f.kind for f in self.selected_facts()}

    def _update_buttons(self) -> None:
        facts = self.selected_facts()
        kinds = self._kinds()
        self.use_model.setEnabled(len(facts) == 1 and kinds <= set(MODEL_KINDS))
        self.use_vae.setEnabled(len(facts) == 1 and kinds == {"vae"})
        self.use_text_encoders.setEnabled(1 <= len(facts) <= 3 and kinds == {"text_encoder"})
        self.add_loras.setEnabled(bool(facts) and kinds == {"lora"})

    def _use_default(self) -> None:
        """Double-click: the one thing the selected file can be used as."""
        for button in (self.use_model, self.use_vae, self.use_text_encoders, self.add_loras):
            if button.isEnabled() and button.isVisible():
                button.click()
                return

    def choose_model_file(self) -> None:
        facts = self.selected_facts()
        if len(facts) == 1 and facts[0].kind in MODEL_KINDS:
            self.model_file_chosen.emit(str(facts[0].path), facts[0].family)
            self.status.setText(f"Model file: {facts[0].path.name}")

    def choose_vae(self) -> None:
        facts = self.selected_facts()
        if len(facts) == 1 and facts[0].kind == "vae":
            self.vae_chosen.emit(str(facts[0].path))
            self.status.setText(f"VAE: {facts[0].path.name}")

    def choose_text_encoders(self) -> None:
        facts = [f for f in self.selected_facts() if f.kind == "text_encoder"][:3]
        if facts:
            self.text_encoders_chosen.emit([str(f.path) for f in facts])
            self.status.setText("Text encoders: " + ", ".join(f.path.name for f in facts))

    def choose_loras(self) -> None:
        facts = [f for f in self.selected_facts() if f.kind == "lora"]
        if facts:
            self.loras_chosen.emit([str(f.path) for f in facts])
            self.status.setText("LoRAs to add: " + ", ".join(f.path.name for f in facts))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Models folder", self.folder.text() or "")
        if folder:
            self.folder.setText(folder)
            self.scan()
