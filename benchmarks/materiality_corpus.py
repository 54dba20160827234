"""Evaluate the materiality verdict on real revisions labelled by a reviewer (issue 10).

    python benchmarks/materiality_corpus.py [CORPUS] [--brief]

``CORPUS`` is a folder laid out as ``../shared/corpus`` (its README describes it): version
files, ``labels.json`` and ``make-repos.sh``. It defaults to ``../shared/corpus`` beside the
main checkout of this repository (so that it is found from a git worktree too). The script
builds one git repository per document in a temporary folder, loads each with
:func:`terms.load` as content without front matter, and compares each labelled pair of
versions with :func:`terms.compare`, as the site and ``check`` do. A pair whose two texts
normalize to the same text is one version for termsledger: it counts as "not material" said.

It prints agreement with the high-confidence labels and with all of them, false alarms
(material said, not material labelled) and misses, a confusion table by document, and each
disagreement with the verdict's reasons beside the reviewer's (``--brief`` leaves those out).
Targets: 90 % agreement on high-confidence labels, at most 5 % false alarms among the
not-material revisions and 10 % misses among the material ones, the whole run under 15 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import terms  # noqa: E402


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """The verdict on one labelled pair beside its label."""

    document: str
    old: str
    new: str
    labelled: bool
    label_confidence: str
    label_reasons: tuple[str, ...]
    said: bool
    confidence: str
    """The verdict's confidence (``high``/``low``; ``-`` where the analysis gives none)."""
    score: float
    reasons: tuple[str, ...]
    note: str = ""
    """``same text`` for a pair that normalizes to one text, the error for a crash."""

    @property
    def agrees(self) -> bool:
        return self.said == self.labelled and not self.crashed

    @property
    def crashed(self) -> bool:
        return self.note.startswith("crash")


def default_corpus() -> Path:
    """``../shared/corpus`` beside the main checkout (the worktrees' common git folder's parent)."""
    try:
        common = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        main = Path(common).parent
    except (OSError, subprocess.CalledProcessError):
        main = REPO
    for root in (REPO, main):
        if (root.parent / "shared" / "corpus").is_dir():
            return root.parent / "shared" / "corpus"
    return REPO.parent / "shared" / "corpus"


def evaluate(corpus: Path, work: Path) -> list[Outcome]:
    """Build the repositories of ``corpus`` under ``work`` and judge every labelled pair."""
    subprocess.run(["bash", str(corpus / "make-repos.sh"), str(work)], check=True,
                   stdout=subprocess.DEVNULL)
    labels = json.loads((corpus / "labels.json").read_text(encoding="utf-8"))
    by_document: dict[str, list[dict]] = defaultdict(list)
    for label in labels:
        by_document[label["document"]].append(label)
    outcomes = []
    for name, pairs in by_document.items():
        (document,) = terms.load(work / name).documents.values()
        for label in pairs:
            # A day whose text is byte for byte the day before's is no commit of the file,
            # hence no version: the version in force that day has its text.
            old, new = (document.in_force(date.fromisoformat(label[key])) for key in ("old", "new"))
            outcomes.append(judge(label, old, new))
    return outcomes


def judge(label: dict, old: terms.Version, new: terms.Version) -> Outcome:
    """The verdict on one pair of versions beside its ``label``."""
    common = dict(document=label["document"], old=label["old"], new=label["new"],
                  labelled=label["material"], label_confidence=label["confidence"],
                  label_reasons=tuple(label["reasons"]))
    if old is new or old.content_sha256 == new.content_sha256:
        return Outcome(**common, said=False, confidence="high", score=0.0, reasons=(), note="same text")
    try:
        change = terms.compare(old, new)
    except Exception as error:  # a crash is a result to report, not to stop on
        where = traceback.extract_tb(error.__traceback__)[-1]
        return Outcome(**common, said=False, confidence="-", score=0.0, reasons=(),
                       note=f"crash: {type(error).__name__} at {Path(where.filename).name}:{where.lineno}")
    return Outcome(**common, said=change.material, confidence=getattr(change, "confidence", "-"),
                   score=change.score, reasons=change.reasons)


def percent(part: int, whole: int) -> str:
    return f"{part} of {whole} ({100 * part / whole:.0f} %)" if whole else f"{part} of 0"


def summary(outcomes: list[Outcome], seconds: float, cpu: float) -> list[str]:
    high = [o for o in outcomes if o.label_confidence == "high"]
    material = [o for o in outcomes if o.labelled]
    not_material = [o for o in outcomes if not o.labelled]
    sure = [o for o in outcomes if o.confidence == "high"]
    lines = [
        f"{len(outcomes)} labelled pairs of {len({o.document for o in outcomes})} documents, "
        f"evaluated in {seconds:.1f} s (CPU {cpu:.1f} s in this process; target < 15 s)",
        f"agreement with high-confidence labels: {percent(sum(o.agrees for o in high), len(high))}"
        "  (target >= 90 %)",
        f"agreement with all labels:             {percent(sum(o.agrees for o in outcomes), len(outcomes))}",
        f"false alarms (material said, not material labelled): "
        f"{percent(sum(o.said for o in not_material), len(not_material))}  (target <= 5 %)",
        f"misses (not material said, material labelled):       "
        f"{percent(sum(not o.said for o in material), len(material))}  (target <= 10 %)",
        f"pairs with the same normalized text: {sum(o.note == 'same text' for o in outcomes)}; "
        f"crashes: {sum(o.crashed for o in outcomes)}",
    ]
    if sure:
        lines.append(f"verdicts of high confidence: {len(sure)}, agreeing with the label: "
                     f"{percent(sum(o.agrees for o in sure), len(sure))}")
    return lines


def table(outcomes: list[Outcome]) -> list[str]:
    """Confusion counts by document: material said and labelled (tp), said only (fp),
    labelled only (fn), neither (tn)."""
    rows = [f"{'document':<22} {'pairs':>5} {'agree':>5} {'tp':>4} {'fp':>4} {'fn':>4} {'tn':>4}"]
    by_document: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_document[outcome.document].append(outcome)
    for name, group in [*by_document.items(), ("all", outcomes)]:
        counts = [sum(o.said == said and o.labelled == labelled for o in group)
                  for said, labelled in ((True, True), (True, False), (False, True), (False, False))]
        rows.append(f"{name:<22} {len(group):>5} {sum(o.agrees for o in group):>5} "
                    + " ".join(f"{n:>4}" for n in counts))
    return rows


def disagreements(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        if o.agrees:
            continue
        said = "material" if o.said else "not material"
        labelled = "material" if o.labelled else "not material"
        lines.append(f"{o.document} {o.old} -> {o.new}: said {said} (score {o.score:.2f}, "
                     f"confidence {o.confidence}), labelled {labelled} ({o.label_confidence})"
                     + (f" [{o.note}]" if o.note else ""))
        lines.extend(f"    verdict:  {reason}" for reason in o.reasons[:8])
        if len(o.reasons) > 8:
            lines.append(f"    verdict:  … and {len(o.reasons) - 8} more")
        lines.extend(f"    reviewer: {reason}" for reason in o.label_reasons)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=None,
                        help="the corpus folder (default: ../shared/corpus beside the main checkout)")
    parser.add_argument("--brief", action="store_true", help="leave out the list of disagreements")
    args = parser.parse_args()
    corpus = (args.corpus or default_corpus()).resolve()
    if not (corpus / "labels.json").is_file() or not (corpus / "make-repos.sh").is_file():
        sys.exit(f"error: {corpus} is not a corpus folder: it needs labels.json and make-repos.sh")
    start, start_cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="materiality-corpus-") as work:
        outcomes = evaluate(corpus, Path(work) / "repos")
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(f"materiality on {corpus}")
    print("\n".join(summary(outcomes, seconds, cpu)))
    print()
    print("\n".join(table(outcomes)))
    if not args.brief:
        print("\ndisagreements:")
        print("\n".join(disagreements(outcomes)) or "none")


if __name__ == "__main__":
    main()
