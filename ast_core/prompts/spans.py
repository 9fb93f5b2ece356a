"""Where each segment's text sits in the base prompt, in T5 tokens.

A segment (the background or an instance) owns the base-prompt tokens its own prompt
occupies. The rule, tried in this order for each segment (background first, then the
instances in layout order):

1. **exact**: the segment prompt's token ids (without the end token) occur as a
   contiguous run inside the base prompt's ids;
2. **text**: the segment prompt occurs in the base prompt as text, ignoring case and
   runs of whitespace, at word boundaries; the span is every base token whose
   characters overlap that text.

Each step first retries without a trailing period ("a red car." -> "a red car"). The span
is the first occurrence that does not overlap a span already claimed by an earlier
segment; if every occurrence overlaps one, the first occurrence is used (spans may then
share tokens). A segment found nowhere is a :class:`PromptError` naming it and the fix.

The base prompt is cut to the model's maximum sequence length (the last position holds the
end token); spans that fall past the cut are clipped or dropped, with a warning naming the
segments that fell off.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .attributes import split_attributes, words

BACKGROUND = "background"


#: an instance with no prompt, under a method that needs its text in the base prompt
NO_PROMPT = "instance '{name}' has no prompt: describe it, and put that text in the base prompt"
EMPTY_BASE_PROMPT = "the base prompt is empty: describe the whole scene, including every instance's text"
NOT_IN_BASE_PROMPT = ("instance '{name}': its prompt '{prompt}' is not in the base prompt: "
                      "add '{prompt}' to the base prompt, or edit the instance prompt")
BACKGROUND_NOT_IN_BASE_PROMPT = ("the background prompt '{prompt}' is not in the base prompt: "
                                 "add '{prompt}' to the base prompt, or edit the background prompt")


class PromptError(ValueError):
    """A prompt the method cannot use; the message names the segment and the fix."""


@dataclass
class SegmentText:
    """One segment's text tokens inside the base prompt (indices into the T5 sequence)."""

    name: str  # "background" or the instance's name
    instance_id: str | None  # None for the background
    prompt: str
    span: list[int] = field(default_factory=list)
    attribute_tokens: list[int] = field(default_factory=list)
    attribute_words: list[str] = field(default_factory=list)
    matched_text: str = ""  # the base prompt's characters the span covers
    source_text: str = ""  # the text encoded alone for the substitution (tokenizes exactly to the span)
    match: str = ""  # "exact" | "text" | "" (no text: empty background prompt)
    fell_off: int = 0  # tokens lost to truncation
    missing_attribute_words: list[str] = field(default_factory=list)  # given but not found in the prompt

    @property
    def instance_tokens(self) -> list[int]:
        attrs = set(self.attribute_tokens)
        return [t for t in self.span if t not in attrs]


@dataclass
class PromptAnalysis:
    base_prompt: str
    tokens: list[str]  # base prompt tokens as the model reads them (after the cut), with the end token
    ids: list[int]
    max_length: int  # T5 sequence length the model runs with (the padded length)
    segments: list[SegmentText]  # background first, then instances
    truncated: bool = False
    full_length: int = 0  # base prompt tokens before the cut, end token included
    warnings: list[str] = field(default_factory=list)

    @property
    def background(self) -> SegmentText:
        return self.segments[0]

    @property
    def instances(self) -> list[SegmentText]:
        return self.segments[1:]

    def token_roles(self) -> list[dict]:
        """Per base-prompt token: its string and the roles it plays (instance/attribute/background of whom)."""
        roles: list[dict] = [{"index": i, "token": t, "roles": []} for i, t in enumerate(self.tokens)]
        for seg in self.segments:
            if seg.instance_id is None:
                for t in seg.span:
                    roles[t]["roles"].append({"role": "background", "segment": seg.name})
                continue
            attrs = set(seg.attribute_tokens)
            for t in seg.span:
                roles[t]["roles"].append({
                    "role": "attribute" if t in attrs else "instance",
                    "segment": seg.name, "instance_id": seg.instance_id,
                })
        if self.tokens:
            roles[-1]["end"] = True
        return roles


def plain_backend(tokenizer):
    """A copy of the tokenizer's ``tokenizers`` backend without padding or truncation.

    (The transformers wrapper switches padding/truncation on its backend as a side effect
    of padded calls, so the shared backend cannot be trusted to encode plainly.)
    """
    from tokenizers import Tokenizer

    key = "_ast_plain_backend"
    cached = getattr(tokenizer, key, None)
    if cached is None:
        cached = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        cached.no_padding()
        cached.no_truncation()
        try:
            setattr(tokenizer, key, cached)
        except AttributeError:
            pass
    return cached


def _subsequences(hay: list[int], needle: list[int]) -> list[int]:
    n = len(needle)
    if not n:
        return []
    first = needle[0]
    return [i for i in range(len(hay) - n + 1) if hay[i] == first and hay[i : i + n] == needle]


def _normalised(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with whitespace runs collapsed to one space, and each char's index in ``text``."""
    out, where = [], []
    prev_space = False
    for i, c in enumerate(text):
        if c.isspace():
            if prev_space:
                continue
            out.append(" ")
            prev_space = True
        else:
            out.append(c.lower())
            prev_space = False
        where.append(i)
    return "".join(out), where


def _text_occurrences(base: str, needle: str) -> list[tuple[int, int]]:
    """Character ranges of ``needle`` in ``base`` (case/whitespace-insensitive, at word boundaries)."""
    nb, where = _normalised(base)
    nn = " ".join(needle.lower().split())
    if not nn:
        return []
    out = []
    for m in re.finditer(re.escape(nn), nb):
        s, e = m.start(), m.end()
        if s > 0 and nb[s - 1].isalnum() and nn[0].isalnum():
            continue
        if e < len(nb) and nb[e].isalnum() and nn[-1].isalnum():
            continue
        out.append((where[s], where[e - 1] + 1))
    return out


def _tokens_in(offsets: list[tuple[int, int]], start: int, end: int) -> list[int]:
    return [i for i, (a, b) in enumerate(offsets) if b > a and a < end and b > start]


def _candidates(text: str) -> list[str]:
    t = text.strip()
    out = [t]
    if t.endswith("."):
        out.append(t.rstrip(".").rstrip())
    return [c for c in out if c]


def analyse_prompts(
    tokenizer,
    base_prompt: str,
    background_prompt: str,
    instances: list,
    max_length: int,
) -> PromptAnalysis:
    """Spans and attribute tokens of the background and each instance (``Instance`` objects) in the base prompt."""
    backend = plain_backend(tokenizer)
    if not base_prompt.strip():
        raise PromptError(EMPTY_BASE_PROMPT)
    enc = backend.encode(base_prompt, add_special_tokens=False)
    ids, offsets, toks = list(enc.ids), list(enc.offsets), list(enc.tokens)
    eos_id = tokenizer.eos_token_id
    eos_tok = tokenizer.eos_token or "</s>"
    limit = max_length - 1  # the last position is the end token
    claimed: set[int] = set()
    segments: list[SegmentText] = []

    wanted = [(BACKGROUND, None, background_prompt, None)]
    for inst in instances:
        if not inst.prompt.strip():
            raise PromptError(NO_PROMPT.format(name=inst.name))
        wanted.append((inst.name, inst.id, inst.prompt, inst.attribute_words))

    for name, inst_id, prompt, attr_override in wanted:
        seg = SegmentText(name, inst_id, prompt)
        segments.append(seg)
        if inst_id is None and not prompt.strip():
            continue
        found = _locate(backend, base_prompt, ids, offsets, prompt, claimed)
        if found is None:
            if inst_id is None:
                raise PromptError(BACKGROUND_NOT_IN_BASE_PROMPT.format(prompt=prompt.strip()))
            raise PromptError(NOT_IN_BASE_PROMPT.format(name=name, prompt=prompt.strip()))
        span, how, cand = found
        seg.match = how
        seg.matched_text = base_prompt[offsets[span[0]][0] : offsets[span[-1]][1]]
        seg.source_text = cand if how == "exact" else seg.matched_text
        claimed.update(span)
        if inst_id is not None:
            attr_words = split_attributes(prompt) if attr_override is None else list(attr_override)
            seg.attribute_words, seg.attribute_tokens = _attribute_tokens(
                seg, span, offsets, base_prompt, attr_words
            )
        seg.span = [t for t in span if t < limit]
        seg.attribute_tokens = [t for t in seg.attribute_tokens if t < limit]
        seg.fell_off = len(span) - len(seg.span)

    full = len(ids) + 1
    truncated = full > max_length
    kept_ids = ids[:limit] + [eos_id]
    kept_toks = toks[:limit] + [eos_tok]
    analysis = PromptAnalysis(base_prompt, kept_toks, kept_ids, max_length, segments, truncated, full)
    if truncated:
        lost = [s for s in segments if s.fell_off and not s.span]
        part = [s for s in segments if s.fell_off and s.span]
        msg = f"the base prompt is {full} tokens long but the model reads {max_length}: it was cut"
        if lost:
            msg += "; fell off entirely: " + ", ".join(_label(s) for s in lost)
        if part:
            msg += "; partly cut: " + ", ".join(_label(s) for s in part)
        if lost or part:
            msg += " (shorten the base prompt or move these instances' text earlier)"
        analysis.warnings.append(msg)
    for seg in segments[1:]:
        if seg.missing_attribute_words:
            analysis.warnings.append(
                f"instance '{seg.name}': attribute word(s) {', '.join(seg.missing_attribute_words)} "
                "not found in its prompt (ignored)"
            )
    return analysis


def _label(seg: SegmentText) -> str:
    return "the background" if seg.instance_id is None else f"instance '{seg.name}'"


def _locate(backend, base: str, ids, offsets, prompt: str, claimed: set[int]):
    # 1. exact token ids
    for cand in _candidates(prompt):
        needle = list(backend.encode(cand, add_special_tokens=False).ids)
        starts = _subsequences(ids, needle)
        pick = _first_free([list(range(s, s + len(needle))) for s in starts], claimed)
        if pick:
            return pick, "exact", cand
    # 2. text, ignoring case and whitespace
    for cand in _candidates(prompt):
        spans = [_tokens_in(offsets, a, b) for a, b in _text_occurrences(base, cand)]
        pick = _first_free([s for s in spans if s], claimed)
        if pick:
            return pick, "text", cand
    return None


def _first_free(spans: list[list[int]], claimed: set[int]) -> list[int] | None:
    for s in spans:
        if not claimed.intersection(s):
            return s
    return spans[0] if spans else None


def _attribute_tokens(seg: SegmentText, span, offsets, base: str, attr_words: list[str]):
    """Tokens of the span whose characters overlap the attribute words (matched in order, whole words)."""
    lo, hi = offsets[span[0]][0], offsets[span[-1]][1]
    region = [(m.start() + lo, m.end() + lo, m.group(0).lower()) for m in words(base[lo:hi])]
    found_words, tokens, missing = [], set(), []
    pos = 0
    for w in attr_words:
        target = w.strip().lower()
        hit = next((k for k in range(pos, len(region)) if region[k][2] == target), None)
        if hit is None:
            hit = next((k for k in range(len(region)) if region[k][2] == target), None)
        if hit is None:
            missing.append(w)
            continue
        a, b, _ = region[hit]
        tokens.update(t for t in _tokens_in(offsets, a, b) if t in span)
        found_words.append(base[a:b])
        pos = hit + 1
    seg.missing_attribute_words = missing
    return found_words, sorted(tokens)
