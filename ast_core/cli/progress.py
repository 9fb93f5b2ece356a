"""The progress bars of ``ast-studio render`` on stderr (tqdm): loading, then the steps.

    Loading model:  57%|█████▋    | 4/7 [00:01<00:00, 3.1part/s]
    Image 2/4:  62%|██████▎   | 10/16 [00:04<00:02, 2.4step/s]

The steps bar counts every step of every image of the run, with the elapsed time and the
time left; its label follows the stages (encoding, each image, decoding). Shown only when
stderr is a terminal (a log file gets no redrawn lines), never with ``--quiet``.
"""
from __future__ import annotations

import sys

from ..progress import DECODING, DENOISING, ENCODING, LOADING, Stage

_PLAIN = "{desc} ({elapsed})"


class RenderProgress:
    def __init__(self, enabled: bool, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._loading = None
        self._steps = None

    @staticmethod
    def wanted(quiet: bool, stream=None) -> bool:
        stream = stream if stream is not None else sys.stderr
        return not quiet and bool(getattr(stream, "isatty", lambda: False)())

    def _bar(self, desc: str, total: int | None, unit: str):
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=self.stream, leave=False, dynamic_ncols=True,
                    mininterval=0.1, bar_format=None if total else _PLAIN)

    def stage(self, stage: Stage) -> None:
        if not self.enabled:
            return
        if stage.kind == LOADING:
            if self._loading is None or (stage.total and self._loading.total != stage.total):
                self._close_loading()
                self._loading = self._bar("Loading model" if stage.total else stage.text, stage.total, "part")
            if stage.total:
                self._loading.n = stage.done or 0
                self._loading.refresh()
            else:
                self._loading.set_description_str(stage.text)
            return
        self._close_loading()
        if self._steps is None:
            self._steps = self._bar(stage.text, None, "step")
        elif stage.kind in (ENCODING, DENOISING, DECODING):
            self._steps.set_description_str(stage.text)

    def step(self, info) -> None:
        if not self.enabled:
            return
        total = info.total * info.images
        if self._steps is None:
            self._steps = self._bar("Rendering", total, "step")
        if self._steps.total != total:  # the first step: the count is known now (elapsed time keeps running)
            self._steps.total = total
            self._steps.bar_format = None
        self._steps.n = (info.image - 1) * info.total + info.step
        self._steps.refresh()

    def _close_loading(self) -> None:
        if self._loading is not None:
            self._loading.close()
            self._loading = None

    def close(self) -> None:
        self._close_loading()
        if self._steps is not None:
            self._steps.close()
            self._steps = None
