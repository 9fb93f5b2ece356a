"""Generation settings: what the user chose for one render, validated, with model defaults filled in."""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..methods import METHODS, MethodParameterError, method
from ..models.families import ModelFamily
from ..project.settings import MAX_IMAGES
from ..schedule.timesteps import steps_to_run

MAX_SEED = 2**63 - 1
MAX_SIDE = 4096
MIN_SIDE = 64
MAX_STEPS = 500
MAX_T5_LENGTH = 512  # T5 text tokens the pipelines accept


class SettingsError(ValueError):
    """A generation setting out of range; the message names the setting."""


@dataclass(frozen=True)
class GenerationSettings:
    """``None`` means: the layout's size, the model family's default steps/guidance/sequence length,
    a fresh random seed (recorded in the result's metadata). ``method_parameters`` are the
    method's own typed parameters (``ast_core.methods``; the AST schedule travels separately).
    ``num_images`` images are made with seeds ``seed``, ``seed + 1``, ...: image k is the image a
    one-image run with seed ``seed + k`` makes."""

    width: int | None = None
    height: int | None = None
    steps: int | None = None
    guidance: float | None = None
    seed: int | None = None
    method: str = "ast"
    max_sequence_length: int | None = None
    num_images: int = 1
    method_parameters: dict[str, Any] = field(default_factory=dict)

    def validate(self, pixels_per_token: int = 16) -> "GenerationSettings":
        for name in ("width", "height"):
            v = getattr(self, name)
            if v is None:
                continue
            _whole(v, name)
            if not MIN_SIDE <= v <= MAX_SIDE or v % pixels_per_token:
                raise SettingsError(
                    f"{name} must be a multiple of {pixels_per_token} between {MIN_SIDE} and {MAX_SIDE}, got {v}"
                )
        if self.steps is not None:
            _whole(self.steps, "steps")
            if not 1 <= self.steps <= MAX_STEPS:
                raise SettingsError(f"steps must be between 1 and {MAX_STEPS}, got {self.steps}")
        if self.guidance is not None:
            if isinstance(self.guidance, bool) or not isinstance(self.guidance, (int, float)):
                raise SettingsError(f"guidance must be a number, got {self.guidance!r}")
            if not 0.0 <= float(self.guidance) <= 100.0:
                raise SettingsError(f"guidance must be between 0 and 100, got {self.guidance}")
        if self.seed is not None:
            _whole(self.seed, "seed")
            if not 0 <= self.seed <= MAX_SEED:
                raise SettingsError(f"seed must be between 0 and {MAX_SEED}, got {self.seed}")
        if self.method not in METHODS:
            raise SettingsError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if not isinstance(self.method_parameters, dict):
            raise SettingsError(f"method_parameters must be an object, got {self.method_parameters!r}")
        try:
            method(self.method).check_parameters(self.method_parameters)
        except MethodParameterError as e:
            raise SettingsError(str(e)) from None
        if self.max_sequence_length is not None:
            _whole(self.max_sequence_length, "max_sequence_length")
            if not 8 <= self.max_sequence_length <= MAX_T5_LENGTH:
                raise SettingsError(
                    f"max_sequence_length must be between 8 and {MAX_T5_LENGTH}, got {self.max_sequence_length}"
                )
        _whole(self.num_images, "num_images")
        if not 1 <= self.num_images <= MAX_IMAGES:
            raise SettingsError(f"num_images must be between 1 and {MAX_IMAGES}, got {self.num_images}")
        if self.seed is not None and self.seed + self.num_images - 1 > MAX_SEED:
            raise SettingsError(f"seed {self.seed} with {self.num_images} images goes past the largest seed, {MAX_SEED}")
        return self

    def resolved(self, layout_size: tuple[int, int], family: ModelFamily) -> "GenerationSettings":
        """Every ``None`` replaced by its default (a random seed for ``seed``); validated."""
        self.validate(family.pixels_per_token)
        out = replace(
            self,
            width=self.width if self.width is not None else layout_size[0],
            height=self.height if self.height is not None else layout_size[1],
            steps=steps_to_run(self.steps, family),
            guidance=float(self.guidance if self.guidance is not None else family.default_guidance),
            seed=self.seed if self.seed is not None else secrets.randbelow(2**32),
            max_sequence_length=self.max_sequence_length or family.max_sequence_length,
            method_parameters=method(self.method).check_parameters(self.method_parameters),
        )
        return out.validate(family.pixels_per_token)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: Any) -> "GenerationSettings":
        if not isinstance(data, dict):
            raise SettingsError("generation settings must be a JSON object")
        known = set(GenerationSettings.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise SettingsError(f"unknown generation setting(s): {', '.join(sorted(unknown))}")
        return GenerationSettings(**data).validate()


def _whole(v: Any, name: str) -> None:
    if isinstance(v, bool) or not isinstance(v, int):
        raise SettingsError(f"{name} must be a whole number, got {v!r}")
