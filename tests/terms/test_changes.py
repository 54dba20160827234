"""The change engine: sections paired across versions, word operations, rendering."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import terms
from terms.words import word_diff

OLD = """Opening words.

# 1. Fees

The fee is $10.

# 2. Refunds

Refunds within 14 days.

# 3. Privacy

We keep data safe.

# 4. Contact

Write to us.
"""


def statuses(change: terms.Change) -> list[tuple[str, str]]:
    return [(s.status, s.title) for s in change.sections]


def test_identical_texts():
    change = terms.compare(OLD, OLD)
    assert change.identical
    assert {s.status for s in change.sections} == {"unchanged"}
    assert (change.words_added, change.words_removed, change.score, change.material) == (0, 0, 0.0, False)
    assert change.render() == "no changes"


def test_modified_section_has_word_ops():
    change = terms.compare(OLD, OLD.replace("14 days", "7 days"))
    refunds = change.sections[2]
    assert (refunds.status, refunds.old_title, refunds.new_title) == ("modified", "2. Refunds", "2. Refunds")
    assert [(op.tag, op.old, op.new) for op in refunds.ops] == [
        ("equal", "# 2. Refunds\n\nRefunds within ", "# 2. Refunds\n\nRefunds within "),
        ("replace", "14", "7"), ("equal", " days.\n\n", " days.\n\n")]
    assert (refunds.words_added, refunds.words_removed) == (1, 1)
    assert (change.words_added, change.words_removed) == (1, 1)
    assert 0.7 < refunds.similarity < 1.0
    assert not change.identical


def test_moved_sections_keep_the_new_order():
    fees, refunds = "# 1. Fees\n\nThe fee is $10.\n\n", "# 2. Refunds\n\nRefunds within 14 days.\n\n"
    change = terms.compare(OLD, OLD.replace(fees + refunds, refunds + fees))
    assert statuses(change) == [("unchanged", ""), ("moved", "2. Refunds"), ("unchanged", "1. Fees"),
                                ("unchanged", "3. Privacy"), ("unchanged", "4. Contact")]
    assert change.sections[1].moved and not change.sections[1].renamed
    assert not change.material and change.reasons == ()


def test_renamed_and_renumbered_headings_pair_up():
    new = OLD.replace("# 2. Refunds", "# 2. Money back").replace("# 3. Privacy", "# 4. Privacy")
    change = terms.compare(OLD, new)
    money, privacy = change.sections[2], change.sections[3]
    assert (money.status, money.renamed, money.old_anchor, money.new_anchor) == (
        "modified", True, "refunds", "money-back")
    assert (privacy.status, privacy.renamed, privacy.old_anchor, privacy.new_anchor) == (
        "modified", False, "privacy", "privacy")


def test_removed_sections_stand_where_they_were():
    change = terms.compare(OLD, OLD.replace("# 2. Refunds\n\nRefunds within 14 days.\n\n", "")
                           + "\n# 5. Arbitration\n\nDisputes go to arbitration.\n")
    assert statuses(change) == [("unchanged", ""), ("unchanged", "1. Fees"), ("removed", "2. Refunds"),
                                ("unchanged", "3. Privacy"), ("unchanged", "4. Contact"),
                                ("added", "5. Arbitration")]
    removed, added = change.sections[2], change.sections[5]
    assert (removed.new_title, removed.new_anchor, removed.new_index,
            removed.old_index) == (None, None, None, 2)
    assert [op.tag for op in removed.ops] == ["delete"] and removed.similarity == 0.0
    assert (added.old_title, added.old_anchor, added.level, added.words_added) == (None, None, 1, 6)


def test_setext_headings_make_sections():
    old = "Fees\n====\n\nTen dollars.\n\nRefunds\n-------\n\nFourteen days.\n"
    change = terms.compare(old, old.replace("Fourteen days", "Seven days"))
    assert [(s.level, s.title, s.status) for s in change.sections] == [
        (1, "Fees", "unchanged"), (2, "Refunds", "modified")]


def test_versions_are_accepted_and_named_in_to_dict(content_repo):
    body = "---\ntitle: Terms\nslug: terms\neffective: {day}\n---\n{text}"
    content_repo.commit("2025-01-01", **{"terms.md": body.format(day="2025-01-01", text=OLD)})
    content_repo.commit("2025-02-01", **{"terms.md": body.format(
        day="2025-03-01", text=OLD.replace("$10", "$12"))})
    document = terms.load(content_repo.path).document("terms")
    old, new = document.versions
    change = terms.compare(old, new)
    assert (change.old, change.new) == (old, new)
    data = json.loads(json.dumps(change.to_dict()))
    assert {k: data[k] for k in ("document", "old", "new", "material", "flag")} == {
        "document": "terms", "old": "2025-01-01", "new": "2025-03-01", "material": True, "flag": None}
    assert data["reasons"] == ["Fee amount increased from $10 to $12 in section '1. Fees': “The fee is $12.”"]
    assert (data["summary"], data["confidence"]) == ("Fee amount increased from $10 to $12.", "high")
    assert data["sections"][1]["ops"][1] == {"tag": "replace", "old": "10", "new": "12"}


def test_a_section_whose_only_change_is_its_trailing_line_break_is_not_changed():
    """A section that moves to the end of the file (or from it) gains or loses the blank line
    before the next heading: that is no change (a version's text has no trailing whitespace)."""
    fees = "# 1. Fees\n\nThe fee is $10.\n\n"
    change = terms.compare(OLD, OLD.replace(fees, "") + "\n" + fees.rstrip("\n") + "\n")
    assert statuses(change) == [("unchanged", ""), ("unchanged", "2. Refunds"), ("unchanged", "3. Privacy"),
                                ("unchanged", "4. Contact"), ("moved", "1. Fees")]
    assert change.summary == "Sections were moved; their text did not change."
    edited = terms.compare(OLD, OLD.replace(fees, "") + "\n" + fees.replace("$10", "$12").rstrip("\n"))
    fees_change = edited.sections[-1]
    assert [op.tag for op in fees_change.ops] == ["equal", "replace", "equal"]
    assert (fees_change.old_text, fees_change.new_text) == (fees, fees.replace("$10", "$12").rstrip("\n"))
    assert "[-\n" not in edited.render() and "{+\n" not in edited.render()


REORDERED = ("# 1. Fees\n\nThe fee is $10. See section 3 for disputes.\n\n# 2. Accounts\n\nYou must be 16 or "
             "older.\n\n# 3. Governing law\n\nThe laws of Ireland apply.\n")
RENUMBERED = ("# 1. Accounts\n\nYou must be 16 or older.\n\n# 2. Governing law\n\nThe laws of Ireland "
              "apply.\n\n# 3. Fees\n\nThe fee is $10. See section 2 for disputes.\n")


def test_sections_only_renumbered_and_moved_say_so():
    change = terms.compare(REORDERED, RENUMBERED)
    assert [(s.title, s.renumbered, s.moved) for s in change.sections] == [
        ("1. Accounts", True, False), ("2. Governing law", True, False), ("3. Fees", True, True)]
    assert change.summary == "Sections were moved and renumbered; their wording did not change."
    assert "@@ 3. Fees (renumbered, moved) @@" in change.render()
    markdown = terms.render_markdown(change)
    assert "Renumbered only, not shown: 1. Accounts, 2. Governing law, 3. Fees." in markdown
    assert "<details>" not in markdown and "sections changed" not in markdown
    for edited, number in ((("# 3. Fees", "# 3. Charges"), 2), (("$10", "$12"), 2), (("be 16", "be 18"), 0)):
        assert not terms.compare(REORDERED, RENUMBERED.replace(*edited)).sections[number].renumbered, edited
    only = terms.compare(REORDERED, REORDERED.replace("# 2. Accounts", "# 4. Accounts"))
    assert only.summary == "Sections were renumbered; their wording did not change."


def test_render_with_and_without_markers():
    change = terms.compare(OLD, OLD.replace("Write to us.", "Write to us by post."))
    assert change.render(markers=True) == (
        "not material (high confidence, score 0.00)\n"
        "No change to rights or obligations found: contact details changed.\n\n"
        "@@ 4. Contact (modified) @@\n"
        "# 4. Contact\n\nWrite to us{+ by post+}.")
    assert change.render(markers=False) == (
        "not material (high confidence, score 0.00)\n"
        "No change to rights or obligations found: contact details changed.\n\n"
        "@@ 4. Contact (modified) @@")


def test_rich_rendering_colours_the_redline():
    from rich.console import Console

    console = Console(record=True, width=80, color_system="truecolor", force_terminal=True)
    console.print(terms.compare(OLD, OLD.replace("14 days", "7 days")))
    output = console.export_text(styles=True)
    assert "material (high confidence, score 0.70)" in output
    assert "Refund period shortened from 14 days to 7 days." in output
    assert "\x1b[" in output


def test_watch_argument_reaches_the_verdict():
    old, new = "We use cookies.\n", "We use many more cookies.\n"
    assert not terms.compare(old, new).material
    assert terms.compare(old, new, watch=("cookies",)).material


def test_unrelated_documents_are_all_added_and_removed():
    new = "# Shipping\n\nParcels leave within a week.\n\n# Warranty\n\nGoods carry the legal guarantee.\n"
    change = terms.compare(OLD, new)
    assert sorted(s.status for s in change.sections) == ["added", "added"] + ["removed"] * 5
    assert change.material


text = st.text(alphabet=st.characters(), max_size=300)
markdown = st.lists(st.sampled_from(["# Fees\n", "## 2. Refunds\n", "Title\n---\n", "\n", "text ",
                                     "14 days. ",
                                     "- item\n", "\r\n", "$10", "é ", "> # quoted\n", "    # code\n"]),
                    max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(text, text)
def test_word_ops_reproduce_both_texts(old, new):
    ops = word_diff(old, new)
    assert "".join(op.old for op in ops) == old
    assert "".join(op.new for op in ops) == new
    assert all(op.tag in {"equal", "insert", "delete", "replace"} for op in ops)
    assert all(op.old == op.new for op in ops if op.tag == "equal")


@settings(max_examples=300, deadline=None)
@given(st.one_of(text, markdown), st.one_of(text, markdown))
def test_sections_reproduce_both_documents(old, new):
    change = terms.compare(old, new)
    olds = sorted((s for s in change.sections if s.old_index is not None), key=lambda s: s.old_index)
    news = [s for s in change.sections if s.new_index is not None]
    assert "".join(s.old_text for s in olds) == old
    assert "".join(s.new_text for s in news) == new
    assert [s.new_index for s in news] == list(range(len(news)))
    assert 0.0 <= change.score <= 1.0
    assert change.identical or old != new
    assert not change.identical or old.split() == new.split()  # blank lines before a heading are no change


LINES = ["", "  ", "Foo", "bar *baz*", "# H", "## Same", "## Same", "#H", "####### x", "#", "# Foo #",
         "## `c` &amp;", "===", "=", "---", "--", "-", "- - -", "***", "___", "- item", "* item",
         "+ item", "1. one", "1) one", "2. two", "01. x", "37.", "-     code", "- # h", "- ---",
         "- **b**", "- 30 days", "- 1. x", "- - x", "-   ", "+", "  Foo", "    code", "> q", "```",
         "<div>", "[a]: /u", "[^1]: n", "a | b", "Foo\u00a0", "\u00a0", "\\# x", "2. # x", "1.5 m"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=12), st.sampled_from(["", "\n"]))
def test_quick_heading_scan_agrees_with_the_parser(lines, end):
    from terms.sections import _LINE, _block_tokens, _headings, _scan

    body = "\n".join(lines) + end
    quick = _scan(body, _LINE.findall(body))
    assert quick is None or quick == _headings(_block_tokens(body))


TITLE_LINES = [*LINES, "> # Quoted title", "- ## Listed title", "# See [a]", "Terms [a]", "[a]: /terms",
               "# Fees[^1]", "Title", "=====", "<!-- x -->", "\t# tab", "# Fees", "  ## Indented"]


@pytest.mark.parametrize("body", ["# See [a]\n# H\n[a]: /terms", "See [a]\n===\n\nH\n=\n\n[a]: /terms\n"])
def test_a_first_heading_made_a_link_by_a_definition_after_the_second_heading(body):
    from terms.sections import first_heading

    heading = first_heading(body)
    assert heading is not None and heading.text == "See a"


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(TITLE_LINES), max_size=12), st.sampled_from(["", "\n"]))
def test_first_heading_agrees_with_the_parser(lines, end):
    from terms.markdown import headings, parse
    from terms.sections import first_heading

    body = "\n".join(lines) + end
    found = headings(parse(body))
    assert first_heading(body) == (found[0] if found else None)


def test_pairs_of_sections_are_scored_once_across_pairs_of_versions(monkeypatch):
    from terms import pairing
    from terms.sections import split

    scored, ratios = [], pairing.ratios

    def counted(text, others, **options):
        scored.append((text, len(others)))
        return ratios(text, others, **options)

    monkeypatch.setattr(pairing, "ratios", counted)
    monkeypatch.setattr(pairing, "_SCORED", {})
    v1 = "## Fees\n\nTen euros a month.\n\n## Refunds\n\nWithin 14 days.\n\n## Law\n\nFrench law applies.\n"
    v2 = v1.replace("Ten euros", "Twelve euros")
    v3 = v2.replace("## Law\n\nFrench", "## Governing law\n\nIrish")
    assert pairing.pair(split(v1), split(v3)) == {0: 0, 1: 1, 2: 2}
    # the title, then the body, of the fees and of the law, each against both left (refunds are the same)
    assert [(" ".join(text).split()[0] if isinstance(text, tuple) else text.split()[0], count)
            for text, count in scored] == [
        ("fees", 2), ("ten", 2), ("law", 2), ("french", 2)]
    scored.clear()
    assert pairing.pair(split(v2), split(v3)) == {0: 0, 1: 1, 2: 2}
    assert scored == []  # the law of v2 is that of v1, scored already
    monkeypatch.setattr(pairing, "_SCORED", {})
    assert pairing.pair(split(v2), split(v3)) == {0: 0, 1: 1, 2: 2}
    assert [count for _, count in scored] == [1, 1]


def test_a_memo_keeps_what_comparing_finds_for_other_pairs_and_later_runs():
    old = ("# Fees\n\nYou pay 10 euros a month. We may change it.\n\n# Refunds\n\nWithin 14 days.\n\n"
           "# Law\n\nFrench law applies.\n")
    mid = old.replace("14 days", "7 days")
    new = mid.replace("French", "Irish") + "\n# Notices\n\nWe write to you first.\n"
    plain = {pair: terms.compare(*pair).to_dict() for pair in ((old, new), (mid, new))}
    first = terms.Memo(version="1")
    assert terms.compare(old, new, memo=first).to_dict() == plain[old, new]
    found, used = first.take()
    assert found and used == set()
    kept = {key: json.dumps(value) for key, value in found.items()}  # as a build cache keeps them
    # A later run: the same pair is all found in what was kept, another mostly.
    later = terms.Memo(kept, version="1")
    assert terms.compare(old, new, memo=later).to_dict() == plain[old, new]
    assert later.take() == ({}, set(kept))
    assert terms.compare(mid, new, memo=later).to_dict() == plain[mid, new]
    fresh = terms.Memo(version="1")
    terms.compare(mid, new, memo=fresh)
    assert 0 < len(later.take()[0]) < len(fresh.take()[0])  # what the pairs share was read once
    # Another version of the analysis finds everything again.
    other = terms.Memo(kept, version="2")
    assert terms.compare(old, new, memo=other).to_dict() == plain[old, new]
    again, used = other.take()
    assert used == set() and len(again) == len(found) and not set(again) & set(found)


@pytest.mark.parametrize("old, new", [
    ("30 days after you cancel, we delete your data.\n\n## Fees\n\nThe fee is 10 EUR.\n",
     "1 days after you cancel, we delete your data.\n\n## Fees\n\nThe fee is 10 EUR.\n"),
    ("# Terms\n\nIntro.\n\n## 30 days money-back guarantee\n\nYou get your money back.\n",
     "# Terms\n\nIntro.\n\n## 14 days money-back guarantee\n\nYou get your money back.\n"),
])
def test_a_number_a_section_starts_with_is_not_taken_for_its_numbering(old, new):
    """A quantity at the start of the opening text or of a heading is a change, shown, not a
    renumbering folded away (and summarised as 'their wording did not change')."""
    change = terms.compare(old, new)
    assert not any(section.renumbered for section in change.sections)
    assert "Renumbered only" not in terms.render_markdown(change)
    assert "did not change" not in change.summary


@pytest.mark.parametrize("old, new", [("## 3. Fees", "## 4. Fees"), ("## 3.1 Fees", "## 3.2 Fees"),
                                      ("## § 3 Fees", "## § 4 Fees"), ("## 3) Fees", "## 4) Fees")])
def test_a_heading_numbered_as_a_section_is_renumbered(old, new):
    change = terms.compare(f"# T\n\nIntro.\n\n{old}\n\nThe fee is 10 EUR.\n",
                           f"# T\n\nIntro.\n\n{new}\n\nThe fee is 10 EUR.\n")
    assert [s.renumbered for s in change.sections if s.status == "modified"] == [True]
