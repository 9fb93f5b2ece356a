"""Suite-wide setup: headless Qt, no network, no user settings touched."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DIFFUSERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SEED_EXAMPLES = Path(__file__).resolve().parent / "data" / "seed-examples"


@pytest.fixture(scope="session")
def seed_examples() -> Path:
    """The original demo's colour sketches (see ../shared/seed-examples/README.md)."""
    assert (SEED_EXAMPLES / "beach.png").exists(), SEED_EXAMPLES
    return SEED_EXAMPLES


@pytest.fixture(autouse=True)
def isolated_model_configuration(tmp_path_factory, monkeypatch):
    """The model configuration (``model.json``) lives in a fresh folder: never the user's own.
    Subprocesses started by a test inherit it through the environment."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("AST_STUDIO_CONFIG_DIR", str(folder))
    return folder
