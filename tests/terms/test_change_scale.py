"""The change engine on revisions of unusual size and shape: it finishes, and its diff holds."""

from __future__ import annotations

import random
import signal
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import terms
from terms import words
from terms.words import word_diff

SYLLABLES = "ka lo mi ne ru sa te vo bi da fe gu ho ji pa qui ro su ta ve".split()


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    """Made-up words, as varied as a long policy's."""
    return sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(1, 4))) for _ in range(size)})


def prose(rng: random.Random, words: list[str], count: int) -> list[str]:
    """About ``count`` words in sentences of 8 to 25 words, in Zipf's proportions."""
    weights = [1 / rank for rank in range(1, len(words) + 1)]
    out: list[str] = []
    while len(out) < count:
        sentence = rng.choices(words, weights, k=rng.randint(8, 25))
        out.extend([sentence[0].capitalize(), *sentence[1:-1], sentence[-1] + "."])
    return out


def wrap(words: list[str], width: int) -> str:
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join(lines + [line])


def bullets(items: list[list[str]]) -> str:
    """A tight list (no blank line between items), one line per item."""
    return "\n".join("- " + " ".join(item) for item in items)


def revision(seed: int) -> tuple[str, str]:
    """A long policy and a revision of it shaped like a real one that broke the word diff:
    about 1,500 words added and 330 removed; every paragraph reflowed (wrapped at another
    width, or unwrapped), some rewritten; long list items reworded and new ones inserted
    between them (a run of lines of which none is kept); new lists inserted."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    sections = [([prose(rng, words, rng.randint(150, 250)) for _ in range(3)],
                 [prose(rng, words, 110) for _ in range(9)] if n in (2, 5) else [])
                for n in range(1, 9)]
    old = "\n\n".join("\n\n".join([f"## Part {n}", *(wrap(p, 80) for p in paragraphs)]
                                    + ([bullets(items)] if items else []))
                      for n, (paragraphs, items) in enumerate(sections, 1)) + "\n"
    revised = []
    for n, (paragraphs, items) in enumerate(sections, 1):
        body = [f"## Part {n}"]
        for p in paragraphs:
            p = list(p)
            if n in (3, 7):  # rewritten: words replaced, a sentence or two inserted
                for _ in range(25):
                    p[rng.randrange(len(p))] = rng.choice(words)
                at = rng.randrange(len(p))
                p[at:at] = prose(rng, words, 30)
            body.append(wrap(p, 72 if n % 2 else 10_000))
        if n in (4, 6):  # a new list
            body.append(bullets([prose(rng, words, 20) for _ in range(8)]))
        if items:  # items reworded, new ones inserted between them
            listed = []
            for item in items:
                item = list(item)
                for _ in range(8):
                    item[rng.randrange(len(item))] = rng.choice(words)
                listed.append(item)
                if rng.random() < 0.5:
                    listed.append(prose(rng, words, 60))
            body.append(bullets(listed))
        revised.append("\n\n".join(body))
    return old, "\n\n".join(revised) + "\n"


def test_large_reflowed_revision_with_lists_is_compared():
    old, new = revision(7)
    change = terms.compare(old, new)
    assert 1_300 <= change.words_added <= 2_600 and 250 <= change.words_removed <= 1_400, (
        change.words_added, change.words_removed)
    for section in change.sections:
        assert section.old_text == "".join(op.old for op in section.ops)
        assert section.new_text == "".join(op.new for op in section.ops)
    assert change.render().count("@@ Part") == 8
    ops = word_diff(old, new)
    assert "".join(op.old for op in ops) == old and "".join(op.new for op in ops) == new
    kept = sum(len(op.old.split()) for op in ops if op.tag == "equal")
    assert kept > 0.8 * len(old.split()), "the diff keeps the words that were kept"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=60), st.lists(st.integers(0, 6), max_size=60),
       st.integers(0, 40))
def test_alignment_of_long_stretches_holds(a, b, limit):
    """Whether stretches are aligned exactly or cut at anchors first, the opcodes cover both
    sequences in order, and what they call equal is equal."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(words, "_DIRECT_LIMIT", limit)
        ops = words.align(a, b)
    starts = [(i1, j1) for _, i1, _, j1, _ in ops]
    ends = [(i2, j2) for _, _, i2, _, j2 in ops]
    assert starts + [(len(a), len(b))] == [(0, 0)] + ends
    for tag, i1, i2, j1, j2 in ops:
        assert (a[i1:i2] == b[j1:j2]) if tag == "equal" else tag == {
            (True, True): "replace", (True, False): "delete", (False, True): "insert"}[i1 < i2, j1 < j2]
    assert all(x[0] != y[0] for x, y in zip(ops, ops[1:], strict=False) if "equal" in (x[0], y[0]))


@contextmanager
def finishing_within(seconds: int):
    """Fail a test that runs for more than ``seconds`` (a guard against quadratic time, far
    above what the work takes: the speed targets are measured in benchmarks/)."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_two_megabytes_of_one_unpunctuated_line_are_compared():
    rng = random.Random(3)
    words = vocabulary(rng, 5000)
    line = rng.choices(words, k=330_000)
    edited = list(line)
    for at in rng.sample(range(len(line)), 20):
        edited[at] = "refund"
    old, new = " ".join(line) + "\n", " ".join(edited) + "\n"
    assert len(old) > 2_000_000
    with finishing_within(60):
        change = terms.compare(old, new)
    assert (change.words_added, change.words_removed) == (20, 20)
    assert change.material and any("refund" in reason for reason in change.reasons)


ADVERSARIAL = [("<!--", 400_000), ("<a ", 400_000), ("](", 400_000), ("<x@", 400_000),
               ("section 1 ", 400_000), ("# a\n", 100_000)]


@pytest.mark.parametrize("piece, size", ADVERSARIAL)
def test_repeated_markup_is_compared_in_linear_time(piece, size):
    """Openings never closed, or headings all alike, repeated: each regular expression or
    search that went back over the text for each of them took quadratic time."""
    old = piece * (size // len(piece))
    with finishing_within(20):
        change = terms.compare(old, old[:size // 2] + "changed " + old[size // 2:])
    assert change.identical == (piece == "<!--")  # inside a comment left open, a change is no change


def test_heading_anchors_are_those_of_the_anchors_plugin():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin

    from terms.markdown import heading_slug, parse

    body = "".join(f"# {title}\n\n" for title in ["a", "a", "a-1", "a", "1. a", "b {#x}", "A", "a-2", "a"])
    plugin = MarkdownIt("commonmark").use(anchors_plugin, min_level=1, max_level=6, slug_func=heading_slug)
    ids = [t.attrGet("id") for t in parse(body) if t.type == "heading_open"]
    assert ids == [t.attrGet("id") for t in plugin.parse(body) if t.type == "heading_open"]
    assert ids == ["a", "a-1", "a-1-1", "a-2", "a-3", "b-x", "a-4", "a-2-1", "a-5"]
