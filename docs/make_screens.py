"""Make the README's screenshots from the studio's own screenshot tests.

    .venv/bin/python docs/make_screens.py

Runs ``tests/studio/test_workspace_screens.py`` (real widgets, offscreen, two real tiny-flux
renders) with ``AST_SCREENS_DIR`` pointing to a temporary folder, then writes the chosen
screenshots to ``docs/screens/`` as small PNGs (a 256-colour palette, optimised).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screens"
#: screenshot -> width it is kept at (the README shows them at most about 1000 pixels wide)
CHOSEN = {
    "workspace-1366x768.png": 1366,
    "tracing-1366x768.png": 1366,
    "schedule-page-1366x768.png": 1366,
    "result-on-canvas-1920x1080.png": 1280,  # tiny-flux's noise does not compress: kept smaller
}


def small_png(source: Path, target: Path, width: int) -> int:
    with Image.open(source) as im:
        im = im.convert("RGB")
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), Image.Resampling.LANCZOS)
        # octree keeps the interface's flat colours exact (median cut gave noisy renders the palette)
        im.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
            target, format="PNG", optimize=True)
    return target.stat().st_size


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "AST_SCREENS_DIR": folder, "QT_QPA_PLATFORM": "offscreen",
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              str(ROOT / "tests" / "studio" / "test_workspace_screens.py")], env=env, cwd=ROOT)
        if run.returncode != 0:
            print("the screenshot tests failed: nothing was written", file=sys.stderr)
            return run.returncode
        OUT.mkdir(parents=True, exist_ok=True)
        for name, width in CHOSEN.items():
            size = small_png(Path(folder) / name, OUT / name, width)
            print(f"docs/screens/{name}: {size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
