"""Model registry, loading (folder / HF cache / built-in), tiny-flux structure and export round trip."""
from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest
import torch

from ast_core.models import (
    FAMILIES, ModelLoadError, check_folder, export_tiny_model, load_model, resolve_device, resolve_dtype,
)
from ast_core.models.flux import FLUX_DEV, FLUX_SCHNELL, TINY_FLUX


def _render(pipe, steps=2, size=64, seed=1):
    return pipe("a white goat", width=size, height=size, num_inference_steps=steps, guidance_scale=3.5,
                generator=torch.Generator().manual_seed(seed), max_sequence_length=TINY_FLUX.max_sequence_length,
                output_type="np").images


def test_family_facts():
    assert FLUX_DEV.max_sequence_length == 512 and FLUX_SCHNELL.max_sequence_length == 256
    assert FLUX_DEV.guidance_distilled and not FLUX_SCHNELL.guidance_distilled
    assert FLUX_SCHNELL.default_steps == 4 and FLUX_SCHNELL.default_guidance == 0.0
    for fam in FAMILIES.values():
        assert fam.latent_channels == 16 and fam.pixels_per_token == 16
        assert fam.architecture_name in {"flux", "sd3"} and fam.architecture.name == fam.architecture_name


def test_device_and_dtype_choice():
    assert resolve_device("auto").type in {"cuda", "mps", "cpu"}
    cpu = torch.device("cpu")
    assert resolve_dtype("auto", cpu) == torch.float32
    assert resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16
    # FLUX overflows in fp16: MPS runs bf16 (macOS 14+; assumed where no Apple GPU is present), else f32
    assert resolve_dtype("auto", torch.device("mps")) == torch.bfloat16
    assert resolve_dtype("auto", torch.device("xpu")) == torch.bfloat16
    assert resolve_dtype("fp16", cpu) == torch.float16
    with pytest.raises(ValueError, match="unknown dtype"):
        resolve_dtype("int4", cpu)
    with pytest.raises(ModelLoadError, match="dtype must be one of auto, bf16, fp16, f32, got .f13"):
        load_model("tiny-flux", dtype="f13")


def test_tiny_flux_has_the_real_block_structure(tiny_model):
    pipe = tiny_model.pipeline
    tr = pipe.transformer
    assert type(pipe).__name__ == "FluxPipeline" and tiny_model.family is TINY_FLUX
    assert len(tr.transformer_blocks) == 19 and len(tr.single_transformer_blocks) == 38
    assert tr.config.attention_head_dim == 16 and tr.config.num_attention_heads == 2
    assert tr.config.guidance_embeds and tr.config.in_channels == 64
    assert pipe.vae.config.latent_channels == 16 and pipe.vae_scale_factor == 8
    assert type(pipe.scheduler).__name__ == "FlowMatchEulerDiscreteScheduler"
    assert type(pipe.tokenizer).__name__ == "CLIPTokenizer"
    t5 = pipe.tokenizer_2
    assert type(t5).__name__ in {"T5TokenizerFast", "T5Tokenizer"}
    ids = t5("a white goat").input_ids
    assert ids[-1] == t5.eos_token_id and t5.pad_token_id == 0
    assert t5.convert_ids_to_tokens(ids[:-1]) == ["▁a", "▁white", "▁goat"]
    # unknown words fall back to characters instead of <unk>
    assert t5.unk_token_id not in t5("a zxqv").input_ids
    assert pipe.tokenizer.unk_token_id not in pipe.tokenizer("a zxqv").input_ids[1:-1]


def test_tiny_flux_is_cached_and_fast(tiny_model):
    assert load_model("tiny-flux").pipeline is tiny_model.pipeline
    _render(tiny_model.pipeline, steps=1)  # warm-up
    best = min(_timed(lambda: _render(tiny_model.pipeline, steps=4)) for _ in range(3))
    print(f"tiny-flux 4 steps at 64x64: {best * 1000:.0f} ms")
    assert best < 2.0  # typically ~0.3 s; generous for a loaded CI machine


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_tiny_flux_is_deterministic(tiny_model):
    fresh = load_model("tiny-flux", dtype="f32").pipeline  # shared one
    from ast_core.models.tiny_flux import build_tiny_flux

    other = build_tiny_flux(fresh=True)
    other.set_progress_bar_config(disable=True)
    assert other is not fresh
    np.testing.assert_array_equal(_render(fresh), _render(other))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-flux")


def test_export_round_trip(tiny_model, exported):
    assert (exported / "model_index.json").is_file()
    assert list((exported / "transformer").glob("*.safetensors"))
    assert check_folder(exported) is TINY_FLUX
    stages = []
    loaded = load_model(str(exported), device="cpu", dtype="f32", on_progress=stages.append)
    assert loaded.family is TINY_FLUX and loaded.source == str(exported)
    # the folder's components, counted as diffusers loads them one after the other
    assert [(s.done, s.total) for s in stages] == [(k, 7) for k in range(8)]
    assert stages[1].text.startswith("Loading model (2/7 components: ") and stages[-1].text == "Loading model (7/7 components)"
    assert {s.text.split(": ")[-1].rstrip(")") for s in stages[:-1]} >= {"transformer", "vae", "text encoder"}
    assert loaded.pipeline is not tiny_model.pipeline
    np.testing.assert_array_equal(_render(loaded.pipeline), _render(tiny_model.pipeline))


def test_export_refuses_a_folder_with_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ModelLoadError, match="not empty"):
        export_tiny_model(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="model folder not found: .*nowhere"):
        load_model(str(tmp_path / "nowhere"))
    with pytest.raises(ModelLoadError, match="model_index.json is missing"):
        load_model(str(tmp_path))


def test_incomplete_folder_lists_everything_missing(exported, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(exported, broken)
    shutil.rmtree(broken / "vae")
    (broken / "tokenizer_2" / "tokenizer.json").unlink()
    for f in (broken / "transformer").glob("*.safetensors"):
        f.unlink()
    with pytest.raises(ModelLoadError) as e:
        load_model(str(broken))
    msg = str(e.value)
    assert "incomplete" in msg and "vae/" in msg and "tokenizer_2/tokenizer.json" in msg
    assert "transformer/*.safetensors" in msg and str(broken) in msg


def test_unknown_pipeline_class_is_named(exported, tmp_path):
    other = tmp_path / "sd"
    shutil.copytree(exported, other)
    index = json.loads((other / "model_index.json").read_text())
    index["_class_name"] = "StableDiffusionPipeline"
    (other / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(ModelLoadError, match="no pipeline AST Studio knows.*StableDiffusionPipeline.*supported: FluxPipeline, StableDiffusion3Pipeline"):
        load_model(str(other))


@pytest.mark.parametrize("config,text", [("transformer/config.json", "[]"), ("vae/config.json", '"tiny"'),
                                         ("scheduler/scheduler_config.json", "{"),
                                         ("transformer/config.json", '{"joint_attention_dim": "wide"}')])
def test_a_config_that_is_not_an_object_is_one_clear_error(exported, tmp_path, config, text):
    """Given a config that is not an object, diffusers would look for a model of that name on the hub."""
    bad = tmp_path / "bad"
    shutil.copytree(exported, bad)
    (bad / config).write_text(text)
    (bad / "ast_studio_model.json").unlink()  # the family then comes from the transformer config
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FutureWarning or hub message on the way
        with pytest.raises(ModelLoadError) as e:
            load_model(str(bad))
    assert str(e.value).startswith(str(bad / config.split("/")[0])) and "\n" not in str(e.value)


def test_corrupt_weights(exported, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(exported, bad)
    for f in (bad / "transformer").glob("*.safetensors"):
        f.write_bytes(b"this is not a safetensors file" * 10)
    with pytest.raises(ModelLoadError, match=f"could not load tiny-flux from {bad}"):
        load_model(str(bad))


def test_hf_id_not_in_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="not in the local Hugging Face cache.*hf download"):
        load_model("someone/not-a-cached-model")


def test_hf_cache_id_loads_offline(exported, tmp_path, monkeypatch):
    """A repository in the Hugging Face cache layout loads by its id, without network."""
    repo = tmp_path / "hub" / "models--someone--tiny-flux"
    snap = repo / "snapshots" / ("0" * 40)
    shutil.copytree(exported, snap)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(tmp_path / "hub"))
    loaded = load_model("someone/tiny-flux", device="cpu", dtype="f32")
    assert loaded.family is TINY_FLUX and loaded.source == "someone/tiny-flux"


def test_cpu_offload_on_cpu_is_a_warning_not_an_error():
    loaded = load_model("tiny-flux", device="cpu", cpu_offload=True)
    assert not loaded.cpu_offload and any("CPU offload" in w for w in loaded.warnings)
