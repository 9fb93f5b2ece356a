"""Canvas tools as interaction objects: press / move / release / double_click / key / cancel.

A tool reads the model, shows a preview on the view's overlay and, when the gesture
finishes, pushes ONE undo command. The functions ``brush_command``, ``polygon_command``
and ``erase_command`` build those commands without any widget (tests and benchmarks use them).
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from ast_core.document import Instance, LayoutError, next_colour
from ast_core.document import geometry as geo
from shapely.geometry import LineString

from ..commands import AddInstance, NudgeInstance, SetGeometry
from .scene import OVERLAY_Z
from .shapes import polyline_path

# --------------------------------------------------------------- gesture -> command


def smooth_stroke(points, radius: float) -> list[tuple[float, float]]:
    """Drop jitter from a mouse trail: moving average, then simplification (ends kept)."""
    pts: list[tuple[float, float]] = []
    for p in points:
        if not pts or math.dist(pts[-1], p) >= 0.75:
            pts.append((float(p[0]), float(p[1])))
    if len(pts) < 3:
        return pts
    k = 2
    out = [pts[0]]
    for i in range(1, len(pts) - 1):
        window = pts[max(0, i - k): i + k + 1]
        out.append((sum(x for x, _ in window) / len(window), sum(y for _, y in window) / len(window)))
    out.append(pts[-1])
    line = LineString(out).simplify(min(1.5, max(0.3, radius * 0.08)), preserve_topology=False)
    return [(float(x), float(y)) for x, y in line.coords]


def _target(document):
    """The instance a drawing gesture adds to: the selected one, or None for a new instance."""
    inst = document.selected()
    if inst is None:
        return None
    if inst.locked:
        raise LayoutError(f"{inst.name} is locked: unlock it, or deselect it (Esc) to draw a new instance")
    if not inst.visible:
        raise LayoutError(f"{inst.name} is hidden: show it, or deselect it (Esc) to draw a new instance")
    return inst


def _on_canvas(document, shape, what: str):
    """``shape`` cut to the canvas; LayoutError naming ``what`` when nothing of it is on the canvas."""
    layout = document.layout
    clipped = geo.clip_to_canvas(shape, layout.width, layout.height)
    if clipped.is_empty:
        raise LayoutError(f"the {what} lies outside the canvas")
    return clipped


def _new_instance_command(document, shape, what: str):
    layout = document.layout
    inst = Instance(name=layout.next_name(), color=next_colour(layout.used_colours()), geometry=shape)
    return AddInstance(document, inst, text=f"{what} new instance {inst.name}")


def brush_command(document, points, radius: float):
    """The command for one brush stroke (``points`` already smoothed), or raise LayoutError."""
    target = _target(document)
    shape = _on_canvas(document, geo.stroke_polygon(points, radius), "stroke")
    if target is None:
        return _new_instance_command(document, shape, "Paint")
    new = document.layout.stroke_result(target.id, points, radius)
    return SetGeometry(document, {target.id: new}, f"Brush stroke on {target.name}")


def polygon_command(document, points):
    target = _target(document)
    shape = geo.polygon_from_points(points)
    if shape.is_empty:
        raise LayoutError("the polygon encloses no area: its vertices lie on one line (or almost)")
    shape = _on_canvas(document, shape, "polygon")
    if target is None:
        return _new_instance_command(document, shape, "Polygon:")
    new = document.layout.polygon_result(target.id, points)
    return SetGeometry(document, {target.id: new}, f"Polygon on {target.name}")


def erase_command(document, shape, all_instances: bool):
    """Subtract ``shape`` from the selected instance, or from every visible one."""
    layout = document.layout
    selected = document.selected()
    if all_instances or selected is None:
        ids = [i.id for i in layout.instances if i.visible]
    else:
        if selected.locked:
            raise LayoutError(f"{selected.name} is locked")
        ids = [selected.id]
    changes = layout.erase_result(shape, ids)
    if not changes:
        raise LayoutError("nothing to erase there")
    names = [layout.instance(i).name for i in changes]
    label = f"Erase from {names[0]}" if len(names) == 1 else f"Erase from {len(names)} instances"
    return SetGeometry(document, changes, label)


# ------------------------------------------------------------------------ tools


class Tool:
    name = ""
    label = ""
    shortcut = ""
    cursor = Qt.CursorShape.CrossCursor
    shows_brush_cursor = False
    #: (keys, what they do) inside the tool, for the shortcuts list (F1); menu keys come from the actions
    keys: tuple[tuple[str, str], ...] = ()

    def __init__(self, view) -> None:
        self.view = view
        self.document = view.document

    def hint(self) -> str:
        return ""

    def cursor_target(self) -> tuple[str, QColor] | None:
        """A label and colour shown beside the brush cursor (what the tool will act on), or None."""
        return None

    def activate(self) -> None:
        pass

    def deactivate(self) -> None:
        self.cancel()

    def press(self, pos: QPointF, event) -> None:
        pass

    def move(self, pos: QPointF, event) -> None:
        pass

    def release(self, pos: QPointF, event) -> None:
        pass

    def double_click(self, pos: QPointF, event) -> None:
        self.press(pos, event)

    def key(self, event) -> bool:
        """Handle a key; True when used."""
        return False

    def cancel(self) -> None:
        pass

    def push(self, make) -> bool:
        """Build a command with ``make()`` and push it; a refused edit shows its reason."""
        try:
            cmd = make()
        except (LayoutError, ValueError) as e:
            self.view.show_message(str(e))
            return False
        self.document.undo_stack.push(cmd)
        return True

    def _overlay(self) -> QGraphicsPathItem:
        item = QGraphicsPathItem()
        item.setZValue(OVERLAY_Z)
        self.view.scene().addItem(item)
        return item

    def _drop(self, item):
        if item is not None and item.scene() is not None:
            item.scene().removeItem(item)
        return None

    def _draw_colour(self) -> QColor:
        inst = self.document.selected()
        colour = inst.color if inst is not None else next_colour(self.document.layout.used_colours())
        return QColor(colour)


class BrushTool(Tool):
    name, label, shortcut = "brush", "Brush", "B"
    shows_brush_cursor = True
    verb = "paint"
    keys = (("drag", "paint onto the selected instance, or a new one when nothing is selected"),
            ("Esc", "cancel the stroke, or deselect (the next drawing makes a new instance)"))

    def __init__(self, view) -> None:
        super().__init__(view)
        self.points: list[tuple[float, float]] = []
        self.preview: QGraphicsPathItem | None = None

    def hint(self) -> str:
        inst = self.document.selected()
        where = f"onto {inst.name}" if inst is not None else "a new instance (nothing selected)"
        return f"Brush: drag to paint {where}.  [ ] size ({self.view.brush_radius * 2:g} px).  Esc deselects."

    def _preview_pen(self) -> QPen:
        colour = self._draw_colour()
        colour.setAlpha(140)
        pen = QPen(colour, self.view.brush_radius * 2)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def press(self, pos, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self.points = [(pos.x(), pos.y())]
        self.preview = self._overlay()
        self.preview.setPen(self._preview_pen())
        self.preview.setPath(polyline_path(self.points + [(pos.x() + 0.01, pos.y())]))

    def move(self, pos, event) -> None:
        if self.preview is None:
            return
        p = (pos.x(), pos.y())
        if math.dist(self.points[-1], p) >= 0.75:
            self.points.append(p)
            self.preview.setPath(polyline_path(self.points))

    def release(self, pos, event) -> None:
        if self.preview is None:
            return
        self.move(pos, event)
        points = smooth_stroke(self.points, self.view.brush_radius)
        self.cancel()
        self.commit(points)

    def commit(self, points) -> None:
        self.push(lambda: brush_command(self.document, points, self.view.brush_radius))

    def double_click(self, pos, event) -> None:
        self.press(pos, event)

    def key(self, event) -> bool:
        if event.key() == Qt.Key.Key_Escape:
            if self.preview is not None:
                self.cancel()
            else:
                self.document.select(None)
            return True
        return False

    def cancel(self) -> None:
        self.preview = self._drop(self.preview)
        self.points = []


class EraserTool(BrushTool):
    name, label, shortcut = "eraser", "Eraser", "E"
    keys = (("drag", "erase from the instance named beside the cursor (the selected one, or every visible one)"),
            ("Esc", "cancel the stroke, or deselect (then it erases from every instance)"))

    def target(self):
        """The instance the eraser erases from, or None for every visible instance."""
        inst = self.document.selected()
        return None if self.view.erase_all or inst is None else inst

    def hint(self) -> str:
        inst = self.target()
        where = "every visible instance" if inst is None else inst.name
        locked = f" ({inst.name} is locked: unlock it first)" if inst is not None and inst.locked else ""
        return f"Eraser: drag to erase from {where}{locked}.  [ ] size ({self.view.brush_radius * 2:g} px).  " \
               f"'Erase all' toggles between the selected instance and all."

    def cursor_target(self):
        inst = self.target()
        if inst is None:
            return "erase: all instances", QColor("#ffffff")
        return f"erase: {inst.name}" + (" (locked)" if inst.locked else ""), QColor(inst.color)

    def _draw_colour(self) -> QColor:
        return QColor(255, 255, 255)

    def commit(self, points) -> None:
        shape = geo.stroke_polygon(points, self.view.brush_radius) if points else None
        if shape is None:
            return
        self.push(lambda: erase_command(self.document, shape, self.view.erase_all))


class PolygonTool(Tool):
    name, label, shortcut = "polygon", "Polygon", "P"
    keys = (("click", "add a vertex; a click on the first vertex closes the shape"),
            ("double-click / Enter", "close the shape"), ("Backspace", "remove the last vertex"),
            ("Esc", "cancel the shape, or deselect"))

    def __init__(self, view) -> None:
        super().__init__(view)
        self.points: list[tuple[float, float]] = []
        self.outline: QGraphicsPathItem | None = None
        self.hover: tuple[float, float] | None = None

    def hint(self) -> str:
        if self.points:
            return f"Polygon: {len(self.points)} vertices. Click to add; double-click, Enter or a click on the " \
                   f"first vertex closes; Backspace removes the last, Esc cancels."
        inst = self.document.selected()
        where = f"to add to {inst.name}" if inst is not None else "for a new instance"
        return f"Polygon: click the vertices of a shape {where}; double-click or Enter closes it."

    def press(self, pos, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if len(self.points) >= 3 and math.dist(self.points[0], (pos.x(), pos.y())) * self.view.zoom() <= 8:
            self.close()  # clicking the first vertex again closes the shape
            return
        if self.outline is None:
            self.outline = self._overlay()
            colour = self._draw_colour()
            pen = QPen(colour.darker(130), 2)
            pen.setCosmetic(True)
            self.outline.setPen(pen)
            colour.setAlpha(90)
            self.outline.setBrush(colour)
        self.points.append((pos.x(), pos.y()))
        self._update()
        self.view.refresh_hint()

    def move(self, pos, event) -> None:
        self.hover = (pos.x(), pos.y())
        self._update()

    def double_click(self, pos, event) -> None:
        if not self.points:
            self.press(pos, event)
        self.close()

    def key(self, event) -> bool:
        k = event.key()
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.points:
            self.close()
            return True
        if k == Qt.Key.Key_Escape:
            if self.points:
                self.cancel()
            else:
                self.document.select(None)
            return True
        if k == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self._update()
            self.view.refresh_hint()
            return True
        return False

    def _update(self) -> None:
        if self.outline is None:
            return
        pts = list(self.points)
        if self.hover is not None:
            pts.append(self.hover)
        path = polyline_path(pts)
        if len(pts) >= 3:
            path.closeSubpath()
        self.outline.setPath(path)

    def close(self) -> None:
        pts: list[tuple[float, float]] = []
        for p in self.points:
            if not pts or math.dist(pts[-1], p) > 1.0:
                pts.append(p)
        if len(pts) > 1 and math.dist(pts[0], pts[-1]) <= 1.0:
            pts.pop()
        self.cancel()
        if len(pts) < 3:
            self.view.show_message("A polygon needs at least 3 distinct vertices")
            return
        self.push(lambda: polygon_command(self.document, pts))

    def cancel(self) -> None:
        self.outline = self._drop(self.outline)
        self.points = []
        self.hover = None
        self.view.refresh_hint()


class SelectTool(Tool):
    name, label, shortcut = "select", "Select / move", "V"
    cursor = Qt.CursorShape.ArrowCursor
    keys = (("click", "select the top-most instance under the cursor"), ("drag", "move it"),
            ("arrow keys", "nudge it 1 px (Shift: 10 px)"), ("Esc", "deselect"))

    def __init__(self, view) -> None:
        super().__init__(view)
        self.drag_from: QPointF | None = None
        self.dragged_id: str | None = None

    def hint(self) -> str:
        return ("Select: click an instance to select it, drag or arrow keys (Shift: 10 px) move it, "
                "Delete removes it, Esc deselects.")

    def press(self, pos, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self.view.instance_at(pos)
        self.document.select(hit.id if hit is not None else None)
        if hit is not None and not hit.locked:
            self.drag_from, self.dragged_id = pos, hit.id
        elif hit is not None:
            self.view.show_message(f"{hit.name} is locked: it cannot be moved")

    def move(self, pos, event) -> None:
        if self.drag_from is None:
            return
        item = self.view.scene().items_by_id.get(self.dragged_id)
        if item is not None:
            item.setPos(pos - self.drag_from)

    def release(self, pos, event) -> None:
        if self.drag_from is None:
            return
        delta = pos - self.drag_from
        iid = self.dragged_id
        self.cancel()
        if abs(delta.x()) < 0.5 and abs(delta.y()) < 0.5:
            return
        layout = self.document.layout
        inst = layout.instance(iid)
        moved = geo.translate(inst.geometry, delta.x(), delta.y())
        self.push(lambda: SetGeometry(self.document, {iid: moved}, f"Move {inst.name}"))

    NUDGES = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}

    def key(self, event) -> bool:
        if event.key() == Qt.Key.Key_Escape:
            if self.drag_from is not None:
                self.cancel()
            else:
                self.document.select(None)
            return True
        if event.key() in self.NUDGES and self.drag_from is None:
            inst = self.document.selected()
            if inst is None:
                return False
            if inst.locked:
                self.view.show_message(f"{inst.name} is locked: it cannot be moved")
                return True
            step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            dx, dy = (v * step for v in self.NUDGES[event.key()])
            moved = geo.translate(inst.geometry, dx, dy)
            self.push(lambda: NudgeInstance(self.document, {inst.id: moved}, f"Nudge {inst.name}"))
            return True
        return False

    def cancel(self) -> None:
        item = self.view.scene().items_by_id.get(self.dragged_id) if self.dragged_id else None
        if item is not None:
            item.setPos(0, 0)
        self.drag_from = self.dragged_id = None


TOOL_CLASSES = (BrushTool, PolygonTool, EraserTool, SelectTool)
