"""The layer structure a schedule is written for: runs of attention layers by kind.

A transformer's attention layers, in execution order, come in runs of one kind:

* ``joint``  -- a block with separate text and image weights attending over the joint
  sequence (FLUX's double-stream blocks, every SD3 block);
* ``single`` -- a single-stream block over the concatenated sequence (FLUX's single blocks).

The structure is the list of runs, e.g. ``(("joint", 19), ("single", 38))`` for FLUX.1 and
``(("joint", 24),)`` for SD3.5 Medium. Image-only attentions that some blocks add (SD3.5
Medium's ``attn2``) are not layers of their own: they follow their block's layer.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

LAYER_KINDS = ("joint", "single")

Structure = tuple[tuple[str, int], ...]


def structure(runs: Iterable[Sequence[Any]]) -> Structure:
    """Validated, normalised structure (empty runs dropped, neighbours of one kind merged)."""
    out: list[tuple[str, int]] = []
    for i, run in enumerate(runs):
        if not isinstance(run, (list, tuple)) or len(run) != 2:
            raise ValueError(f"layers[{i}]: expected (kind, count), got {run!r}")
        kind, count = run
        if kind not in LAYER_KINDS:
            raise ValueError(f"layers[{i}].kind: expected one of {list(LAYER_KINDS)}, got {kind!r}")
        if isinstance(count, bool) or not isinstance(count, int):
            if isinstance(count, float) and count.is_integer():
                count = int(count)
            else:
                raise ValueError(f"layers[{i}].count: expected an integer, got {count!r}")
        if count < 0:
            raise ValueError(f"layers[{i}].count: must be >= 0, got {count}")
        if count == 0:
            continue
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + count)
        else:
            out.append((kind, int(count)))
    if not out:
        raise ValueError("layers: a schedule needs at least one layer")
    return tuple(out)


def num_layers(struct: Structure) -> int:
    return sum(count for _, count in struct)


def runs(struct: Structure) -> list[tuple[str, int, int]]:
    """``[(kind, start, end), ...]`` in layer order."""
    out, start = [], 0
    for kind, count in struct:
        out.append((kind, start, start + count))
        start += count
    return out


def layer_kind(struct: Structure, layer: int) -> str:
    for kind, start, end in runs(struct):
        if start <= layer < end:
            return kind
    raise ValueError(f"layer: {layer} is outside 0..{num_layers(struct) - 1}")


def describe(struct: Structure) -> str:
    """``"19 joint + 38 single layers"``."""
    parts = [f"{count} {kind}" for kind, count in struct]
    return " + ".join(parts) + " layers"


def to_json(struct: Structure) -> list[dict[str, Any]]:
    return [{"kind": kind, "count": count} for kind, count in struct]


def from_json(data: Any) -> Structure:
    """Parse ``to_json`` output, or the first format's ``{"double": D, "single": S}``."""
    if isinstance(data, dict):  # schedule format 1: FLUX-style double/single counts
        extra = [k for k in data if k not in ("double", "single")]
        if extra:
            raise ValueError(f"layers: unknown field(s) {extra}")
        for key in ("double", "single"):
            if key not in data:
                raise ValueError(f"layers.{key}: missing")
        return structure([("joint", data["double"]), ("single", data["single"])])
    if not isinstance(data, list):
        raise ValueError(f"layers: expected a list of {{kind, count}} runs, got {data!r}")
    items = []
    for i, run in enumerate(data):
        if not isinstance(run, dict) or set(run) != {"kind", "count"}:
            raise ValueError(f"layers[{i}]: expected an object with kind and count, got {run!r}")
        items.append((run["kind"], run["count"]))
    return structure(items)


def source_layer(target: Structure, source: Structure, layer: int) -> int:
    """The layer of ``source`` whose plan ``layer`` of ``target`` takes (relative depth).

    With the same kinds in the same order, each run maps onto its counterpart: a target
    layer takes the source layer at the same relative position (centre of the layer) inside
    its run, so FLUX's "double 6-19" stays on the later joint blocks. Otherwise positions are
    taken over the whole stack by the method page's rule for SD3.5: layer ``l`` (1-based) of
    ``L`` takes source layer ``round(l * L_src / L)``.
    """
    total, src_total = num_layers(target), num_layers(source)
    if not 0 <= layer < total:
        raise ValueError(f"layer: {layer} is outside 0..{total - 1}")
    if [k for k, _ in target] == [k for k, _ in source]:
        for (kind, start, end), (_, s_start, s_end) in zip(runs(target), runs(source)):
            if start <= layer < end:
                pos = (layer - start + 0.5) / (end - start)
                return s_start + min(s_end - s_start - 1, int(pos * (s_end - s_start)))
    one_based = int((layer + 1) * src_total / total + 0.5)  # round half up
    return min(src_total, max(1, one_based)) - 1
