"""The scene layout: canvas size, base and background prompts, ordered instances.

Every change goes through a method here and is announced on ``layout.events`` as a
:class:`~ast_core.document.events.LayoutEvent`. Geometry edits return the geometry they
replaced so that an undo command can put it back.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from . import geometry as geo
from .events import LayoutEvent, Signal
from .instance import Instance, check_colour, check_strength, next_colour

Geometry = Polygon | MultiPolygon

SIZE_STEP = 16
MIN_SIZE = 64
MAX_SIZE = 4096
EDITABLE_FIELDS = ("name", "prompt", "color", "visible", "locked", "attribute_words", "strength")


class LayoutError(ValueError):
    """An edit the layout refuses (unknown instance, locked instance, bad size...)."""


def check_size(width: int, height: int) -> tuple[int, int]:
    for label, v in (("width", width), ("height", height)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise LayoutError(f"canvas {label} must be a whole number of pixels, got {v!r}")
        if v % SIZE_STEP or not MIN_SIZE <= v <= MAX_SIZE:
            raise LayoutError(
                f"canvas {label} must be a multiple of {SIZE_STEP} between {MIN_SIZE} and {MAX_SIZE}, got {v}"
            )
    return width, height


class Layout:
    def __init__(
        self,
        width: int = 1024,
        height: int = 1024,
        base_prompt: str = "",
        background_prompt: str = "",
        instances: Iterable[Instance] = (),
    ) -> None:
        self.width, self.height = check_size(width, height)
        self.base_prompt = base_prompt
        self.background_prompt = background_prompt
        self.instances: list[Instance] = []
        self.events = Signal()
        ids: set[str] = set()
        for inst in instances:
            if inst.id in ids:
                raise LayoutError(f"two instances share the id {inst.id!r}")
            ids.add(inst.id)
            self.instances.append(inst)

    # ----------------------------------------------------------------- queries
    def __repr__(self) -> str:
        return f"Layout({self.width}x{self.height}, {len(self.instances)} instances)"

    def instance(self, instance_id: str) -> Instance:
        for inst in self.instances:
            if inst.id == instance_id:
                return inst
        raise LayoutError(f"no instance with id {instance_id!r}")

    def index_of(self, instance_id: str) -> int:
        for i, inst in enumerate(self.instances):
            if inst.id == instance_id:
                return i
        raise LayoutError(f"no instance with id {instance_id!r}")

    def z_order(self, instance_id: str) -> int:
        """0 for the bottom-most instance; the top-most has the highest number."""
        return self.index_of(instance_id)

    def visible_instances(self) -> list[Instance]:
        return [i for i in self.instances if i.visible]

    def empty_instances(self) -> list[Instance]:
        """Instances with no area: they take no part in generation."""
        return [i for i in self.instances if i.is_empty]

    def instances_missing_from_base_prompt(self) -> list[Instance]:
        """Instances whose prompt text is not found (case-insensitively) in the base prompt.

        A character-level check for the editor; the engine does the exact token-level match.
        """
        return [inst for inst in self.instances if not self.in_base_prompt(inst.prompt)]

    def background_missing_from_base_prompt(self) -> bool:
        """True when there is a background prompt and its text is not in the base prompt.

        The method needs the background's tokens inside the base prompt, exactly like an
        instance's (an empty background prompt is allowed: it then has no tokens).
        """
        return bool(self.background_prompt.strip()) and not self.in_base_prompt(self.background_prompt)

    def in_base_prompt(self, text: str) -> bool:
        """Whether ``text`` occurs in the base prompt, ignoring case, runs of spaces and a final period."""
        needle = " ".join(text.lower().split()).rstrip(".")
        return bool(needle) and needle in " ".join(self.base_prompt.lower().split())

    def used_colours(self) -> list[str]:
        return [i.color for i in self.instances]

    def same_as(self, other: "Layout", tolerance: float = 1e-6) -> bool:
        return (
            (self.width, self.height, self.base_prompt, self.background_prompt)
            == (other.width, other.height, other.base_prompt, other.background_prompt)
            and len(self.instances) == len(other.instances)
            and all(a.same_as(b, tolerance) for a, b in zip(self.instances, other.instances))
        )

    def copy(self) -> "Layout":
        """A deep, independent copy without subscribers (shapely geometries are immutable)."""
        return Layout(self.width, self.height, self.base_prompt, self.background_prompt,
                      [i.copy() for i in self.instances])

    # --------------------------------------------------------- primitive edits
    def _emit(self, kind: str, instance_id: str | None = None, **kw) -> None:
        self.events.emit(LayoutEvent(kind, instance_id, **kw))

    def add_instance(self, instance: Instance | None = None, index: int | None = None, **fields) -> Instance:
        """Insert ``instance`` (or a new one built from ``fields``) at ``index`` (default: on top)."""
        if instance is None:
            fields.setdefault("name", self.next_name())
            fields.setdefault("color", next_colour(self.used_colours()))
            instance = Instance(**fields)
        elif fields:
            raise LayoutError("give either an Instance or its fields, not both")
        if any(i.id == instance.id for i in self.instances):
            raise LayoutError(f"an instance with id {instance.id!r} is already in the layout")
        index = len(self.instances) if index is None else max(0, min(index, len(self.instances)))
        self.instances.insert(index, instance)
        self._emit("instance_added", instance.id, index=index)
        return instance

    def next_name(self) -> str:
        names = {i.name for i in self.instances}
        n = len(self.instances) + 1
        while f"Instance {n}" in names:
            n += 1
        return f"Instance {n}"

    def remove_instance(self, instance_id: str) -> tuple[Instance, int]:
        index = self.index_of(instance_id)
        inst = self.instances.pop(index)
        self._emit("instance_removed", instance_id, index=index)
        return inst, index

    def update_instance(self, instance_id: str, **fields) -> dict:
        """Change plain fields; returns the previous values of the fields that changed."""
        inst = self.instance(instance_id)
        unknown = set(fields) - set(EDITABLE_FIELDS)
        if unknown:
            raise LayoutError(f"cannot edit instance field(s) {sorted(unknown)}")
        if "color" in fields:
            fields["color"] = check_colour(fields["color"])
        if "attribute_words" in fields and fields["attribute_words"] is not None:
            fields["attribute_words"] = [str(w) for w in fields["attribute_words"]]
        if "strength" in fields:
            try:
                fields["strength"] = check_strength(fields["strength"])
            except ValueError as e:
                raise LayoutError(f"{inst.name}: {e}") from None
        old = {}
        for k, v in fields.items():
            if getattr(inst, k) != v:
                old[k] = getattr(inst, k)
                setattr(inst, k, v)
        if old:
            self._emit("instance_changed", instance_id, fields=tuple(old))
        return old

    def set_geometry(self, instance_id: str, geometry: BaseGeometry) -> Geometry:
        """Replace an instance's geometry; returns the previous one."""
        inst = self.instance(instance_id)
        old = inst.geometry
        inst.geometry = geo.polygons_only(geometry)
        if not old.equals(inst.geometry) or old.is_empty != inst.geometry.is_empty:
            self._emit("geometry_changed", instance_id)
        return old

    def move_instance(self, instance_id: str, new_index: int) -> int:
        """Change z-order; returns the old index."""
        old = self.index_of(instance_id)
        new_index = max(0, min(new_index, len(self.instances) - 1))
        if new_index != old:
            inst = self.instances.pop(old)
            self.instances.insert(new_index, inst)
            self._emit("order_changed", instance_id, index=new_index, extra={"from": old})
        return old

    def set_prompts(self, base: str | None = None, background: str | None = None) -> tuple[str, str]:
        old = (self.base_prompt, self.background_prompt)
        if base is not None:
            self.base_prompt = base
        if background is not None:
            self.background_prompt = background
        if old != (self.base_prompt, self.background_prompt):
            self._emit("prompts_changed")
        return old

    def set_size(self, width: int, height: int) -> tuple[int, int]:
        """Resize the canvas. Geometry is kept as is (nothing is cut away)."""
        check_size(width, height)
        old = (self.width, self.height)
        self.width, self.height = width, height
        if old != (width, height):
            self._emit("size_changed", extra={"from": old})
        return old

    def replace_all(self, other: "Layout") -> None:
        """Take over another layout's content (used when a document is reloaded)."""
        self.width, self.height = other.width, other.height
        self.base_prompt, self.background_prompt = other.base_prompt, other.background_prompt
        self.instances = [i.copy() for i in other.instances]
        self._emit("reset")

    # ------------------------------------------------------ geometry operations
    def _editable(self, instance_id: str) -> Instance:
        inst = self.instance(instance_id)
        if inst.locked:
            raise LayoutError(f"instance {inst.name!r} is locked")
        return inst

    def stroke_result(self, instance_id: str, points: Sequence[tuple[float, float]], radius: float) -> Geometry:
        """The geometry ``instance_id`` would have after a brush stroke (nothing changes)."""
        inst = self._editable(instance_id)
        shape = geo.clip_to_canvas(geo.stroke_polygon(points, radius), self.width, self.height)
        return geo.union(inst.geometry, shape)

    def polygon_result(self, instance_id: str, points: Sequence[tuple[float, float]]) -> Geometry:
        inst = self._editable(instance_id)
        shape = geo.clip_to_canvas(geo.polygon_from_points(points), self.width, self.height)
        return geo.union(inst.geometry, shape)

    def erase_result(self, shape: BaseGeometry, instance_ids: Iterable[str] | None = None) -> dict[str, Geometry]:
        """New geometry of every instance the eraser ``shape`` changes (locked ones are skipped)."""
        targets = self.instances if instance_ids is None else [self.instance(i) for i in instance_ids]
        out = {}
        for inst in targets:
            if inst.locked or inst.is_empty or not inst.geometry.intersects(shape):
                continue
            out[inst.id] = geo.difference(inst.geometry, shape)
        return out

    def paint_stroke(self, instance_id: str, points, radius: float) -> Geometry:
        return self.set_geometry(instance_id, self.stroke_result(instance_id, points, radius))

    def paint_polygon(self, instance_id: str, points) -> Geometry:
        return self.set_geometry(instance_id, self.polygon_result(instance_id, points))

    def erase_stroke(self, points, radius: float, instance_ids=None) -> dict[str, Geometry]:
        """Subtract a brush stroke; returns the replaced geometries by instance id."""
        changes = self.erase_result(geo.stroke_polygon(points, radius), instance_ids)
        return {iid: self.set_geometry(iid, g) for iid, g in changes.items()}

    def erase_polygon(self, points, instance_ids=None) -> dict[str, Geometry]:
        changes = self.erase_result(geo.polygon_from_points(points), instance_ids)
        return {iid: self.set_geometry(iid, g) for iid, g in changes.items()}

    def translate_instance(self, instance_id: str, dx: float, dy: float) -> Geometry:
        inst = self._editable(instance_id)
        return self.set_geometry(instance_id, geo.translate(inst.geometry, dx, dy))
