"""Tokenizers of the built-in tiny-flux model, built in code (no downloads).

* T5-style: a Unigram model (SentencePiece-like) over ``▁word`` pieces of the tiny
  vocabulary (lower-case and Capitalised), with single characters as the fallback for
  any other word; ``<pad>`` = 0, ``</s>`` = 1, ``<unk>`` = 2; every sequence ends with
  ``</s>``. Wrapped as transformers' ``T5TokenizerFast``.
* CLIP-style: a byte-level BPE learnt once from the same word list (frozen in
  ``tiny_clip_merges.txt``; lower-cased, ``</w>`` word ends), with ``<|startoftext|>``/``<|endoftext|>``. Wrapped as
  ``CLIPTokenizer``.
"""
from __future__ import annotations

import string

from .tiny_vocabulary import WORDS

CLIP_MAX_LENGTH = 77
_PUNCTUATION = ".,;:!?'\"()-&/"


def _words() -> list[str]:
    seen: dict[str, None] = {}
    for w in WORDS:
        seen.setdefault(w.lower(), None)
    return list(seen)


def t5_vocabulary() -> list[tuple[str, float]]:
    """(piece, log-probability) pairs: specials, whole words, then characters (the fallback)."""
    vocab: list[tuple[str, float]] = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -8.0)]
    seen = {p for p, _ in vocab}

    def add(piece: str, score: float) -> None:
        if piece not in seen:
            seen.add(piece)
            vocab.append((piece, score))

    for w in _words():
        add("▁" + w, -6.0)
        add("▁" + w.capitalize(), -6.5)
    for c in string.ascii_letters + string.digits + _PUNCTUATION:
        add("▁" + c, -11.0)
        add(c, -10.0)
    return vocab


def build_t5_tokenizer(model_max_length: int = 512):
    from transformers import T5TokenizerFast

    return T5TokenizerFast(vocab=t5_vocabulary(), extra_ids=0, model_max_length=model_max_length)


def clip_vocabulary() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Byte-level BPE vocabulary and merges: specials, every byte (also as a word end), then each merge's result."""
    from tokenizers.pre_tokenizers import ByteLevel

    from importlib.resources import files

    text = files(__package__).joinpath("tiny_clip_merges.txt").read_text(encoding="utf-8")
    MERGES = [line for line in text.splitlines() if line and not line.startswith("#")]

    alphabet = sorted(ByteLevel.alphabet())
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in alphabet:
        vocab.setdefault(ch, len(vocab))
    for ch in alphabet:
        vocab.setdefault(ch + "</w>", len(vocab))
    merges: list[tuple[str, str]] = []
    for line in MERGES:
        a, b = line.split(" ")
        merges.append((a, b))
        vocab.setdefault(a + b, len(vocab))
    return vocab, merges


def build_clip_tokenizer():
    from transformers import CLIPTokenizer

    vocab, merges = clip_vocabulary()
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=CLIP_MAX_LENGTH)
