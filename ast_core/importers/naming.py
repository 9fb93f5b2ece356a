"""Short instance names derived from prompts ("a boy playing with a ball" -> "Boy playing")."""
from __future__ import annotations


_ARTICLES = {"a", "an", "the"}
#: Words that start a qualifier; the name stops before them.
_BREAKS = {"with", "in", "on", "at", "under", "over", "near", "by", "from", "wearing", "holding",
           "surrounded", "filled", "hanging", "and", "while", "that", "which", "who"}
MAX_WORDS = 4
MAX_CHARS = 40
_PUNCT = ",.;:!?()[]\"'"


def name_from_prompt(prompt: str, fallback: str = "Instance") -> str:
    words = prompt.split()
    while words and words[0].lower().strip(_PUNCT) in _ARTICLES:
        words = words[1:]
    kept: list[str] = []
    for raw in words:
        w = raw.strip(_PUNCT)
        if kept and w.lower() in _BREAKS:
            break
        if w:
            kept.append(w)
        # Punctuation ends the name once it has two words ("A massive, radiant rainbow").
        if len(kept) == MAX_WORDS or (len(kept) >= 2 and raw.rstrip() != raw.rstrip(_PUNCT)):
            break
    name = " ".join(kept)[:MAX_CHARS].strip()
    if not name:
        return fallback
    return name[0].upper() + name[1:]


def unique_names(names: list[str]) -> list[str]:
    """Make names unique by numbering repeats: ["Car", "Car"] -> ["Car", "Car 2"]."""
    seen: dict[str, int] = {}
    out = []
    taken = set(names)
    for n in names:
        if n in seen:
            k = seen[n] + 1
            while f"{n} {k}" in taken:
                k += 1
            seen[n] = k
            out.append(f"{n} {k}")
            taken.add(out[-1])
        else:
            seen[n] = 1
            out.append(n)
    return out
