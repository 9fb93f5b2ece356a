"""Issue 17: damaged and hostile project files never crash, hang or fill the memory.

Every case runs in a child process with a CPU-time limit per case and a memory limit
(:mod:`astproj_fuzz_child`), so a regression fails this test instead of taking the machine
down. Each case is refused with a ProjectFileError naming the file and the member or
field, or accepted: then ``ast-studio info`` shows it, it saves and reloads identically,
and the studio's document takes it, shows its render history and saves it (Save and
autosave). The input file never changes. ``AST_FUZZ_SEED`` picks other random cases.
"""
from __future__ import annotations

import importlib.util
import os

from astproj_fuzz import CATEGORIES
from fuzz_runner import run_all, summary

SEED = int(os.environ.get("AST_FUZZ_SEED", "17"))
#: The studio half needs PySide6 (installed with the project; ast_core itself does not).
STUDIO = importlib.util.find_spec("PySide6") is not None


def test_hostile_project_files_are_refused_or_round_trip():
    results = run_all(sorted(CATEGORIES), SEED, studio=STUDIO)
    print(f"\nfuzz seed {SEED}{'' if STUDIO else ' (without the studio checks)'}\n{summary(results)}")
    problems = [p for r in results for p in r.problems]
    assert not problems, "\n".join(problems)
    for r in results:
        assert r.results, f"{r.category}: no cases ran"
    # Sane accepts are exercised as well as refusals.
    assert sum(r.count("accepted") for r in results) >= 100
    assert sum(r.count("refused") for r in results) >= 250
