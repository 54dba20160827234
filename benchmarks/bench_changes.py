"""Benchmark of the change engine (terms.compare) on synthetic legal-ish documents.

Run: ``python benchmarks/bench_changes.py``. Targets (issue 3): a 5-section revision of a
60 KB document under 30 ms; the 29 consecutive pairs of a 30-version 60 KB history under
0.5 s; two unrelated 200 KB documents under 2 s. Issue 9: 2 MB of one unpunctuated line,
20 words edited, under 5 s, in time near-linear in its length (the time per MB is printed
for 0.25 to 2 MB), beside the quadratic ``difflib.SequenceMatcher`` the analysis used before
on the words of such a line. Timings are cold: the change engine's caches are cleared first,
so every version is parsed and every edit analysed.
"""

from __future__ import annotations

import random
import time
from difflib import SequenceMatcher

import terms
from terms import changes, clauses, edits, materiality, pairing, prose, quantities, sections, words

SUBJECTS = ["You", "We", "The Customer", "Each party", "The Provider", "Any Affiliate"]
VERBS = ["may", "must", "shall not", "will", "agree to", "are entitled to"]
ACTIONS = ["terminate the Agreement", "request a refund", "share personal data with third parties",
           "suspend access to the Service", "pay the applicable fees", "export their content",
           "notify the other party in writing", "resolve disputes by arbitration",
           "limit liability for indirect damages", "cancel the subscription"]
CONDITIONS = ["within {n} days of the invoice date", "after giving {n} days' notice",
              "for a fee of ${n}", "subject to the limits in section {s}", "unless required by law",
              "to the extent permitted by the governing law", "at any time and for any reason",
              "provided that the account has been active for {n} months"]
TOPICS = ["Definitions", "Accounts", "Fees and Payment", "Refunds", "Cancellation", "Termination",
          "Suspension", "Personal Data", "Third-Party Services", "Intellectual Property",
          "Acceptable Use", "Warranties", "Limitation of Liability", "Indemnification",
          "Arbitration", "Governing Law", "Changes to These Terms", "Notices", "Export Controls",
          "Assignment", "Force Majeure", "Severability", "Entire Agreement", "Contact"]


def sentence(rng: random.Random) -> str:
    condition = rng.choice(CONDITIONS).format(n=rng.choice([7, 14, 30, 60, 90]), s=rng.randint(1, 40))
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(ACTIONS)} {condition}."


def paragraph(rng: random.Random) -> str:
    """A paragraph wrapped at about 80 columns, as editors write them."""
    words = " ".join(sentence(rng) for _ in range(rng.randint(3, 7))).split()
    lines, line = [], ""
    for word in words:
        if len(line) + len(word) > 80:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join(lines + [line])


def document(rng: random.Random, size: int) -> list[list[str]]:
    """Sections (heading, paragraphs...) totalling about ``size`` characters."""
    sections, total = [], 0
    while total < size:
        n = len(sections) + 1
        body = [paragraph(rng) for _ in range(rng.randint(2, 4))]
        if rng.random() < 0.2:
            body.append("\n".join(f"- {sentence(rng)}" for _ in range(rng.randint(2, 5))))
        heading = f"## {n}. {rng.choice(TOPICS)}"
        sections.append([heading] + body)
        total += sum(len(p) + 2 for p in sections[-1])
    return sections


def text(sections: list[list[str]]) -> str:
    return "# Terms of Service\n\n" + "\n\n".join("\n\n".join(s) for s in sections) + "\n"


def revise(rng: random.Random, sections: list[list[str]], touched: int = 5) -> list[list[str]]:
    """A revision: ``touched`` sections get a number changed, a sentence or a paragraph
    rewritten; sometimes a section moves."""
    sections = [list(s) for s in sections]
    for index in rng.sample(range(len(sections)), touched):
        section = sections[index]
        p = rng.randrange(1, len(section))
        kind = rng.random()
        if kind < 0.4:
            section[p] = section[p].replace(" 14 days", " 30 days", 1).replace("$", "EUR ", 1)
        elif kind < 0.8:
            section[p] = section[p].rsplit(". ", 1)[0] + ". " + sentence(rng)
        else:
            section[p] = paragraph(rng)
    if rng.random() < 0.3:
        sections.insert(rng.randrange(len(sections)), sections.pop(rng.randrange(len(sections))))
    return sections


def clear_caches() -> None:
    """Forget what the change engine cached (sections, edits, sentences), as in a new process."""
    for module in (changes, clauses, edits, materiality, pairing, prose, quantities, sections, words):
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__:
                for attribute in vars(value).values():  # methods cached on a class
                    if hasattr(attribute, "cache_clear"):
                        attribute.cache_clear()
            elif hasattr(value, "cache_clear") and value.__module__ == module.__name__:
                value.cache_clear()


def cold(function) -> str:
    """Best of five runs, each with the change engine's caches cleared: wall-clock and CPU
    milliseconds (the CPU figure is the steadier one on a busy machine)."""
    wall = cpu = float("inf")
    for _ in range(5):
        clear_caches()
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return f"{wall * 1000:.1f} ms (CPU {cpu * 1000:.1f} ms)"


def long_line(rng: random.Random, size: int) -> tuple[str, str]:
    """The sentences of :func:`sentence` run together without punctuation into one line of
    about ``size`` characters, and the same with 20 words replaced."""
    words: list[str] = []
    length = 0
    while length < size:
        words.extend(sentence(rng).replace(".", "").replace(",", "").split())
        length = len(words) + sum(map(len, words))  # joined by spaces
    edited = list(words)
    for at in rng.sample(range(len(words)), 20):
        edited[at] = rng.choice(TOPICS).split()[0].lower()
    return " ".join(words) + "\n", " ".join(edited) + "\n"


def once(function) -> tuple[float, float]:
    """Seconds one cold run takes, wall-clock and CPU (for runs too long to repeat)."""
    clear_caches()
    start, start_cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - start, time.process_time() - start_cpu


def main() -> None:
    rng = random.Random(3)
    base = document(rng, 60_000)
    old, new = text(base), text(revise(rng, base))
    timing = cold(lambda: terms.compare(old, new))
    change = terms.compare(old, new)
    print(f"one revision of a {len(old) / 1000:.0f} KB document ({len(change.sections)} sections, "
          f"{sum(s.status != 'unchanged' for s in change.sections)} changed): {timing} (target < 30 ms)")

    history = [base]
    for _ in range(29):
        history.append(revise(rng, history[-1]))
    versions = [text(s) for s in history]
    timing = cold(lambda: [terms.compare(a, b) for a, b in zip(versions, versions[1:], strict=False)])
    print(f"29 consecutive pairs of a 30-version history (~{len(versions[-1]) / 1000:.0f} KB each): "
          f"{timing} (target < 500 ms)")

    first, second = text(document(random.Random(1), 200_000)), text(document(random.Random(2), 200_000))
    timing = cold(lambda: terms.compare(first, second))
    print(f"two unrelated documents of {len(first) / 1000:.0f} KB and {len(second) / 1000:.0f} KB: "
          f"{timing} (target < 2000 ms)")

    for size in (250_000, 500_000, 1_000_000, 2_000_000):
        old, new = long_line(random.Random(size), size)
        seconds, cpu = once(lambda old=old, new=new: terms.compare(old, new))
        print(f"one unpunctuated line of {len(old) / 1e6:.2f} MB, 20 words edited: {seconds:.2f} s "
              f"(CPU {cpu:.2f} s, {cpu / len(old) * 1e6:.2f} s per MB)"
              + (" (target < 5 s)" if size == 2_000_000 else ""))
    for size in (56_000, 113_000):
        old, new = long_line(random.Random(size), size)
        a, b = old.split(), new.split()
        seconds, cpu = once(lambda a=a, b=b: SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
        print(f"  baseline, difflib.SequenceMatcher over the words of {len(old) / 1000:.0f} KB of it "
              f"(the step used before): {seconds:.2f} s (CPU {cpu:.2f} s)")


if __name__ == "__main__":
    main()
