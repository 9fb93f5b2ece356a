"""What the engine asks of a model architecture: the adapter interface, and the data it answers with.

One :class:`Architecture` per transformer architecture (``flux``, ``sd3``) is the only place
that knows that architecture's facts: the pipeline class and its components, how prompts are
encoded and which rows of the joint sequence are text (:class:`TextLayout`), the attention
modules in layer order and their kinds (:class:`AttentionLayer`), the joint-sequence order,
the timestep rule, latent packing and the latent->RGB preview factors, the pipeline's call
arguments and its classifier-free-guidance batch layout. Model *families* (FLUX.1-dev,
SD3.5 Medium, the tiny test models...) are data on top of an architecture
(:mod:`ast_core.models.families`).

Importing this module (and the adapters) does not import torch or diffusers: the studio
reads families, layer structures, timesteps and schedule presets on its GUI thread. Methods
that need a model import what they need when called.

Attention control: a control method gives the adapter an :class:`AttentionControl`; the
adapter installs one processor per attention module that computes the module's projections
exactly as diffusers does, hands query/key/value in joint-sequence order to the control, and
applies the output projections. Where the control does not act (``acts`` is False) the
module's original processor runs, so those calls stay bit-identical to stock.

Two text streams: a control with ``main_text`` (:class:`TwoStreamControl`, e.g. regional
prompting) may run a transformer call on text of its own (the *main* stream) while the
pipeline's text travels alongside as a parallel *base* stream. For such a call the adapter
(``ast_core.models.streams``) runs every block twice, first on the base stream, then on the
main stream, and tells the control which one each attention call belongs to
(:attr:`AttentionLayer.stream`); with a guidance batch the negative half runs stock on its
own. Calls where ``main_text`` is None are plain calls, as without the streams.
"""
from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, Sequence

from ..schedule.structure import Structure
from ..schedule.timesteps import SchedulerConfig, image_seq_len, run_timesteps

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .families import ModelFamily

#: Joint-sequence orders: FLUX puts the text tokens first, SD3 the image tokens.
TEXT_FIRST = "text_first"
IMAGE_FIRST = "image_first"
#: Attention kinds: a joint block (text and image streams), a single-stream block over the
#: concatenated sequence, an image-only attention (SD3.5 Medium's ``attn2``).
JOINT, SINGLE, IMAGE = "joint", "single", "image"
#: Streams of a two-stream transformer call (see :class:`TwoStreamControl`).
MAIN, BASE = "main", "base"


@dataclass(frozen=True)
class TextPart:
    """One encoder's rows inside the text block of the joint sequence.

    ``tokenizer`` names the pipeline attribute of the tokenizer whose ids the rows hold;
    rows ``offset .. offset + length`` of the text block belong to this part, the first
    ``bos`` of them to start tokens (CLIP's ``<|startoftext|>``), then the prompt's tokens,
    the end token and padding.
    """

    name: str
    tokenizer: str
    offset: int
    length: int
    bos: int = 0

    @property
    def content_length(self) -> int:
        """Rows after the start tokens (prompt tokens + end token + padding)."""
        return self.length - self.bos


@dataclass(frozen=True)
class TextLayout:
    """The text block of the joint sequence, part by part (see :class:`TextPart`)."""

    parts: tuple[TextPart, ...]

    @property
    def length(self) -> int:
        return sum(p.length for p in self.parts)

    def describe(self) -> str:
        return " + ".join(f"{p.length} {p.name}" for p in self.parts) + " text rows"


@dataclass(frozen=True)
class JointLayout:
    """Where text and image tokens sit in the joint sequence of one attention call."""

    order: str
    text_len: int
    image_len: int

    @property
    def text(self) -> tuple[int, int]:
        return (0, self.text_len) if self.order == TEXT_FIRST else \
            (self.image_len, self.image_len + self.text_len)

    @property
    def image(self) -> tuple[int, int]:
        return (self.text_len, self.text_len + self.image_len) if self.order == TEXT_FIRST else \
            (0, self.image_len)

    @property
    def total(self) -> int:
        return self.text_len + self.image_len


@dataclass
class AttentionLayer:
    """One attention module of the transformer, in execution order.

    ``layer`` is the schedule layer it belongs to (an image-only ``attn2`` shares its block's
    layer); ``index`` its position among all attention modules; ``kind`` one of JOINT,
    SINGLE, IMAGE; ``stream`` MAIN, or BASE for the base pass of a two-stream call.
    """

    index: int
    layer: int
    kind: str
    module: Any = field(repr=False, default=None)
    stream: str = MAIN


class AttentionControl(Protocol):
    """What a control method plugs into the adapter's processors."""

    def acts(self, layer: AttentionLayer) -> bool:
        """Whether this call is changed (False: the original processor runs)."""

    def attend(self, layer: AttentionLayer, query: "torch.Tensor", key: "torch.Tensor",
               value: "torch.Tensor", attention_mask: "torch.Tensor | None") -> "torch.Tensor":
        """Attention output ``[B, N, H, Dv]`` for ``[B, N, H, D]`` inputs in joint order."""


class TwoStreamControl(AttentionControl, Protocol):
    """A control that runs the conditional batch on text of its own (see the module docstring).

    ``main_text()`` is asked before every transformer call: None runs the call plainly; a
    tensor ``[1 or B, L', D]`` (in the pipeline's text space, before the transformer's text
    embedder; ``L'`` a whole multiple of the pipeline's text length ``L``, each block of ``L``
    rows taking the text positions the pipeline's text has) makes the call a two-stream one:
    the conditional batch runs on it (``stream`` MAIN) and, block by block, the pipeline's own
    text runs as the base stream (``stream`` BASE, first). ``guidance_batch``: the call's batch
    is ``[negative, positive]``; the negative half then runs stock, on its own.
    """

    guidance_batch: bool

    def main_text(self) -> "torch.Tensor | None":
        """The conditional batch's text for the coming transformer call, or None."""


@dataclass
class Conditioning:
    """The text conditioning of one run, as the pipeline takes it.

    ``text`` ``[B, L, D]`` is the (positive) text block, ``pooled`` its pooled embedding;
    ``negative_*`` are set when the run uses classifier-free guidance with a negative prompt
    batch (SD3), else None.
    """

    text: Any
    pooled: Any
    negative_text: Any = None
    negative_pooled: Any = None
    warnings: list[str] = field(default_factory=list)
    substituted: list[str] = field(default_factory=list)


class Architecture(ABC):
    """Base of the architecture adapters; see the module docstring."""

    #: short id stored in families and metadata ("flux", "sd3")
    name: str = ""
    #: human name for messages ("FLUX.1", "Stable Diffusion 3")
    label: str = ""
    #: diffusers pipeline class names this adapter loads (model_index.json ``_class_name``)
    pipeline_classes: tuple[str, ...] = ()
    #: components a diffusers folder must have, and the files each needs (alternatives in a tuple)
    components: dict[str, list[tuple[str, ...]]] = {}
    order: str = TEXT_FIRST
    #: latent -> RGB preview: 16 rows (latent channels) x 3 columns, and the RGB bias
    preview_factors: tuple[tuple[float, float, float], ...] = ()
    preview_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)
    #: True: the pipeline passes ``linspace(1, 1/n, n)`` sigmas to the scheduler
    pipeline_sigmas: bool = True
    #: how the model's own documentation names each layer kind ("joint" -> "double" for FLUX)
    layer_kind_labels: dict[str, str] = {}
    #: diffusers class of the transformer (for single files and load-time quantisation)
    transformer_class: str = ""
    #: text encoder slots: pipeline component -> the encoder it holds ("clip-l", "clip-g", "t5")
    text_encoder_slots: dict[str, str] = {}

    # ------------------------------------------------------------------ data (no torch)
    @abstractmethod
    def text_layout(self, family: "ModelFamily", max_sequence_length: int) -> TextLayout:
        ...

    def joint_layout(self, family: "ModelFamily", max_sequence_length: int, width: int,
                     height: int) -> JointLayout:
        text = self.text_layout(family, max_sequence_length).length
        return JointLayout(self.order, text, image_seq_len(width, height, family.pixels_per_token))

    def timesteps(self, family: "ModelFamily", steps: int, width: int, height: int,
                  scheduler: SchedulerConfig | None = None) -> list[float]:
        """Scheduler timesteps of a run (the loaded scheduler's config, else the family's)."""
        return [float(t) for t in run_timesteps(int(steps), family, width, height, scheduler)]

    def uses_guidance_batch(self, guidance: float) -> bool:
        """Whether the pipeline doubles the batch as ``[negative, positive]`` for this guidance."""
        return False

    # ------------------------------------------------------------------ model (torch)
    def scheduler_config(self, pipe) -> SchedulerConfig:
        return SchedulerConfig.from_scheduler_config(pipe.scheduler.config, self.pipeline_sigmas)

    @abstractmethod
    def structure_of(self, transformer) -> Structure:
        ...

    @abstractmethod
    def attention_layers(self, transformer) -> list[AttentionLayer]:
        ...

    @abstractmethod
    def processor(self, layer: AttentionLayer, control: AttentionControl, original) -> Callable:
        ...

    @contextlib.contextmanager
    def controlled(self, transformer, control: AttentionControl) -> Iterator[list[AttentionLayer]]:
        """Install ``control`` on every attention module; the originals always come back.

        A :class:`TwoStreamControl` also gets the two-stream hooks (``ast_core.models.streams``).
        """
        layers = self.attention_layers(transformer)
        installed: list[tuple[Any, Any]] = []
        with contextlib.ExitStack() as stack:
            if hasattr(control, "main_text"):
                from .streams import TwoStreams

                control = stack.enter_context(TwoStreams(self, transformer, control).installed())
            try:
                for layer in layers:
                    original = layer.module.processor
                    installed.append((layer.module, original))
                    layer.module.set_processor(self.processor(layer, control, original))
                yield layers
            finally:
                while installed:
                    module, original = installed.pop()
                    module.set_processor(original)

    # ------------------------------------------------------------------ two text streams
    #: keyword arguments of the transformer call that carry the batch (split for a guidance batch)
    batch_arguments: tuple[str, ...] = ("hidden_states", "encoder_hidden_states", "pooled_projections",
                                        "timestep")

    @abstractmethod
    def stream_blocks(self, transformer) -> list[tuple[Any, bool]]:
        """The transformer blocks in call order, each called with keyword arguments
        ``hidden_states`` (image) and ``encoder_hidden_states`` (text) and returning
        ``(text, image)``; with each, whether a parallel base stream keeps image tokens of its
        own there (False: its base pass reads the main stream's image tokens)."""

    def main_stream_call(self, call: dict[str, Any], text) -> dict[str, Any]:
        """The transformer call's keyword arguments with ``text`` in place of the pipeline's."""
        return {**call, "encoder_hidden_states": text}

    def base_stream_inputs(self, transformer, call: dict[str, Any]) -> dict[str, Any]:
        """What the base stream's block calls take instead of the main stream's, from the
        pipeline's call arguments: the text after the transformer's text embedder (and, where the
        architecture has them, its positional embeddings). Called inside the transformer call."""
        return {"encoder_hidden_states": transformer.context_embedder(call["encoder_hidden_states"])}

    @abstractmethod
    def encode(self, pipe, prompt: str, max_sequence_length: int, guidance: float,
               negative_prompt: str = "") -> Conditioning:
        ...

    @abstractmethod
    def encode_alone(self, pipe, texts: Sequence[str], max_sequence_length: int):
        """Each text's positive text block, encoded on its own: ``[len(texts), L, D]``."""

    @abstractmethod
    def call_arguments(self, conditioning: Conditioning, *, width: int, height: int, steps: int,
                       guidance: float, generator, max_sequence_length: int, num_images: int,
                       callback) -> dict[str, Any]:
        ...

    def unpack_latents(self, latents, width: int, height: int, vae_scale_factor: int):
        """The pipeline loop's latents as ``[B, C, H/8, W/8]``."""
        return latents

    @abstractmethod
    def load_folder(self, folder: str, dtype, **components) -> Any:
        """The pipeline of a diffusers folder; ``components`` (loaded elsewhere) replace the folder's."""

    # ------------------------------------------------------------------ single files
    def recognise(self, tensors: dict[str, tuple[int, ...]]) -> "ModelFamily | None":
        """The family of a transformer given its tensor names and shapes (prefix removed), or None."""
        return None

    def recognise_lora(self, names: Sequence[str]) -> bool:
        """Whether LoRA tensor names target this architecture's transformer."""
        return False

    def to_diffusers_layout(self, tensors: dict[str, Any]) -> dict[str, Any]:
        """Single-file transformer tensors in a layout diffusers' ``from_single_file`` converts or takes."""
        return tensors

    @abstractmethod
    def original_layout(self, state: dict[str, Any]) -> dict[str, Any]:
        """A diffusers transformer state dict in the architecture's original single-file key layout."""

    def transformer_from_file(self, tensors: dict[str, Any], config_folder: str, dtype,
                              quantization_config=None, device=None):
        """A transformer from single-file tensors, its config read from ``config_folder/transformer``.

        ``device``: where the weights load to (bitsandbytes quantises them on the GPU as they arrive);
        None = the CPU.
        """
        import diffusers

        cls = getattr(diffusers, self.transformer_class)
        extra = {"device": device} if device is not None else {}
        return cls.from_single_file(self.to_diffusers_layout(tensors), config=config_folder, subfolder="transformer",
                                    torch_dtype=dtype, quantization_config=quantization_config,
                                    local_files_only=True, **extra)

    @abstractmethod
    def family_for(self, transformer_config: dict, marker: str | None, hint: str = "") -> "ModelFamily":
        """The family of a folder: its transformer config, the export marker, the folder path."""
        ...

    def presets(self) -> dict[str, Callable[[Structure | None], Any]]:
        """Schedule presets this architecture contributes: name -> builder(structure)."""
        return {}
