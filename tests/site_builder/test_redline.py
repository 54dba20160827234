"""Rendered redlines: each construct of a document reads as on its page, with changes marked
inside it; random pairs of small documents always give well-formed HTML whose text is the
new version's without the deletions and the old one's without the insertions."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from site_builder.htmldiff import diff_html
from site_builder.redline import redline
from site_builder.render import render_section
from terms import compare

_VOID = {"br", "hr", "img", "col", "wbr"}
_BLOCKS = {"p", "li", "ul", "ol", "table", "tr", "td", "th", "thead", "tbody", "blockquote", "pre", "hr",
           "h1", "h2", "h3", "h4", "h5", "h6", "section", "div"}
_MARKDOWN = re.compile(r"\]\(|\*\*|__|`|^#|\|\s*-{3}|\* \* \*|\[\^", re.MULTILINE)


class _Reader(HTMLParser):
    """Checks that a fragment is balanced, that marks hold no block and no other mark, and
    collects its text without the elements named in ``skip``."""

    def __init__(self, skip: set[str] = frozenset()):
        super().__init__(convert_charrefs=True)
        self.skip = skip
        self.stack: list[tuple[str, bool]] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        marks = [t for t, _ in self.stack if t in ("ins", "del")]
        if marks and (tag in ("ins", "del") or tag in _BLOCKS):
            self.problems.append(f"<{tag}> inside <{marks[-1]}>")
        skipped = tag in self.skip or ("class", "link-note") in attrs
        self.stack.append((tag, skipped or any(s for _, s in self.stack)))

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1][0] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1][1]):
            self.text.append(data)


def read(html: str, skip: set[str] = frozenset()) -> tuple[list[str], str]:
    """The problems of ``html`` and its text without ``skip`` elements, spaces removed."""
    reader = _Reader(set(skip))
    reader.feed(html)
    reader.close()
    problems = reader.problems + [f"<{tag}> never closed" for tag, _ in reader.stack]
    return problems, "".join("".join(reader.text).split())


def check_marked(old_html: str, new_html: str, marked: str) -> None:
    problems, _ = read(marked)
    assert problems == [], (problems, marked)
    assert read(marked, {"del"})[1] == read(new_html)[1], marked
    assert read(marked, {"ins"})[1] == read(old_html)[1], marked


# Small Markdown documents made of the constructs Terms use, from a few words.
WORDS = ("refund", "days", "account", "we", "may", "must", "share", "data", "fee", "notice", "section",
         "14", "7", "30", "Tutor")
word = st.sampled_from(WORDS)
words = st.lists(word, min_size=1, max_size=3).map(" ".join)
target = st.sampled_from(("refund.md", "privacy.md#data", "https://example.com/a", "#fees"))
marked = (  # the inline pieces of both kinds of documents below
    word, word, word,
    words.map(lambda w: f"*{w}*"),
    words.map(lambda w: f"**{w}**"),
    st.tuples(words, target).map(lambda p: f"[{p[0]}]({p[1]})"),
    word.map(lambda w: f"`{w}`"),
    word.map(lambda w: f"![{w}](images/{w}.png)"),
)
inline = st.one_of(*marked, word.map(lambda w: f"<b>{w}</b>"))
line = st.lists(inline, min_size=1, max_size=8).map(" ".join)
block = st.one_of(
    line, line, line,
    st.tuples(st.integers(1, 12), words).map(lambda p: f"## {p[0]}. {p[1]}"),
    st.lists(line, min_size=1, max_size=4).map(lambda items: "\n".join(f"- {i}" for i in items)),
    st.lists(line, min_size=1, max_size=3).map(
        lambda items: "\n".join(f"{n}. {i}" for n, i in enumerate(items, 1))),
    st.lists(st.tuples(line, line), min_size=1, max_size=3).map(
        lambda rows: "| A | B |\n|:--|--:|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)),
    line.map(lambda text: f"> {text}"),
    st.tuples(line, line).map(lambda p: f"- {p[0]}\n  - {p[1]}"),
    st.tuples(line, line).map(lambda p: f"{p[0]}  \n{p[1]}"),
    words.map(lambda w: f"```\n{w}\n```"),
    st.just("* * *"),
)
document = st.lists(block, min_size=1, max_size=6)


@st.composite
def edited(draw, blocks: list[str]) -> list[str]:
    """``blocks`` with some kept, some dropped, some with a word or link changed, some added."""
    new = []
    for text in blocks:
        action = draw(st.sampled_from(("keep", "keep", "drop", "edit", "add")))
        if action == "add":
            new.append(draw(block))
        if action == "edit":
            found = [m for m in re.finditer(r"\w+(?:\.md)?", text)]
            if found:
                spot = draw(st.sampled_from(found))
                text = text[:spot.start()] + draw(st.sampled_from((*WORDS, "terms.md"))) + text[spot.end():]
        if action != "drop":
            new.append(text)
    return new


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_pairs_of_documents(data):
    old_blocks = data.draw(document)
    new_blocks = data.draw(st.one_of(edited(old_blocks), document))
    old, new = "\n\n".join(old_blocks) + "\n", "\n\n".join(new_blocks) + "\n"
    change = compare(old, new)
    marked = redline(change)
    assert len(marked.sections) == len(change.sections)
    for section, shown in zip(change.sections, marked.sections, strict=True):
        a = render_section(section.old_text) if section.old_text else None
        b = render_section(section.new_text) if section.new_text else None
        for part in ("heading", "body"):
            html = shown.heading if part == "heading" else shown.html
            own = read(getattr(a, part) if a else "")[1] + read(getattr(b, part) if b else "")[1]
            if not _MARKDOWN.search(own):  # else the versions show it as text too (in raw HTML)
                assert not _MARKDOWN.search(read(html, {"del"})[1] + read(html, {"ins"})[1]), html
            check_marked(getattr(a, part) if a else "", getattr(b, part) if b else "",
                         re.sub(r"termsledger-(?:old|new):", "", html))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="<>/&abp \"'", max_size=12), max_size=6),
       st.lists(st.text(alphabet="<>/&abp \"'", max_size=12), max_size=6))
def test_any_text_in_cells_stays_in_its_cell(old_cells, new_cells):
    def table(cells):
        return "<table><tbody><tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr></tbody></table>"

    from markupsafe import escape
    old = table([str(escape(c)) for c in old_cells])
    new = table([str(escape(c)) for c in new_cells])
    check_marked(old, new, diff_html(old, new).html)


def test_a_changed_link_target_is_noted_on_the_link():
    marked = diff_html('<p>See the <a href="refund.md">Refund Policy</a>.</p>',
                       '<p>See the <a href="refunds.md">Refund Policy</a>.</p>')
    assert marked.html == ('<p>See the <a href="refunds.md">Refund Policy</a><span class="link-note"> (link '
                           'changed; <a href="refund.md">where it used to lead</a>)</span>.</p>\n')
    assert marked.relinked == 1 and marked.changed
    unlinked = diff_html('<p>See <a href="a.md">this</a>.</p>', "<p>See this.</p>").html
    assert unlinked == ('<p>See this<span class="link-note"> (link removed; <a href="a.md">where it used to '
                        'lead</a>)</span>.</p>\n')
    linked = diff_html("<p>See this.</p>", '<p>See <a href="a.md">this</a>.</p>').html
    assert linked == '<p>See <a href="a.md">this</a><span class="link-note"> (link added)</span>.</p>\n'


def test_a_changed_table_cell_is_marked_in_its_cell():
    table = "| Plan | Refund window |\n|:--|--:|\n| Monthly | {} |\n| Annual | 30 days |\n"
    old = render_section(table.format("14 days")).body
    new = render_section(table.format("7 days")).body
    marked = diff_html(old, new).html
    assert '<td class="align-right"><del>14</del><ins>7</ins> days</td>' in marked
    assert marked.count("<tr>") == 3 and marked.count("<td") == 4
    # A row removed while another changed: the rows keep their cells, each change in its cell.
    fewer = render_section("| Plan | Price | Refund window |\n|:--|--:|--:|\n"
                           "| Monthly | $35 | 7 days |\n").body
    more = render_section("| Plan | Price | Refund window |\n|:--|--:|--:|\n| Monthly | $29 | 14 days |\n"
                          "| Annual | $290 | 30 days |\n").body
    marked = diff_html(more, fewer).html
    assert ('<tr><td class="align-left">Monthly</td><td class="align-right">$<del>29</del><ins>35</ins></td>'
            '<td class="align-right"><del>14</del><ins>7</ins> days</td></tr>') in marked
    assert ('<tr><td class="align-left"><del>Annual</del></td><td class="align-right"><del>$290</del></td>'
            '<td class="align-right"><del>30 days</del></td></tr>') in marked
    assert marked.count("<tr>") == 3
    rewritten = diff_html("<table><tr><td>a</td><td>fourteen</td></tr></table>",
                          "<table><tr><td>a</td><td>seven</td></tr></table>").html
    assert rewritten == "<table><tr><td>a</td><td><del>fourteen</del><ins>seven</ins></td></tr>\n</table>\n"


def test_an_inserted_list_item_is_an_inserted_item():
    old = render_section("- Refunds\n- Notices\n").body
    new = render_section("- Refunds\n- Payments by card\n- Notices\n").body
    assert diff_html(old, new).html == ("<ul><li>Refunds</li>\n<li><ins>Payments by card</ins></li>\n"
                                        "<li>Notices</li>\n</ul>\n")
    removed = diff_html(new, old).html
    assert "<li><del>Payments by card</del></li>" in removed and removed.count("<ul>") == 1


def test_an_item_that_gains_a_nested_list_keeps_its_own_text_unmarked():
    item, other = "- Partial refunds are possible.\n", "- Another item.\n"
    nested = "  - Only within 14 days.\n"
    old = render_section(item + other).body
    new = render_section(item + nested + other).body
    assert diff_html(old, new).html == ("<ul><li>Partial refunds are possible.<ul><li><ins>Only within 14 "
                                        "days.</ins></li>\n</ul>\n</li>\n<li>Another item.</li>\n</ul>\n")
    removed = diff_html(new, old).html
    assert "<li>Partial refunds are possible.<ul><li><del>Only within 14 days.</del>" in removed
    # a word of the item changed too: only that word, not the full stop after it
    reworded = render_section(item.replace("possible", "available") + nested + other).body
    marked = diff_html(old, reworded)
    assert marked.html.startswith("<ul><li>Partial refunds are <del>possible</del><ins>available</ins>."
                                  "<ul><li><ins>Only within 14 days.</ins></li>")
    assert [(e.old, e.new) for e in marked.edits] == [("possible", "available"), ("", "Only within 14 days.")]
    assert diff_html(reworded, old).html.startswith("<ul><li>Partial refunds are <del>available</del>"
                                                    "<ins>possible</ins>.<ul><li><del>Only within 14 days.")
    # a nested list much longer than the item: still the same item, in the same list
    long = "  - Except for digital goods already downloaded, which are never refunded.\n"
    fee = "- Fee: 10 euros.\n"
    marked = diff_html(render_section(fee).body, render_section(fee + long).body)
    assert marked.html == ("<ul><li>Fee: 10 euros.<ul><li><ins>Except for digital goods already downloaded, "
                           "which are never refunded.</ins></li>\n</ul>\n</li>\n</ul>\n")


def test_a_cell_or_quote_that_gains_a_block_keeps_its_own_text_unmarked():
    cell = "<table><tr><td>{}</td><td>Card</td></tr></table>"
    marked = diff_html(cell.format("Refunds are possible."),
                       cell.format("Refunds are available.<ul><li>Within 14 days.</li></ul>")).html
    assert marked == ("<table><tr><td>Refunds are <del>possible</del><ins>available</ins>.<ul><li>"
                      "<ins>Within 14 days.</ins></li>\n</ul>\n</td><td>Card</td></tr>\n</table>\n")
    quoted = diff_html("<blockquote>Refunds are available.<p>Within 14 days.</p></blockquote>",
                       "<blockquote>Refunds are possible.</blockquote>").html
    assert quoted == ("<blockquote>Refunds are <del>available</del><ins>possible</ins>.<p><del>Within 14 "
                      "days.</del></p>\n</blockquote>\n")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(word, min_size=1, max_size=8), min_size=1, max_size=4),
       st.lists(st.lists(word, min_size=1, max_size=12), min_size=1, max_size=3),
       st.sampled_from((".", ";", ":", "")), st.data())
def test_an_item_that_gains_or_loses_a_nested_list_shows_that_change_alone(items, nested, stop, data):
    """Marked: the nested list, and the word of the item that changed if one did; never the
    item's other words or punctuation."""
    at = data.draw(st.integers(0, len(items) - 1))
    changed = data.draw(st.integers(-1, len(items[at]) - 1))  # -1: the item's own text is kept
    after, word_old, word_new = list(items), "", ""
    if changed >= 0:
        word_old = items[at][changed]
        word_new = data.draw(st.sampled_from([w for w in WORDS if w != word_old]))
        after[at] = [*items[at][:changed], word_new, *items[at][changed + 1:]]
    lines = "".join(f"  - Only {' '.join(n)}{stop}\n" for n in nested)  # a word first: "- 14." is a list

    def text(items, with_nested):
        return "".join(f"- Item {' '.join(i)}{stop}\n" + (lines if with_nested and n == at else "")
                       for n, i in enumerate(items))

    def marks(html, mark):
        return "".join("".join(re.findall(rf"<{mark}>(.*?)</{mark}>", html, re.DOTALL)).split())

    old, new = render_section(text(items, False)).body, render_section(text(after, True)).body
    added = "".join(f"Only{''.join(n)}{stop}" for n in nested)
    gained, lost = diff_html(old, new).html, diff_html(new, old).html
    assert (marks(gained, "del"), marks(gained, "ins")) == (word_old, word_new + added), gained
    assert (marks(lost, "del"), marks(lost, "ins")) == (word_new + added, word_old), lost


def test_a_deleted_paragraph_keeps_its_own_block():
    marked = diff_html("<p>One.</p>\n<p>Gone for good.</p>\n<p>Three.</p>", "<p>One.</p>\n<p>Three.</p>").html
    assert marked == "<p>One.</p>\n<p><del>Gone for good.</del></p>\n<p>Three.</p>\n"


def test_markup_added_around_kept_words_is_no_markdown_and_shows_as_restyled():
    old = render_section("You must pay the fee.\n").body
    new = render_section("You **must** pay the fee.\n").body
    marked = diff_html(old, new)
    assert marked.html == '<p>You <strong><span class="restyled">must</span></strong> pay the fee.</p>\n'
    assert marked.restyled == 1 and not marked.edits
    half = diff_html(old, render_section("You ** must pay the fee.\n").body).html
    assert half == "<p>You <ins>** </ins>must pay the fee.</p>\n"  # literal asterisks, as the page shows them


def test_a_documents_own_marks_do_not_pass_for_changes():
    marked = diff_html("<p>a <del>b</del></p>", "<p>a <del>b</del> <ins>c</ins></p>").html
    assert marked == "<p>a <s>b</s> <u><ins>c</ins></u></p>\n"


def test_a_renumbered_heading_is_folded_with_its_number_marked():
    old = "## 6. Payments\n\nPay monthly, see section 4.\n\n## 7. Fees\n\nTen.\n"
    new = "## 7. Payments\n\nPay monthly, see section 5.\n\n## 8. Fees\n\nTwelve.\n"
    sections = redline(compare(old, new)).sections
    assert [s.status for s in sections] == ["renumbered", "modified"]
    assert sections[0].heading == "<del>6</del><ins>7</ins>. Payments"
    assert sections[0].html == "<p>Pay monthly, see section <del>4</del><ins>5</ins>.</p>\n"
    assert sections[0].phrase == "" and sections[1].phrase == "Changed: 8. Fees"


def test_numbers_that_are_not_references_are_changes():
    sections = redline(compare("## Refunds\n\nWithin 14 days.\n", "## Refunds\n\nWithin 7 days.\n")).sections
    assert sections[0].status == "modified"
    moved_number = redline(compare("## 1. Refunds\n\nText.\n", "## Refunds 2\n\nText.\n")).sections
    assert moved_number[0].status == "modified"


def test_only_spacing_changed_is_folded():
    sections = redline(compare("## Fees\n\nTen   euros\nper month.\n",
                               "## Fees\n\nTen euros per month.\n")).sections
    assert sections[0].status == "renumbered"
    assert sections[0].html == "<p>Ten euros per month.</p>\n"


def test_generated_summary_is_the_analysis_one_else_names_the_changed_sections():
    old = "## 1. Fees\n\nTen euros.\n\n## 2. Notices\n\nBy post.\n"
    new = "## 1. Fees\n\nTwelve euros.\n\n## 2. Tutor\n\nNew.\n\n## 3. Notices\n\nBy post.\n"
    summary = redline(compare(old, new)).generated_summary
    assert summary == "Fee amount increased from Ten euros to Twelve euros."
    # a translation's change is not analysed (its verdict is its source's): its sections are named
    assert redline(compare(old, new, assess_change=False)).generated_summary == (
        "Changed: 1. Fees. New section: 2. Tutor.")
    assert redline(compare("Same.\n", "Same.\n")).generated_summary is None


# Plain documents (see terms.sections.plain): headings of every kind and level, the same title
# twice, emphasis, links and images (hosted elsewhere too, and inside links), lists, rules.
title = st.one_of(words, st.tuples(st.integers(1, 12), words).map(lambda p: f"{p[0]}. {p[1]}"),
                  st.just("Fees"))
plain_inline = st.one_of(
    *marked,
    word.map(lambda w: f"![{w}](https://example.com/{w}.png)"),
    word.map(lambda w: f"[![{w}](https://example.com/{w}.png)](refund.md)"),
    st.just("&amp; 5 > 3 \"quoted\""),
)
plain_line = st.tuples(word, st.lists(plain_inline, max_size=6)).map(lambda p: " ".join([p[0], *p[1]]))
plain_block = st.one_of(
    plain_line, plain_line,
    st.tuples(st.integers(1, 3), title).map(lambda p: f"{'#' * p[0]} {p[1]}"),
    st.tuples(st.sampled_from("=-"), words).map(lambda p: f"{p[1]}\n{p[0] * 3}"),
    st.lists(plain_line, min_size=1, max_size=3).map(lambda items: "\n".join(f"- {i}" for i in items)),
    st.lists(plain_line, min_size=1, max_size=3).map(
        lambda items: "\n\n".join(f"{n}. {i}" for n, i in enumerate(items, 1))),
    st.tuples(plain_line, plain_line).map(lambda p: f"{p[0]}  \n{p[1]}"),
    st.just("* * *"),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(plain_block, max_size=8), st.sampled_from(["", "\n", "\n\n"]))
def test_a_body_put_together_from_its_sections_is_the_body_parsed_whole(blocks, start):
    import site_builder.render as render
    from terms.sections import plain

    text = start + "\n\n".join(blocks) + "\n"
    composed = render.Body(text)
    original, render.plain = render.plain, lambda body: False
    try:
        whole = render.Body(text)
    finally:
        render.plain = original
    assert plain(text) or not blocks
    assert (composed.heading, composed.anchor, composed.toc) == (whole.heading, whole.anchor, whole.toc)
    assert composed.render() == whole.render()


def test_a_redline_as_json_reads_back_whatever_its_text():
    import json

    from site_builder.cache import from_json, to_json
    from site_builder.redline import Redline

    change = compare("# Fees\n\nTen euros.\n", "# Fees\n\nTwelve “euros” — or <b>more</b>.\n")
    data = redline(change).to_dict()
    for value in (data, {**data, "reasons": ["a lone surrogate \udc80"]}):
        assert json.loads(to_json(value)) == json.loads(json.dumps(value, ensure_ascii=False))
        assert Redline.from_dict(from_json(to_json(value))) == Redline.from_dict(value)


def test_a_fragment_as_json_reads_back_what_json_writes():
    import json
    import math

    from site_builder.cache import from_json, to_json

    values = [{"text": "a lone surrogate \udc80"}, {"big": 2 ** 70}, {"keys": {1: "one"}}, [0.1, 1e-05, 2.5]]
    for value in values:
        assert from_json(to_json(value)) == json.loads(json.dumps(value, ensure_ascii=False))
    assert math.isnan(from_json(json.dumps({"score": float("nan")}))["score"])  # as json wrote it


def test_a_section_moved_is_moved_though_shown_unchanged_in_an_earlier_redline():
    from terms import Memo

    first = "# A\n\nAlpha text.\n\n# B\n\nBeta text.\n\n# C\n\nGamma text.\n"
    edited = first.replace("Alpha text.", "Alpha text, edited.")
    moved = "# B\n\nBeta text.\n\n# A\n\nAlpha text, edited.\n\n# C\n\nGamma text.\n"
    found = Memo(version="test")  # as a build shares it between the redlines of its pairs
    before = redline(compare(first, edited, memo=found), found=found)
    after = redline(compare(first, moved, memo=found), found=found)
    assert [(s.title, s.status) for s in before.sections] == [("A", "modified"), ("B", "unchanged"),
                                                              ("C", "unchanged")]
    assert [(s.title, s.status) for s in after.sections] == [("B", "moved"), ("A", "modified"),
                                                             ("C", "unchanged")]
    assert after.sections[0].html == before.sections[1].html
