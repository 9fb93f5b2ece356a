"""The attribute/instance split of an instance prompt, by a built-in rule (no model download).

The AST demo splits "a white goat" into the attribute "white" and the instance "goat"
with a dependency parser (adjectives and compound modifiers of the first noun chunk's
root). AST Studio approximates that with a word rule:

1. Split the prompt into words (letters, digits, apostrophes and hyphens).
2. Skip leading determiners, quantifiers and numbers ("a", "the", "several", "two"...).
3. The first noun phrase runs from there up to the first *boundary*: a preposition or
   conjunction ("in", "with", "and", "of"...), a relative word ("that", "who"...), a
   comma, a participle ("-ing"/"-ed") that follows a word and is followed by a preposition,
   determiner or adverb ("a boy playing with", "seagulls flying overhead"; a participle
   that ends the prompt is a noun: "a colorful painting"), or an "-ly" adverb followed by
   a participle or a preposition ("gently blowing").
4. The last word of that phrase is the head noun (the instance); the words before it are
   the attributes: adjectives, colours, materials, compound modifiers.

"a white goat" -> ["white"]; "a green beach chair" -> ["green", "beach"];
"a man in a black coat" -> [] (head "man"); "yellow curtains gently blowing" -> ["yellow"].
``Instance.attribute_words`` (when not None) replaces the rule for that instance.
"""
from __future__ import annotations

import re

WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")

DETERMINERS = frozenset("""
a an the some several many few a few lots lot of this that these those each every all both any no
my your his her its our their one two three four five six seven eight nine ten eleven twelve
dozen dozens couple pair group various numerous multiple
""".split()) - {"of", "lot", "lots"}

BOUNDARIES = frozenset("""
in on of at by for from to into onto over under above below behind beside besides between near next
inside outside around through across along against among toward towards with without within upon
and or but nor while that which who whom whose where when as like than
is are was were be being been has have had
""".split())

TRAILING_ADVERBS = frozenset("""
overhead nearby together away around outside inside down up above below off out there here
""".split())

_NOT_ADVERBS = frozenset("family lily jelly belly butterfly dragonfly holly ally rally italy july fly".split())


def words(text: str) -> list[re.Match]:
    return list(WORD.finditer(text))


def _is_participle(w: str) -> bool:
    return len(w) > 4 and (w.endswith("ing") or w.endswith("ed"))


def _is_adverb(w: str) -> bool:
    return len(w) > 4 and w.endswith("ly") and w not in _NOT_ADVERBS


def split_attributes(prompt: str) -> list[str]:
    """The attribute words of an instance prompt, in order, as they are written."""
    matches = words(prompt)
    low = [m.group(0).lower() for m in matches]
    i = 0
    while i < len(low) and (low[i] in DETERMINERS or low[i].isdigit()):
        i += 1
    phrase: list[int] = []
    for j in range(i, len(low)):
        w = low[j]
        nxt = low[j + 1] if j + 1 < len(low) else None
        if w in BOUNDARIES:
            break
        if phrase and _comma_between(prompt, matches[j - 1], matches[j]):
            break
        if phrase and _is_participle(w) and nxt is not None and (
            nxt in BOUNDARIES or nxt in DETERMINERS or nxt in TRAILING_ADVERBS or _is_adverb(nxt)
        ):
            break
        if phrase and _is_adverb(w) and (nxt is None or _is_participle(nxt) or nxt in BOUNDARIES):
            break
        phrase.append(j)
    if len(phrase) < 2:
        return []
    return [matches[k].group(0) for k in phrase[:-1]]


def _comma_between(text: str, a: re.Match, b: re.Match) -> bool:
    return any(c in ",;:()" for c in text[a.end() : b.start()])
