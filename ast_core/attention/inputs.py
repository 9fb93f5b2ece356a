"""What the AST attention needs to know about one generation's layout and prompt."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch


@dataclass
class ModulationInputs:
    """Segments on the image token grid and their token spans in the base prompt.

    * ``segment_masks``: bool ``[S, h*w]``; row 0 is the background, rows ``1..K`` the
      instances; the token grid is flattened row-major, as the models pack latents. Rows may
      overlap and pixels may be in no segment: the formulas count memberships as given.
    * ``text_len``: ``T``, the rows of the joint sequence's text block (every encoder's rows;
      where they sit in the joint sequence is the architecture's order, not this object's).
    * ``segment_spans``: per segment, its rows in the text block (background = index 0, may
      be empty; with several encoders, the span in each encoder's rows).
    * ``attribute_tokens``: per segment, the subset of its span that are attribute words
      (``[]`` for the background and for instances without attributes).
    * ``segment_strengths``: per segment, the multiplier on the coefficients of its own
      rows (the instance's per-instance strength; the background's is always 1.0). Empty
      means 1.0 for every segment: the method exactly. See :class:`~.tables.TokenTables`.
    """

    segment_masks: torch.Tensor
    text_len: int
    segment_spans: list[list[int]]
    attribute_tokens: list[list[int]] = field(default_factory=list)
    segment_strengths: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        masks = self.segment_masks
        if not isinstance(masks, torch.Tensor) or masks.ndim != 2:
            raise ValueError("segment_masks: expected a bool tensor [segments, h*w]")
        if masks.dtype != torch.bool:
            if masks.is_floating_point() or masks.dtype in (torch.uint8, torch.int64, torch.int32):
                values = torch.unique(masks)
                if not bool(((values == 0) | (values == 1)).all()):
                    raise ValueError("segment_masks: expected 0/1 values (a bool tensor)")
                masks = masks != 0
            else:
                raise ValueError(f"segment_masks: expected a bool tensor, got {masks.dtype}")
        self.segment_masks = masks
        num = masks.shape[0]
        if num < 1:
            raise ValueError("segment_masks: needs at least the background row")
        if isinstance(self.text_len, bool) or not isinstance(self.text_len, int) \
                or self.text_len < 1:
            raise ValueError(f"text_len: expected a positive integer, got {self.text_len!r}")
        if len(self.segment_spans) != num:
            raise ValueError(
                f"segment_spans: expected one span per segment ({num}), got "
                f"{len(self.segment_spans)}"
            )
        if not self.attribute_tokens:
            self.attribute_tokens = [[] for _ in range(num)]
        if len(self.attribute_tokens) != num:
            raise ValueError(
                f"attribute_tokens: expected one list per segment ({num}), got "
                f"{len(self.attribute_tokens)}"
            )
        spans = []
        for s, span in enumerate(self.segment_spans):
            idx = [int(t) for t in span]
            bad = [t for t in idx if not 0 <= t < self.text_len]
            if bad:
                raise ValueError(
                    f"segment_spans[{s}]: token index {bad[0]} outside 0..{self.text_len - 1}"
                )
            spans.append(sorted(set(idx)))
        self.segment_spans = spans
        attrs = []
        for s, toks in enumerate(self.attribute_tokens):
            idx = sorted({int(t) for t in toks})
            outside = [t for t in idx if t not in set(spans[s])]
            if outside:
                raise ValueError(
                    f"attribute_tokens[{s}]: token {outside[0]} is not in the segment's span"
                )
            attrs.append(idx)
        if attrs[0]:
            raise ValueError("attribute_tokens[0]: the background has no attribute tokens")
        self.attribute_tokens = attrs
        strengths = list(self.segment_strengths) or [1.0] * num
        if len(strengths) != num:
            raise ValueError(f"segment_strengths: expected one value per segment ({num}), got {len(strengths)}")
        for s, value in enumerate(strengths):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ValueError(f"segment_strengths[{s}]: expected a number >= 0, got {value!r}")
        if strengths[0] != 1.0:
            raise ValueError("segment_strengths[0]: the background's strength is always 1.0")
        self.segment_strengths = [float(v) for v in strengths]

    @property
    def num_segments(self) -> int:
        return int(self.segment_masks.shape[0])

    @property
    def image_len(self) -> int:
        return int(self.segment_masks.shape[1])

    @property
    def total_len(self) -> int:
        return self.text_len + self.image_len
