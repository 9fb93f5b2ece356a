"""What a control method is: typed parameters, preparation from a layout, and attention control.

A method (``none``, ``ast``, ``regional``...) turns a layout + the model's text layout into
what the pipeline sees: the text conditioning, and optionally an attention control installed
on the transformer for the run (always restored). The studio and the CLI list methods and
build their parameter editors from the registry (:mod:`ast_core.methods`); nothing outside a
method's module knows its rules.
"""
from __future__ import annotations

import contextlib
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterator


class MethodParameterError(ValueError):
    """A method parameter out of range; the message names the method and the parameter."""


@dataclass(frozen=True)
class Parameter:
    """One typed parameter of a method, as an editor shows it."""

    name: str
    label: str
    kind: str  # "int" | "float" | "bool" | "choice"
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    step: float | None = None  # an editor's increment (floats)

    def check(self, value: Any, method: str) -> Any:
        where = f"{method}.{self.name}"
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise MethodParameterError(f"{where} must be true or false, got {value!r}")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise MethodParameterError(f"{where} must be one of {', '.join(self.choices)}, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MethodParameterError(f"{where} must be a number, got {value!r}")
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise MethodParameterError(f"{where} must be a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise MethodParameterError(f"{where} must be a finite number, got {value!r}")
        if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
            raise MethodParameterError(f"{where} must be between {self.minimum:g} and {self.maximum:g}, got {value!r}")
        return value


@dataclass
class MethodRun:
    """One prepared run of a method: the pipeline's conditioning and the attention control.

    ``control`` (an ``AttentionControl`` with ``step_finished``) is installed on the
    transformer for the run by :meth:`installed`; ``None`` runs the stock attention.
    ``used`` names the method that actually shapes the image ("none" when the layout had
    nothing to control). ``record`` is what the metadata keeps of the method's parameters.
    """

    used: str
    conditioning: Any
    control: Any = None
    warnings: list[str] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)

    @contextlib.contextmanager
    def installed(self, model) -> Iterator["MethodRun"]:
        if self.control is None:
            yield self
            return
        with self.control.installed(model.architecture, model.transformer):
            yield self

    def step_finished(self, index: int) -> None:
        """The pipeline finished 0-based step ``index`` (called from its step callback)."""
        if self.control is not None:
            self.control.step_finished(index)


class ControlMethod(ABC):
    """Base of the control methods; see the module docstring."""

    name: str = ""
    label: str = ""
    description: str = ""
    #: editable parameters (a generic editor is built from these)
    parameters: tuple[Parameter, ...] = ()
    #: the step-layer schedule is part of this method's parameters (the Schedule panel edits it)
    uses_schedule: bool = False
    #: every instance's (and the background's) text must occur inside the base prompt
    needs_text_in_base_prompt: bool = False
    #: what the prompt editors say about the prompts under this method when the text need not be
    #: in the base prompt (a neutral note in the user's words; "" says nothing)
    prompts_note: str = ""
    #: what an instance that takes part without a prompt is told ("" = the method reads no
    #: instance prompts); ``{name}`` is the instance's name
    missing_prompt: str = ""

    def default_parameters(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters}

    def check_parameters(self, values: dict[str, Any] | None) -> dict[str, Any]:
        """``values`` validated, with defaults for what is missing; unknown names are an error."""
        values = dict(values or {})
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise MethodParameterError(f"{self.name}: unknown parameter(s) {', '.join(unknown)}")
        return {name: p.check(values.get(name, p.default), self.name) for name, p in known.items()}

    def prompt_problems(self, layout) -> list[str]:
        """The prompt problems this method would refuse, found without a model (by characters,
        as the prompt editors flag them; the engine's token-level match finds no more text than
        this): an instance taking part with no prompt; where the text must be inside the base
        prompt, an empty base prompt and any instance's or the background's text missing from
        it. One line each, the engine's own messages; empty when a render can go ahead."""
        from ..generation.plan import instances_taking_part
        from ..prompts.spans import BACKGROUND_NOT_IN_BASE_PROMPT, EMPTY_BASE_PROMPT, NOT_IN_BASE_PROMPT

        taking_part = instances_taking_part(layout)
        if not taking_part or not self.missing_prompt:
            return []
        if self.needs_text_in_base_prompt and not layout.base_prompt.strip():
            return [EMPTY_BASE_PROMPT]
        problems = []
        for inst in taking_part:
            if not inst.prompt.strip():
                problems.append(self.missing_prompt.format(name=inst.name))
            elif self.needs_text_in_base_prompt and not layout.in_base_prompt(inst.prompt):
                problems.append(NOT_IN_BASE_PROMPT.format(name=inst.name, prompt=inst.prompt.strip()))
        if self.needs_text_in_base_prompt and layout.background_missing_from_base_prompt():
            problems.append(BACKGROUND_NOT_IN_BASE_PROMPT.format(prompt=layout.background_prompt.strip()))
        return problems

    def check_prompts(self, layout) -> None:
        """Raise PromptError with the first of :meth:`prompt_problems`: run before a model loads
        (a real one takes a minute), and the method checks again at the token level."""
        from ..prompts.spans import PromptError

        problems = self.prompt_problems(layout)
        if problems:
            raise PromptError(problems[0])

    def needs_text(self) -> bool:
        """Whether planning needs the prompts' token spans (the text layout)."""
        return self.needs_text_in_base_prompt

    @abstractmethod
    def start(self, model, layout, settings, plan, timesteps, *, schedule=None,
              parameters: dict[str, Any] | None = None) -> MethodRun:
        """Encode the prompts and build the attention control for one run."""

    def save_masks(self, model, layout, settings, folder) -> list:
        """Write what the model sees under this method into ``folder``; returns the paths written.

        Default: the token-grid segment masks and every text token's role (the token roles
        also for a method that does not need the spans, when they can be computed).
        """
        from ..generate import prepare
        from ..generation.mask_files import save_masks
        from ..prompts import PromptError

        _, plan = prepare(layout, settings, model)
        if plan.analysis is None and not plan.empty:
            try:
                _, plan = prepare(layout, settings, model, with_text=True)
            except PromptError:
                pass
        return save_masks(plan, folder)
