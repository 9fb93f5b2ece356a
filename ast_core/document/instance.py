"""One labelled region of the layout: its prompt, colour and vector geometry."""
from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field, replace

from shapely.geometry import MultiPolygon, Polygon

from . import geometry as geo

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

#: Distinct, saturated colours handed to new instances in order (then recycled with a twist).
PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000", "#aaffc3", "#808000",
    "#ffd8b1", "#000075", "#a9a9a9", "#ffe119",
)


#: Colours an instance prompt may name, as readable canvas colours. White and black are left
#: out on purpose: they are the background and the "ignored" colour of seed sketches.
NAMED_COLOURS = {
    "red": "#e6194b", "green": "#3cb44b", "blue": "#4363d8", "orange": "#f58231", "purple": "#911eb4",
    "violet": "#911eb4", "cyan": "#42d4f4", "turquoise": "#42d4f4", "pink": "#f032e6", "magenta": "#f032e6",
    "brown": "#9a6324", "wooden": "#9a6324", "yellow": "#ffe119", "golden": "#e6b422", "gold": "#e6b422",
    "grey": "#a9a9a9", "gray": "#a9a9a9", "silver": "#c0c0c0", "teal": "#469990", "navy": "#000075",
    "beige": "#fffac8", "olive": "#808000", "maroon": "#800000",
}


#: Per-instance strength: a multiplier on the instance's own modulation coefficients
#: (1.0 is the AST method exactly, 0 switches the instance's control off).
STRENGTH_RANGE = (0.0, 2.0)


def check_strength(value) -> float:
    """``value`` as a float inside :data:`STRENGTH_RANGE`, or ValueError saying what is wrong."""
    lo, hi = STRENGTH_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not lo <= value <= hi:
        raise ValueError(f"strength must be a number from {lo:g} to {hi:g}, got {value!r}")
    return float(value)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def check_colour(colour: str) -> str:
    if not isinstance(colour, str) or not _COLOUR.match(colour):
        raise ValueError(f"colour must look like '#rrggbb', got {colour!r}")
    return colour.lower()


def colour_for_prompt(prompt: str, used: list[str]) -> str:
    """The first free colour the prompt names ("a yellow umbrella" -> yellow), else ``next_colour``."""
    taken = {c.lower() for c in used}
    for word in re.findall(r"[a-z]+", prompt.lower()):
        colour = NAMED_COLOURS.get(word)
        if colour is not None and colour not in taken:
            return colour
    return next_colour(used)


def colours_for_prompts(prompts: list[str], used: list[str] = ()) -> list[str]:
    """Distinct colours for new instances: first every colour a prompt names (in order), then
    palette colours for the rest, so "a sandcastle" does not take the blue "a blue cloud" names."""
    taken = [c.lower() for c in used]
    out: list[str | None] = [None] * len(prompts)
    for k, prompt in enumerate(prompts):
        for word in re.findall(r"[a-z]+", prompt.lower()):
            colour = NAMED_COLOURS.get(word)
            if colour is not None and colour not in taken:
                out[k] = colour
                taken.append(colour)
                break
    for k in range(len(prompts)):
        if out[k] is None:
            out[k] = next_colour(taken)
            taken.append(out[k])
    return out  # type: ignore[return-value]


def next_colour(used: list[str]) -> str:
    """The first palette colour not already used (case-insensitive), else a generated one."""
    taken = {c.lower() for c in used}
    for c in PALETTE:
        if c not in taken:
            return c
    # Golden-angle hues: always distinct from their neighbours.
    import colorsys

    n = len(taken)
    while True:
        h = (n * 0.618033988749895) % 1.0
        r, g, b = colorsys.hsv_to_rgb(h, 0.75, 0.9)
        c = f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"
        if c not in taken:
            return c
        n += 1


@dataclass
class Instance:
    """A region of the canvas described by its own prompt.

    ``geometry`` is a valid shapely Polygon/MultiPolygon in canvas pixels (y down).
    ``attribute_words`` overrides the automatic attribute/instance split of the
    prompt when not None (e.g. ["white"] for "a white goat").
    ``strength`` multiplies the AST coefficients of the instance's own rows (its image
    tokens and its prompt's text tokens): 1.0 is the method exactly, 0 leaves them plain
    (see :mod:`ast_core.attention.tables`).
    Z-order is the instance's position in ``Layout.instances`` (last = on top).
    """

    name: str
    prompt: str = ""
    color: str = "#e6194b"
    geometry: Polygon | MultiPolygon = field(default_factory=geo.empty)
    visible: bool = True
    locked: bool = False
    attribute_words: list[str] | None = None
    id: str = field(default_factory=new_id)
    strength: float = 1.0

    def __post_init__(self) -> None:
        self.color = check_colour(self.color)
        self.geometry = geo.polygons_only(self.geometry)
        self.strength = check_strength(self.strength)
        if self.attribute_words is not None:
            self.attribute_words = [str(w) for w in self.attribute_words]

    @property
    def area(self) -> float:
        return float(self.geometry.area)

    @property
    def is_empty(self) -> bool:
        return self.geometry.is_empty

    def copy(self, **changes) -> "Instance":
        words = None if self.attribute_words is None else list(self.attribute_words)
        return replace(self, attribute_words=words, **changes)

    def same_as(self, other: "Instance", tolerance: float = 1e-6) -> bool:
        """Equal fields and equal geometry (up to vertex order/representation)."""
        if (self.id, self.name, self.prompt, self.color, self.visible, self.locked, self.attribute_words,
                self.strength) != (other.id, other.name, other.prompt, other.color, other.visible, other.locked,
                                   other.attribute_words, other.strength):
            return False
        if self.geometry.is_empty or other.geometry.is_empty:
            return self.geometry.is_empty and other.geometry.is_empty
        return self.geometry.symmetric_difference(other.geometry).area <= tolerance * max(1.0, self.area)
