"""Load a model for generation from :class:`~ast_core.models.options.ModelOptions`.

    model = load_model("tiny-flux")                                   # built in
    model = load_model("/models/FLUX.1-dev", device="cuda", cpu_offload=True)
    model = load_model(ModelOptions(source="flux1-dev-Q4_0.gguf", base="black-forest-labs/FLUX.1-dev",
                                    text_encoder_quantize="fp8", offload="model"))
    model.use_loras((LoraChoice("ink.safetensors", 0.8),))           # no reload

Sources: a built-in model's name, a diffusers folder, a Hugging Face id already in the cache,
or one weights file (a transformer in the original or diffusers layout, a GGUF file, or an
all-in-one checkpoint) whose other components come from ``base`` (a folder, a cached id or a
built-in model; by default the family's usual repository in the cache). ``vae`` and
``text_encoders`` files replace single components. Only configs and tokenizers are read from
the base for components given as files.

Always offline and safe: ``local_files_only=True``, safetensors/GGUF weights only, no remote
code (the pipeline class must be one an architecture adapter knows). Every failure is a
:class:`ModelLoadError` whose message names the file or folder and what to do.
"""
from __future__ import annotations

import json
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import parts
from .architecture import Architecture
from .architectures import ARCHITECTURES, DEFAULT_FAMILY, FAMILIES, architecture_for_pipeline_class
from .checkpoint_files import ENCODER_PREFIXES, VAE_PREFIXES, CheckpointFileError, FileFacts, inspect_file
from .device import DTYPE_NAMES, device_label, resolve_device, resolve_dtype, startup_warning
from .errors import ModelLoadError
from .families import ModelFamily
from .loras import LoraError, LoraState, apply_loras
from .options import LoraChoice, ModelOptions, OptionError
from .parts import first_line
from .quantisation import LOAD_TIME, QuantisationError, apply_fp8, apply_fp8_text_encoder, check, require_gguf

log = logging.getLogger(__name__)

TINY_NAME = DEFAULT_FAMILY
#: Written next to model_index.json by ``export_tiny_model``: names the family for the loader.
MARKER_FILE = "ast_studio_model.json"
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class LoadedModel:
    """A ready pipeline plus the facts of its family, where it came from and how it was loaded."""

    pipeline: object  # the diffusers pipeline of the family's architecture
    family: ModelFamily
    source: str  # "tiny-flux", a folder path, a Hugging Face id or a file
    device: torch.device
    dtype: torch.dtype
    cpu_offload: bool = False
    warnings: list[str] = field(default_factory=list)
    options: ModelOptions = field(default_factory=ModelOptions)
    base: str = ""  # where the components not given as files came from
    files: dict[str, dict] = field(default_factory=dict)  # component -> facts of its single file
    vae_tiled: bool = False  # whether the last render decoded in tiles
    shared: bool = False  # the process-wide built-in pipeline (copied before LoRAs change it)
    loras: LoraState = field(default_factory=LoraState)

    @property
    def transformer(self):
        return self.pipeline.transformer

    @property
    def architecture(self) -> Architecture:
        return self.family.architecture

    @property
    def execution_device(self) -> torch.device:
        return self.pipeline._execution_device

    def use_loras(self, loras: tuple[LoraChoice, ...] | list[LoraChoice]) -> None:
        """Make exactly ``loras`` active (strengths included); LoraError names a bad file."""
        loras = tuple(loras)
        if loras and self.shared:
            self.pipeline = self.family.architecture.build_tiny(self.family, fresh=True)
            self.pipeline.set_progress_bar_config(disable=True)
            self.shared = False
        if not loras and not self.loras.adapters:
            self.options = self.options.with_changes(loras=())
            return
        apply_loras(self.pipeline, self.architecture, loras, self.loras)
        self.options = self.options.with_changes(loras=loras)

    def prepare_render(self, width: int, height: int) -> None:
        """Per-render settings that depend on the image size (VAE tiling)."""
        vae = getattr(self.pipeline, "vae", None)
        tiled = self.options.vae_tiles(width, height)
        if vae is not None and hasattr(vae, "enable_tiling"):
            vae.enable_tiling() if tiled else vae.disable_tiling()
        self.vae_tiled = tiled

    def describe(self) -> dict:
        """What the generation metadata records about the model."""
        o = self.options
        return {
            "source": self.source,
            "family": self.family.name,
            "architecture": self.family.architecture_name,
            "device": str(self.device),
            "device_name": device_label(self.device),
            "dtype": DTYPE_NAMES.get(self.dtype, str(self.dtype)),
            "cpu_offload": self.cpu_offload,
            "offload": o.offload if self.cpu_offload else "none",
            "quantize": "gguf" if o.is_gguf else o.quantize,
            "text_encoder_quantize": o.text_encoder_quantize,
            "vae_tiling": o.vae_tiling,
            "vae_tiled": self.vae_tiled,
            "base": self.base,
            "files": {k: dict(v) for k, v in self.files.items()},
            "loras": [dict(x) for x in self.loras.active],
        }


# ---------------------------------------------------------------------- entry point
def load_model(
    source: str | Path | ModelOptions = TINY_NAME,
    device: str | torch.device | None = "auto",
    dtype: str | torch.dtype | None = "auto",
    cpu_offload: bool = False,
    **options: Any,
) -> LoadedModel:
    """Load ``source`` (a name, folder, cached id or file; or a whole ModelOptions).

    Keyword ``options`` are further :class:`ModelOptions` fields (``quantize="fp8"``,
    ``loras=(...)``...); with a ModelOptions as ``source`` the other arguments are ignored.
    """
    try:
        if isinstance(source, ModelOptions):
            opts = source
        else:
            opts = ModelOptions(source=str(source), device=_device_name(device), dtype=_dtype_name(dtype),
                                offload="model" if cpu_offload else "none").with_changes(**options)
        opts = opts.validate()
    except (OptionError, TypeError) as e:
        raise ModelLoadError(str(e)) from None
    dev, dt = _device_for(opts)
    notes: list[str] = []
    if opts.device == "auto" and dev.type == "cpu":
        warning = startup_warning()
        if warning:
            notes.append(warning)
    plan = _locate(opts)
    try:
        pipe, shared = _assemble(plan, opts, dev, dt)
    except (QuantisationError, CheckpointFileError) as e:
        raise ModelLoadError(str(e)) from None
    model = _finish(pipe, plan, opts, dev, dt, notes)
    model.shared = shared
    if opts.loras:
        try:
            model.use_loras(opts.loras)
        except LoraError as e:
            raise ModelLoadError(str(e)) from None
    return model


def _device_for(opts: ModelOptions) -> tuple[torch.device, torch.dtype]:
    """The device and dtype of validated ``opts``, after checking that the device and the installed
    packages can do what the options ask (quantisations, GGUF); ModelLoadError says what cannot."""
    try:
        dev = resolve_device(opts.device)
        dt = resolve_dtype(opts.dtype, dev)
        check(opts.quantize, dev, "quantize")
        check(opts.text_encoder_quantize, dev, "text_encoder_quantize")
        if opts.is_gguf:
            require_gguf()
    except ValueError as e:  # includes QuantisationError
        raise ModelLoadError(str(e)) from None
    return dev, dt


@dataclass(frozen=True)
class ModelFound:
    """What :func:`check_model` found: the family and where each part comes from."""

    family: ModelFamily
    source: str  # the folder, cached id, file or built-in name the transformer comes from
    base: str  # where the other parts come from (the source itself for a folder)
    files: dict[str, str]  # part given as a file ("transformer", "vae", "text_encoder_2"...) -> file
    device: str  # the device that would run it ("cpu", "cuda"...)

    def describe(self) -> str:
        """One line: "FLUX.1-dev from FILE (other parts from BASE; VAE, text_encoder_2 from files) on cuda"."""
        if self.family.builtin and self.source == self.family.name:
            where = "built in"
        else:
            where = f"from {self.source}"
            extra = [p for p in self.files if p != "transformer"]
            if self.base != self.source:
                where += f" (other parts from {self.base}" + (f"; {', '.join(extra)} from files)" if extra else ")")
            elif extra:
                where += f" ({', '.join(extra)} from files)"
        return f"{self.family.name} {where}, on {self.device}"


def check_model(options: ModelOptions) -> ModelFound:
    """Everything :func:`load_model` checks before it reads weights: the options, the device, the
    quantisations and packages, every file's header and the folders' layout (fast; no torch
    weights loaded). ModelLoadError with load_model's own one-line message when something is wrong."""
    try:
        opts = options.validate()
    except (OptionError, TypeError) as e:
        raise ModelLoadError(str(e)) from None
    dev, _ = _device_for(opts)
    plan = _locate(opts)
    files = {"transformer": str(plan.transformer.path)} if plan.transformer is not None else {}
    files.update({"vae": str(plan.vae[0].path)} if plan.vae else {})
    files.update({slot: str(facts.path) for slot, (facts, _prefix) in sorted(plan.encoders.items())})
    return ModelFound(plan.family, plan.label, str(plan.base_label), files, dev.type)


def _device_name(device) -> str:
    return "auto" if device is None else str(device)


def _dtype_name(dtype) -> str:
    if dtype is None:
        return "auto"
    if isinstance(dtype, torch.dtype):
        return DTYPE_NAMES.get(dtype, str(dtype))
    text = str(dtype).lower()
    return {"bfloat16": "bf16", "float16": "fp16", "fp32": "f32", "float32": "f32"}.get(text, text)


# ---------------------------------------------------------------------- where the parts come from
@dataclass
class _Plan:
    family: ModelFamily
    label: str  # the source as recorded
    base: Path | str  # a folder, or a built-in family name
    base_label: str
    transformer: FileFacts | None = None  # a single file holding the transformer (or a checkpoint)
    vae: tuple[FileFacts, str] | None = None  # (file, tensor prefix)
    encoders: dict[str, tuple[FileFacts, str]] = field(default_factory=dict)  # slot -> (file, prefix)

    @property
    def builtin(self) -> bool:
        return isinstance(self.base, str)

    @property
    def provided(self) -> set[str]:
        out = set(self.encoders) | ({"vae"} if self.vae else set())
        return out | ({"transformer"} if self.transformer else set())


def _locate(opts: ModelOptions) -> _Plan:
    text = opts.source
    builtin = FAMILIES.get(text)
    if builtin is not None and builtin.builtin:
        plan = _Plan(builtin, text, text, text)
    elif opts.is_file:
        plan = _plan_for_file(opts)
    else:
        folder, label = _folder_of(text)
        provided = _slots_of_files(opts)
        fam = check_folder(folder, provided)
        plan = _Plan(fam, label, folder, label)
    _add_component_files(plan, opts)
    if not plan.builtin:
        try:
            check_folder(Path(plan.base), plan.provided)
        except ModelLoadError as e:
            hint = " (or give those parts as files: a VAE file, text encoder files)" if "missing" in str(e) else ""
            raise ModelLoadError(f"{e}{hint}") from None
    return plan


def _folder_of(text: str) -> tuple[Path, str]:
    path = Path(text).expanduser()
    if path.exists() or text.startswith((".", "/", "~")) or "\\" in text or not _HF_ID.match(text):
        return path, str(path)
    return hf_cache_folder(text), text


def _inspect(path: str, what: str) -> FileFacts:
    try:
        return inspect_file(path)
    except CheckpointFileError as e:
        raise ModelLoadError(f"{what}: {e}") from None


def _plan_for_file(opts: ModelOptions) -> _Plan:
    facts = _inspect(opts.source, "model file")
    if facts.kind not in ("transformer", "checkpoint"):
        hint = {"vae": " (give it as the VAE file, with the model's transformer or folder as the source)",
                "text_encoder": " (give it as a text encoder file, with the model's transformer or folder as the source)",
                "lora": " (give it as a LoRA)"}.get(facts.kind, "")
        raise ModelLoadError(f"{facts.path}: not a diffusion transformer AST Studio runs: it holds a "
                             f"{facts.describe()}{hint}")
    fam = FAMILIES[facts.family]
    if opts.base:
        named = FAMILIES.get(opts.base)
        if named is not None and named.builtin:
            base, base_label, base_fam = opts.base, opts.base, named
        else:
            base, base_label = _folder_of(opts.base)
            base_fam = _check_base(base, facts)
    elif fam.builtin:
        base, base_label, base_fam = fam.name, fam.name, fam
    else:
        try:
            base = hf_cache_folder(fam.hf_id)
        except ModelLoadError:
            raise ModelLoadError(
                f"{facts.path} is a {fam.name} transformer; its other parts (text encoders, VAE, configs) come from "
                f"a base model: give one (a diffusers folder or a cached id), or download {fam.hf_id}'s configs and "
                f"tokenizers with `hf download {fam.hf_id} --include \"*.json\" \"*.txt\" \"*.model\"` plus the "
                "weights of the parts you do not give as files") from None
        base_label = fam.hf_id
        base_fam = _check_base(base, facts)
    if base_fam.architecture_name != fam.architecture_name:
        raise ModelLoadError(f"{facts.path} is a {fam.name} transformer but the base {base_label} holds "
                             f"{base_fam.name}; give a base of the same model")
    if base_fam.name != fam.name and not (base_fam.builtin or fam.builtin):
        if (base_fam.layers, base_fam.guidance_distilled) != (fam.layers, fam.guidance_distilled):
            raise ModelLoadError(f"{facts.path} is a {fam.name} transformer but the base {base_label} holds "
                                 f"{base_fam.name}, whose configs differ; give a {fam.name} base")
        fam = base_fam  # one architecture, told apart only by the base (e.g. a distilled variant)
    plan = _Plan(fam, str(facts.path), base, base_label, transformer=facts)
    if facts.kind == "checkpoint":
        if "vae" in facts.parts:
            prefix = next(p for p in VAE_PREFIXES if any(k.startswith(p) for k in facts.tensors))
            plan.vae = (facts, prefix)
        slots = {enc: slot for slot, enc in fam.architecture.text_encoder_slots.items()}
        for enc, prefix in ENCODER_PREFIXES.items():
            if enc in facts.parts and enc in slots:
                plan.encoders[slots[enc]] = (facts, prefix)
    return plan


def _check_base(base: Path, facts: FileFacts) -> ModelFamily:
    """The base folder's family; its weights are checked later, once the files' parts are known."""
    try:
        return check_folder(base, provided={"transformer", "vae", "text_encoder", "text_encoder_2", "text_encoder_3"})
    except ModelLoadError as e:
        raise ModelLoadError(f"base for {facts.path.name}: {e}") from None


def _slots_of_files(opts: ModelOptions) -> set[str]:
    return ({"vae"} if opts.vae else set()) | ({"text_encoder", "text_encoder_2", "text_encoder_3"}
                                                if opts.text_encoders else set())


def _add_component_files(plan: _Plan, opts: ModelOptions) -> None:
    if plan.builtin and plan.transformer is None and (opts.vae or opts.text_encoders):
        raise ModelLoadError(f"VAE and text encoder files replace parts of a model folder or file; "
                             f"{plan.label} is built in")
    arch = plan.family.architecture
    if opts.vae:
        facts = _inspect(opts.vae, "vae")
        if facts.kind != "vae":
            raise ModelLoadError(f"vae {facts.path}: not a VAE, it holds a {facts.describe()}")
        from .checkpoint_files import vae_latent_channels

        channels = vae_latent_channels(facts.tensors)
        if channels != plan.family.latent_channels:
            raise ModelLoadError(f"vae {facts.path}: a {channels}-channel VAE; {plan.family.name} needs "
                                 f"{plan.family.latent_channels} channels")
        plan.vae = (facts, "")
    slots = {enc: slot for slot, enc in arch.text_encoder_slots.items()}
    given: dict[str, str] = {}
    for path in opts.text_encoders:
        facts = _inspect(path, "text encoder")
        if facts.kind != "text_encoder":
            raise ModelLoadError(f"text encoder {facts.path}: not a text encoder, it holds a {facts.describe()}")
        if facts.encoder not in slots:
            raise ModelLoadError(f"text encoder {facts.path}: a {facts.encoder} encoder; {arch.label} uses "
                                 f"{', '.join(sorted(slots))}")
        if facts.encoder in given:
            raise ModelLoadError(f"text encoder {facts.path}: a second {facts.encoder} encoder "
                                 f"(the first is {given[facts.encoder]})")
        given[facts.encoder] = str(facts.path)
        plan.encoders[slots[facts.encoder]] = (facts, "")


# ---------------------------------------------------------------------- folders
def check_folder(folder: Path, provided: set[str] | frozenset[str] = frozenset()) -> ModelFamily:
    """Validate a diffusers model folder; raise one ModelLoadError listing everything missing.

    Components in ``provided`` come from elsewhere (single files): only their config is needed.
    """
    if not folder.exists():
        raise ModelLoadError(f"model folder not found: {folder}")
    if not folder.is_dir():
        raise ModelLoadError(f"{folder} is a file, not a diffusers model folder")
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        raise ModelLoadError(f"{folder} is not a diffusers model folder: model_index.json is missing")
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelLoadError(f"{index_file}: unreadable model index ({e})") from None
    cls = index.get("_class_name") if isinstance(index, dict) else None
    arch = architecture_for_pipeline_class(cls) if isinstance(cls, str) else None
    if arch is None:
        supported = sorted(c for a in ARCHITECTURES.values() for c in a.pipeline_classes)
        raise ModelLoadError(
            f"{folder} holds no pipeline AST Studio knows: model_index.json names {cls!r}; "
            f"supported: {', '.join(supported)}"
        )
    missing = []
    for comp, needs in arch.components.items():
        sub = folder / comp
        if not sub.is_dir():
            missing.append(f"{comp}/")
            continue
        for alternatives in needs:
            if comp in provided and all(p.endswith(".safetensors") for p in alternatives):
                continue
            if not any(list(sub.glob(pattern)) for pattern in alternatives):
                missing.append(f"{comp}/{' or '.join(alternatives)}")
    if missing:
        raise ModelLoadError(f"model folder {folder} is incomplete: missing {', '.join(missing)}")
    marker = None
    if (folder / MARKER_FILE).is_file():
        try:
            marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8")).get("family")
        except (OSError, ValueError, AttributeError):
            marker = None
    for comp, needs in arch.components.items():  # every config diffusers or transformers will read
        for name in (n for alternatives in needs for n in alternatives if n.endswith("config.json")):
            if (folder / comp / name).is_file():
                _config(folder / comp / name)
    try:
        return arch.family_for(_config(folder / "transformer" / "config.json"), marker, str(folder))
    except (TypeError, ValueError) as e:
        raise ModelLoadError(f"{folder / 'transformer' / 'config.json'}: {e}") from None


def _config(path: Path) -> dict:
    """A component's config, which must be a JSON object (given anything else, diffusers takes
    it for a model name and looks for it on the Hugging Face hub)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelLoadError(f"{path}: unreadable ({e})") from None
    if not isinstance(value, dict):
        raise ModelLoadError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def hf_cache_folder(repo_id: str) -> Path:
    """The local snapshot folder of a Hugging Face repository (never downloads)."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception as e:  # noqa: BLE001 - hub raises several types for "not cached"
        raise ModelLoadError(
            f"{repo_id} is not in the local Hugging Face cache (AST Studio loads offline); "
            f"download it first (e.g. `hf download {repo_id}`) or give a model folder ({type(e).__name__})"
        ) from None


# ---------------------------------------------------------------------- building the pipeline
def _assemble(plan: _Plan, opts: ModelOptions, dev: torch.device, dt: torch.dtype):
    """The pipeline in ``dt`` on the CPU with every component in place; (pipeline, shared?)."""
    fam, arch = plan.family, plan.family.architecture
    load_time = opts.quantize in LOAD_TIME or opts.is_gguf
    t5_slot = next((s for s, e in arch.text_encoder_slots.items() if e == "t5"), None)
    with tempfile.TemporaryDirectory(prefix="ast-studio-config-") as tmp:
        if plan.builtin:
            plain = not (plan.transformer or plan.vae or plan.encoders or load_time or opts.loras
                         or opts.quantize != "none" or opts.text_encoder_quantize != "none"
                         or opts.offload != "none")
            if plain and dev.type == "cpu" and dt == torch.float32:
                return arch.build_tiny(fam, fresh=False), True
            builtin = arch.build_tiny(fam, fresh=True).to(dtype=dt)
            config_root = parts.write_configs(builtin, Path(tmp))
        else:
            builtin, config_root = None, Path(plan.base)
        components: dict[str, Any] = {}
        try:
            if plan.transformer is not None:
                components["transformer"] = parts.transformer_from_file(
                    plan.transformer, arch, fam.name, opts.quantize, dev, dt, config_root)
            elif opts.quantize in LOAD_TIME:
                components["transformer"] = parts.quantised_transformer(arch, config_root, opts.quantize, dt, builtin)
            if plan.vae is not None:
                components["vae"] = parts.vae_from_file(plan.vae, config_root, dt)
            for slot, (facts, prefix) in plan.encoders.items():
                quant = opts.text_encoder_quantize if slot == t5_slot else "none"
                cls = type(getattr(builtin, slot)) if builtin is not None else parts.encoder_class(config_root, slot)
                components[slot] = parts.encoder_from_file(facts, prefix, config_root, slot, dt, quant, cls)
            if t5_slot and t5_slot not in components and opts.text_encoder_quantize in LOAD_TIME:
                components[t5_slot] = parts.quantised_encoder(config_root, t5_slot, opts.text_encoder_quantize, dt, builtin)
        except (ModelLoadError, QuantisationError, CheckpointFileError):
            raise
        except Exception as e:  # noqa: BLE001 - corrupt or foreign weights surface as many exception types
            raise ModelLoadError(f"could not load {fam.name} parts from {plan.label}: {first_line(e)}") from e
        if builtin is not None:
            return type(builtin)(**{**builtin.components, **components}), False
        try:
            return arch.load_folder(str(plan.base), dt, **components), False
        except Exception as e:  # noqa: BLE001
            raise ModelLoadError(f"could not load {fam.name} from {plan.base}: {first_line(e)}") from e


# ---------------------------------------------------------------------- device, offload, fp8
def _finish(pipe, plan: _Plan, opts: ModelOptions, dev: torch.device, dt: torch.dtype,
            notes: list[str]) -> LoadedModel:
    files = {}
    if plan.transformer is not None:
        files["transformer"] = _file_record(plan.transformer)
    if plan.vae is not None:
        files["vae"] = _file_record(plan.vae[0])
    for slot, (facts, _) in plan.encoders.items():
        files[slot] = _file_record(facts)
    base = plan.base_label if (plan.transformer is not None or plan.label != plan.base_label) else ""
    return ready_model(pipe, plan.family, opts, dev, dt, source=plan.label, base=base, files=files, notes=notes)


def ready_model(pipe, family: ModelFamily, opts: ModelOptions, dev: torch.device, dt: torch.dtype, *,
                source: str, base: str = "", files: dict | None = None, notes: list[str] | None = None) -> LoadedModel:
    """Apply the after-load options to an assembled pipeline (in ``dt``, on the CPU): fp8 storage of
    the transformer / T5, then the device or offload hooks. (The GPU memory benchmark builds
    random-weight pipelines in memory and readies them here, as loading does.)"""
    notes = list(notes or [])
    pipe.set_progress_bar_config(disable=True)
    offload = opts.offload
    if offload != "none" and dev.type == "cpu":
        notes.append("CPU offload only helps on a GPU; running on the CPU without it")
        offload = "none"
    arch = family.architecture
    try:
        if opts.quantize == "fp8":
            apply_fp8(pipe.transformer, dt)
        t5_slot = next((s for s, e in arch.text_encoder_slots.items() if e == "t5"), None)
        if opts.text_encoder_quantize == "fp8" and t5_slot:
            apply_fp8_text_encoder(getattr(pipe, t5_slot), dt)
        place(pipe, dev, offload)
    except (RuntimeError, ValueError, ImportError, TypeError) as e:
        raise ModelLoadError(f"could not place {family.name} on {dev} as {DTYPE_NAMES.get(dt, dt)} "
                             f"({offload} offload): {first_line(e)}") from e
    for w in notes:
        log.warning(w)
    recorded = opts.with_changes(offload=offload, loras=())
    return LoadedModel(pipe, family, source, dev, dt, offload != "none", notes, recorded, base, dict(files or {}))


def place(pipe, dev: torch.device, offload: str, offload_device: torch.device | None = None) -> None:
    """Move ``pipe`` to ``dev``, or install ``offload`` hooks that bring parts there when they run."""
    if offload == "model":
        pipe.enable_model_cpu_offload(device=dev)
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=dev)
    elif offload == "group":
        pipe.enable_group_offload(onload_device=dev, offload_device=offload_device or torch.device("cpu"),
                                  offload_type="block_level", num_blocks_per_group=1,
                                  use_stream=dev.type == "cuda")
    elif pipe.device != dev:
        pipe.to(device=dev)


def _file_record(facts: FileFacts) -> dict:
    return {"path": str(facts.path), "format": facts.format, "kind": facts.kind, "storage": facts.storage,
            "size": facts.size}
