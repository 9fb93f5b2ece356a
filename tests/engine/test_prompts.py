"""Token spans in the base prompt, the attribute split, truncation, embedding substitution."""
from __future__ import annotations

import json

import pytest
import torch

from ast_core.document import Instance
from ast_core.prompts import (
    PromptError, analyse_prompts, analyse_text_block, encode_with_substitution, split_attributes,
)


@pytest.fixture(scope="module")
def t5(tiny_model):
    return tiny_model.pipeline.tokenizer_2


def _seed(seed_examples, name):
    d = json.loads((seed_examples / f"{name}.json").read_text())
    insts = [Instance(name=f"inst{k}", prompt=p) for k, p in enumerate(d["segments"][1:], 1)]
    return d["prompt"], d["segments"][0], insts


@pytest.mark.parametrize("name, count", [("beach", 6), ("living_room", 9), ("winter_night", 8)])
def test_seed_prompts_every_segment_found(t5, seed_examples, name, count):
    base, bg, insts = _seed(seed_examples, name)
    a = analyse_prompts(t5, base, bg, insts, 128)
    assert len(a.instances) == count and not a.truncated and not a.warnings
    assert a.ids == t5(base).input_ids  # the analysis reads the same ids as the pipeline
    for seg in a.segments:
        assert seg.span and seg.match == "exact", seg.name
        assert seg.span == list(range(seg.span[0], seg.span[-1] + 1))
        # the span's tokens spell the segment's prompt
        text = "".join(a.tokens[t] for t in seg.span).replace("▁", " ").strip()
        assert text == seg.prompt.strip()
    spans = [set(s.span) for s in a.segments]
    assert all(not (x & y) for i, x in enumerate(spans) for y in spans[i + 1:])


def test_beach_spans_in_detail(t5, seed_examples):
    base, bg, insts = _seed(seed_examples, "beach")
    a = analyse_prompts(t5, base, bg, insts, 128)
    assert a.background.matched_text == "a sunny beach"
    assert [a.tokens[t] for t in a.background.span] == ["▁a", "▁sunny", "▁beach"]
    chair = next(s for s in a.instances if s.prompt == "a green beach chair")
    assert [a.tokens[t] for t in chair.attribute_tokens] == ["▁green", "▁beach"]
    assert [a.tokens[t] for t in chair.instance_tokens] == ["▁a", "▁chair"]
    roles = a.token_roles()
    assert roles[chair.span[1]]["roles"] == [{"role": "attribute", "segment": "inst2", "instance_id": insts[1].id}]
    assert roles[a.background.span[0]]["roles"][0]["role"] == "background"
    assert roles[-1]["token"] == "</s>" and roles[-1].get("end")


@pytest.mark.parametrize("prompt, attributes", [
    ("a white goat", ["white"]),
    ("a man in a black coat", []),
    ("A man in a black coat with gold accents and gold boots", []),
    ("a green beach chair", ["green", "beach"]),
    ("two big brown dogs", ["big", "brown"]),
    ("several seagulls flying overhead", []),
    ("a boy playing with a beach ball", []),
    ("yellow curtains gently blowing in the breeze", ["yellow"]),
    ("a colorful painting", ["colorful"]),
    ("a white bookshelf filled with books", ["white"]),
    ("decorated Christmas tree", ["decorated", "Christmas"]),
    ("the old wooden door, half open", ["old", "wooden"]),
    ("goat", []),
])
def test_attribute_split(prompt, attributes):
    assert split_attributes(prompt) == attributes


def test_attribute_words_override_the_rule(t5):
    inst = Instance(name="goat", prompt="a white goat", attribute_words=["goat"])
    a = analyse_prompts(t5, "a white goat on a hill", "", [inst], 128)
    seg = a.instances[0]
    assert [a.tokens[t] for t in seg.attribute_tokens] == ["▁goat"]
    assert [a.tokens[t] for t in seg.instance_tokens] == ["▁a", "▁white"]
    none = analyse_prompts(t5, "a white goat", "", [Instance(name="g", prompt="a white goat", attribute_words=[])], 128)
    assert none.instances[0].attribute_tokens == []
    missing = analyse_prompts(t5, "a white goat", "", [Instance(name="g", prompt="a white goat",
                                                                attribute_words=["purple"])], 128)
    assert any("purple" in w and "'g'" in w for w in missing.warnings)


def test_case_whitespace_and_period_fallbacks(t5):
    insts = [Instance(name="car", prompt="a red  car."), Instance(name="man", prompt="a man")]
    a = analyse_prompts(t5, "A man next to A Red Car in the rain.", "", insts, 64)
    car, man = a.instances
    assert car.matched_text == "A Red Car" and car.match == "text"
    assert [a.tokens[t] for t in car.span] == ["▁A", "▁Red", "▁Car"]
    assert man.matched_text == "A man" and man.match == "text"
    exact = analyse_prompts(t5, "a red car.", "", [Instance(name="car", prompt="a red car.")], 64)
    assert exact.instances[0].match == "exact" and len(exact.instances[0].span) == 4  # period included


def test_repeated_text_takes_the_next_free_occurrence(t5):
    insts = [Instance(name="dog 1", prompt="a dog"), Instance(name="dog 2", prompt="a dog")]
    a = analyse_prompts(t5, "a dog and a dog", "", insts, 64)
    assert a.instances[0].span == [0, 1] and a.instances[1].span == [3, 4]


def test_missing_instance_text_names_instance_and_fix(t5):
    inst = Instance(name="Car", prompt="a red car")
    with pytest.raises(PromptError) as e:
        analyse_prompts(t5, "a blue house on a hill", "", [inst], 64)
    msg = str(e.value)
    assert "instance 'Car'" in msg and "add 'a red car' to the base prompt" in msg and "edit the instance prompt" in msg
    with pytest.raises(PromptError, match="background prompt 'a beach'.*add 'a beach'"):
        analyse_prompts(t5, "a blue house", "a beach", [], 64)
    with pytest.raises(PromptError, match="instance 'Empty' has no prompt"):
        analyse_prompts(t5, "a blue house", "", [Instance(name="Empty", prompt="  ")], 64)


def test_truncation_warns_and_names_instances_that_fell_off(t5):
    base = "a red car, " + "a quiet street, " * 10 + "a white goat and a blue house"
    insts = [Instance(name="Car", prompt="a red car"), Instance(name="Goat", prompt="a white goat"),
             Instance(name="House", prompt="a blue house")]
    a = analyse_prompts(t5, base, "", insts, 40)
    assert a.truncated and a.full_length > 40 and len(a.ids) == 40 and a.tokens[-1] == "</s>"
    assert a.ids == t5(base, max_length=40, truncation=True).input_ids  # what FLUX's T5 call reads
    car, goat, house = a.instances
    assert car.span and not goat.span and not house.span and goat.fell_off == 3
    assert len(a.warnings) == 1
    w = a.warnings[0]
    assert "fell off" in w and "instance 'Goat'" in w and "instance 'House'" in w and "'Car'" not in w
    assert all(t < 39 for s in a.segments for t in s.span)


def test_substitution_replaces_exactly_the_span_rows(tiny_model, seed_examples):
    pipe, arch = tiny_model.pipeline, tiny_model.architecture
    base, bg, insts = _seed(seed_examples, "beach")
    layout = arch.text_layout(tiny_model.family, 128)
    a = analyse_text_block(pipe, layout, base, bg, insts)
    cond = encode_with_substitution(pipe, arch, a, 128, 3.5)
    plain = arch.encode(pipe, base, 128, 3.5)
    assert cond.text.shape == plain.text.shape == (1, 128, 32)
    torch.testing.assert_close(cond.pooled, plain.pooled, rtol=0, atol=0)
    assert sorted(cond.substituted) == sorted(s.name for s in a.segments)
    in_spans = sorted(t for rows in a.segment_rows() for t in rows)
    changed = ((cond.text - plain.text).abs().sum(-1)[0] > 0).nonzero().flatten().tolist()
    assert changed == in_spans
    for seg in a.segments:  # each span holds the segment's own embedding (encoded alone, padded as the pipeline does)
        own = arch.encode(pipe, seg.prompt, 128, 3.5).text[0, : len(seg.span)]
        torch.testing.assert_close(cond.text[0, seg.span], own, rtol=0, atol=0)


def test_sd3_spans_and_substitution_cover_clip_and_t5_rows(tiny_sd3_model, seed_examples):
    """SD3's text block is 77 CLIP rows (row 0 the start token) then the T5 rows: each segment's
    span is found in both, and both parts of it hold the segment's own encoding."""
    pipe, arch = tiny_sd3_model.pipeline, tiny_sd3_model.architecture
    base, bg, insts = _seed(seed_examples, "beach")
    T = 64
    layout = arch.text_layout(tiny_sd3_model.family, T)
    assert [(p.name, p.offset, p.length, p.bos) for p in layout.parts] == [("clip", 0, 77, 1), ("t5", 77, T, 0)]
    a = analyse_text_block(pipe, layout, base, bg, insts)
    clip, t5 = a.parts
    rows = a.segment_rows()
    for s, seg in enumerate(a.segments):
        assert clip.segments[s].span and t5.segments[s].span, seg.name
        assert rows[s] == [1 + t for t in clip.segments[s].span] + [77 + t for t in t5.segments[s].span]
        # the CLIP ids of the span are the segment's own CLIP ids
        ids = pipe.tokenizer(seg.prompt.rstrip(".")).input_ids[1:-1]
        base_ids = pipe.tokenizer(base, truncation=True, max_length=77).input_ids
        assert [base_ids[1 + t] for t in clip.segments[s].span] == ids
    cond = encode_with_substitution(pipe, arch, a, T, 4.5)
    plain = arch.encode(pipe, base, T, 4.5)
    assert cond.text.shape == plain.text.shape == (1, 77 + T, 64)
    assert cond.negative_text is not None and torch.equal(cond.negative_text, plain.negative_text)
    changed = ((cond.text - plain.text).abs().sum(-1)[0] > 0).nonzero().flatten().tolist()
    assert changed == sorted({r for rs in rows for r in rs})
    for s, seg in enumerate(a.segments):
        own = arch.encode_alone(pipe, [seg.source_text], T)[0]
        n_clip, n_t5 = len(clip.segments[s].span), len(t5.segments[s].span)
        torch.testing.assert_close(cond.text[0, [1 + t for t in clip.segments[s].span]], own[1:1 + n_clip],
                                   rtol=0, atol=0)
        torch.testing.assert_close(cond.text[0, [77 + t for t in t5.segments[s].span]], own[77:77 + n_t5],
                                   rtol=0, atol=0)
