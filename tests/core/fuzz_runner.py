"""Runs the fuzz categories in child processes (two at a time) and collects what each case did.

A child that dies or hangs (CPU limit) is answered by running the case it had started on
its own in a fresh child, which names it, then the rest of the category in another one.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

CHILD = Path(__file__).resolve().parent / "astproj_fuzz_child.py"
#: Wall-clock limit of one child (its cases also have a CPU limit each).
CHILD_SECONDS = 600


@dataclass
class CategoryResult:
    category: str
    results: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(r["outcome"] == outcome for r in self.results)

    @property
    def seconds(self) -> float:
        return sum(r.get("seconds", 0.0) for r in self.results)


def _child(category: str, seed: int, first: int, last: int | None, studio: bool) -> tuple[int, list[dict]]:
    cmd = [sys.executable, str(CHILD), category, str(seed), str(first)]
    if last is not None:
        cmd.append(str(last))
    if studio:
        cmd.append("--studio")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_SECONDS, env=env)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = "timeout", e.stdout or "", e.stderr or ""
        out = out.decode() if isinstance(out, bytes) else out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if code != 0:
        lines.append({"died": code, "stderr": (err.decode() if isinstance(err, bytes) else err)[-800:]})
    return code, lines


def _how(code) -> str:
    names = {-24: "hang (CPU-time limit)", "timeout": "hang (wall-clock limit)", -11: "segfault", -9: "killed",
             -6: "abort", 0: "no failure"}
    return names.get(code, f"exit {code}")


def run_category(category: str, seed: int, studio: bool = False) -> CategoryResult:
    result = CategoryResult(category)
    first, total = 0, None
    while total is None or first < total:
        code, lines = _child(category, seed, first, None, studio)
        started = None
        for line in lines:
            if "total" in line:
                total = line["total"]
            elif line.get("start"):
                started = line
            elif "outcome" in line:
                result.results.append(line)
                started = None
        if code == 0:
            break
        if started is None:  # died before or between cases
            result.problems.append(f"{category}: child died outside a case ({code}): {lines[-1]}")
            break
        index = started["index"]
        alone_code, alone = _child(category, seed, index, index + 1, studio)
        result.problems.append(f"{category}[{index}] {started['name']!r}: {_how(code)} (run alone: {_how(alone_code)}); "
                               f"{(alone or lines)[-1]}")
        result.results.append({"index": index, "name": started["name"], "outcome": "died"})
        first = index + 1
    for r in result.results:
        if r["outcome"] == "error":
            result.problems.append(f"{category}[{r['index']}] {r['name']!r}: {r['error']}\n{r['where']}")
    return result


def run_all(categories: list[str], seed: int, studio: bool = False, workers: int = 2) -> list[CategoryResult]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda c: run_category(c, seed, studio), categories))


def summary(results: list[CategoryResult]) -> str:
    rows = [f"{'category':<18} {'cases':>5} {'refused':>7} {'accepted':>8} {'CPU s':>7} {'max s':>6}"]
    for r in results:
        slowest = max((x.get("seconds", 0.0) for x in r.results), default=0.0)
        rows.append(f"{r.category:<18} {len(r.results):>5} {r.count('refused'):>7} {r.count('accepted'):>8} "
                    f"{r.seconds:>7.2f} {slowest:>6.2f}")
    total = sum(len(r.results) for r in results)
    rows.append(f"{'all':<18} {total:>5} {sum(r.count('refused') for r in results):>7} "
                f"{sum(r.count('accepted') for r in results):>8} {sum(r.seconds for r in results):>7.2f}")
    return "\n".join(rows)
