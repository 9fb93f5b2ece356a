"""Two text streams through one transformer call: the hooks behind :class:`~.architecture.TwoStreamControl`.

For a call where the control's ``main_text()`` is not None:

1. With a guidance batch ``[negative, positive]`` the negative half runs first, on its own,
   with the stock attention (the control is not asked); its output is joined back at the end.
2. The conditional batch runs on the control's text (the *main* stream): the adapter's
   ``main_stream_call`` puts it in place of the pipeline's text.
3. Before each block, the block runs once on the *base* stream: the pipeline's own text
   (after the transformer's text embedder, ``base_stream_inputs``), carried from block to
   block like the main stream's text. Where the adapter says the base stream keeps image
   tokens of its own (``stream_blocks``), those start as the main stream's image tokens at the
   first such block and are carried too; elsewhere the base pass reads the main stream's image
   tokens and its image output is dropped. The attention calls of the base pass reach the
   control with ``layer.stream == BASE``, so the main pass that follows can use them.

Every other call (``main_text()`` None) runs plainly. The hooks are registered with torch's
module hook API and always removed; the base inputs are computed inside the call (after any
offloading hook has moved the weights).
"""
from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any, Iterator

import torch

from .architecture import BASE, MAIN, AttentionLayer

IDLE, STOCK, TWO = "idle", "stock", "two"


class _Routed:
    """The control as the processors see it: base-pass layers marked, the negative half stock."""

    def __init__(self, streams: "TwoStreams") -> None:
        self.streams = streams
        self.control = streams.control
        self._twins: dict[int, AttentionLayer] = {}

    def _layer(self, layer: AttentionLayer) -> AttentionLayer:
        if self.streams.stream != BASE:
            return layer
        twin = self._twins.get(layer.index)
        if twin is None:
            twin = self._twins[layer.index] = replace(layer, stream=BASE)
        return twin

    def acts(self, layer: AttentionLayer) -> bool:
        if self.streams.mode == STOCK:
            return False
        return self.control.acts(self._layer(layer))

    def attend(self, layer, query, key, value, attention_mask):
        return self.control.attend(self._layer(layer), query, key, value, attention_mask)


class TwoStreams:
    """The hooks of one installation (see the module docstring)."""

    def __init__(self, architecture, transformer, control) -> None:
        self.architecture = architecture
        self.transformer = transformer
        self.control = control
        self.blocks = architecture.stream_blocks(transformer)
        self.own_image = {id(block): own for block, own in self.blocks}
        self.mode = IDLE
        self.stream = MAIN
        self._call: dict[str, Any] | None = None     # the pipeline's conditional call arguments
        self._base: dict[str, Any] | None = None     # base stream inputs of the next block
        self._base_image: torch.Tensor | None = None
        self._negative: Any = None

    # ------------------------------------------------------------------ transformer call
    def _before_call(self, module, args, kwargs):
        self.mode, self._call, self._base, self._base_image, self._negative = IDLE, None, None, None, None
        text = self.control.main_text()
        if text is None:
            return None
        if args:
            raise ValueError("two text streams: the pipeline must call the transformer with keyword arguments")
        call = dict(kwargs)
        if self.control.guidance_batch:
            negative, call = self._halves(call)
            self.mode = STOCK
            try:
                self._negative = module.forward(**negative)
            finally:
                self.mode = IDLE
        pipeline_text = call["encoder_hidden_states"]
        text = text.to(device=pipeline_text.device, dtype=pipeline_text.dtype)
        if text.shape[0] != pipeline_text.shape[0]:
            text = text.expand(pipeline_text.shape[0], -1, -1)
        self._call = call
        self.mode = TWO
        return args, self.architecture.main_stream_call(call, text)

    def _halves(self, call: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        batch = call["hidden_states"].shape[0]
        if batch % 2:
            raise ValueError(f"two text streams: a guidance batch must have two halves, got batch {batch}")
        negative, positive = dict(call), dict(call)
        for name in self.architecture.batch_arguments:
            value = call.get(name)
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == batch:
                negative[name], positive[name] = value[: batch // 2], value[batch // 2:]
        return negative, positive

    def _after_call(self, module, args, kwargs, output):
        if self.mode != TWO:
            return None
        negative = self._negative
        self.mode, self._call, self._base, self._base_image, self._negative = IDLE, None, None, None, None
        if negative is None:
            return None
        return _joined(negative, output)

    # ------------------------------------------------------------------ blocks
    def _before_block(self, block, args, kwargs):
        if self.mode != TWO:
            return None
        if args:
            raise ValueError("two text streams: the transformer must call its blocks with keyword arguments")
        if self._base is None:
            self._base = dict(self.architecture.base_stream_inputs(self.transformer, self._call))
        call = {**kwargs, **self._base}
        own = self.own_image[id(block)]
        if own:
            if self._base_image is None:
                self._base_image = kwargs["hidden_states"]
            call["hidden_states"] = self._base_image
        self.stream = BASE
        try:
            text, image = block.forward(**call)
        finally:
            self.stream = MAIN
        self._base["encoder_hidden_states"] = text
        if own:
            self._base_image = image
        return None

    # ------------------------------------------------------------------ install
    @contextlib.contextmanager
    def installed(self) -> Iterator[_Routed]:
        """The hooks, for the processors' lifetime; yields the control the processors call."""
        handles = [
            self.transformer.register_forward_pre_hook(self._before_call, with_kwargs=True),
            self.transformer.register_forward_hook(self._after_call, with_kwargs=True),
        ]
        try:
            for block, _ in self.blocks:
                handles.append(block.register_forward_pre_hook(self._before_block, with_kwargs=True))
            yield _Routed(self)
        finally:
            for handle in handles:
                handle.remove()
            self.mode, self.stream = IDLE, MAIN
            self._call = self._base = self._base_image = self._negative = None


def _joined(negative: Any, positive: Any) -> Any:
    """The two halves' transformer outputs as one batch ``[negative, positive]``."""
    if isinstance(positive, tuple):
        return (torch.cat([negative[0], positive[0]]),) + tuple(positive[1:])
    positive.sample = torch.cat([negative.sample, positive.sample])
    return positive
