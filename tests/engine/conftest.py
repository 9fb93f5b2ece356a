"""Engine test fixtures: the built-in tiny-flux model, seed-example layouts, one torch thread.

Tiny models are dominated by per-op overhead; with several processes sharing 2 cores,
multi-threaded torch spins and runs 10x slower, so the engine tests use one thread.
"""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model():
    from ast_core.models import load_model

    return load_model("tiny-flux", device="cpu", dtype="f32")


@pytest.fixture(scope="session")
def seed_layout(seed_examples):
    """``seed_layout("beach")`` -> a fresh Layout imported from the seed sketch."""
    from ast_core.importers import import_seed

    cache = {}

    def load(name: str):
        if name not in cache:
            cache[name] = import_seed(seed_examples / f"{name}.png", seed_examples / f"{name}.json")
        return cache[name].layout.copy()

    return load


@pytest.fixture(scope="session")
def tiny_sd3_model():
    from ast_core.models import load_model

    return load_model("tiny-sd3", device="cpu", dtype="f32")
