"""Render the application icon (the studio's brush icon) to ast-studio.png for desktop entries.

    .venv/bin/python packaging/make_icon.py
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from ast_studio import icons  # noqa: E402


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(__file__).with_name("ast-studio.png")
    if not icons.pixmap("brush", 256).save(str(out)):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
