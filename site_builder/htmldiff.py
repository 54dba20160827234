"""Changes between two fragments of sanitized HTML, marked word by word in the structure
of the new one: the rendered document as it reads, deleted words in ``<del>``, inserted
ones in ``<ins>``.

Each fragment is read into a tree, and its text cut into words, spaces and punctuation
(images, line breaks and empty elements count as one piece each). Blocks that hold blocks
(lists, tables, rows, quotes) are aligned child by child first, so that a changed cell
stays in its row and a changed item in its place, and a block that holds text and blocks
(an item and its nested list) part by part, so that its text stays apart from a block it
gains or loses; inside paired blocks the words are aligned on their text alone, so that
changes of Markdown syntax that render the same are no change. Every old element is paired
with its counterpart in the new tree, and the result is written out piece by piece: kept
and inserted words inside the new elements, deleted words inside the counterpart of their
element, or inside a copy of it where it has none (a deleted paragraph, row or item). Marks
are always the innermost elements, so they never cross an element's boundary and the
output is well-formed whatever changed. Besides words:

- a link whose text was kept but whose target changed gets a note after it, with the old
  target (``link-note``); a link removed from kept words too;
- kept words whose emphasis changed (bold, italics, code…) are wrapped in a
  ``<span class="restyled">``;
- ``<ins>`` and ``<del>`` written by a document become ``<u>`` and ``<s>``: on a redline
  only changes are marked with them.

>>> diff_html("<p>Within <b>14</b> days.</p>", "<p>Within <b>7</b> days.</p>").html
'<p>Within <b><del>14</del><ins>7</ins></b> days.</p>\\n'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape, unescape

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, Opcodes

from terms import ratios

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_MARKUP = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s"=<>/]+(?:="[^"]*")?)*)\s*/?>|([^<]+)')
"""A start or end tag (its name and attributes), or text; a ``<`` matching neither is text."""
_ATTRIBUTE = re.compile(r'([^\s"=<>/]+)(?:="([^"]*)")?')
_WORD = re.compile(r"\w")
_VOID = frozenset({"br", "hr", "img", "col", "wbr"})
_LAYOUT = frozenset({"", "ul", "ol", "table", "thead", "tbody", "tfoot", "tr", "colgroup", "blockquote", "dl",
                     "div", "section", "details", "figure"})
"""Elements whose whitespace-only text is layout, not text."""
_BLOCKS = frozenset({"p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "table",
                     "thead", "tbody", "pre", "dl", "dd", "dt", "section", "div", "hr", "figure", "details"})
"""Elements after which a line break is written, for readable source."""
_CELLS = frozenset({"td", "th", "tr", "thead", "tbody", "tfoot", "col", "colgroup"})
"""Elements paired however unlike they are, so that a table keeps its shape."""
_STYLES = frozenset({"strong", "b", "em", "i", "u", "s", "code", "mark", "sub", "sup", "small", "kbd"})
_RENAMED = {"ins": "u", "del": "s"}
_KEPT = "equal"
_Step = tuple[str, int, int, int, int]
"""An opcode ``(tag, i1, i2, j1, j2)``, as :mod:`difflib` gives them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Edit:
    """One place where the text changed."""

    old: str
    """The text deleted there (``""`` for an insertion)."""
    new: str
    """The text inserted there (``""`` for a deletion)."""
    before: str
    """Up to about 20 words of the new text just before the edit."""
    start: bool
    """``before`` is all the new text before the edit (the edit is near the start)."""
    after: str
    """A little of the new text just after the edit."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkedHtml:
    """The new fragment with the changes from the old one marked."""

    html: str
    edits: tuple[Edit, ...]
    """Where the text changed, in order."""
    relinked: int
    """Links whose target changed (or that were added or removed) around kept words."""
    restyled: int
    """Runs of kept words whose emphasis changed."""

    @property
    def changed(self) -> bool:
        """True if anything is marked."""
        return bool(self.edits or self.relinked or self.restyled)


def diff_html(old: str, new: str, url: Callable[[str, str], str] | None = None) -> MarkedHtml:
    """The changes from the HTML fragment ``old`` to ``new`` (both as :func:`sanitize`
    writes them), marked in ``new``'s structure.

    :param url: ``url(side, target)`` gives the ``href`` or ``src`` to write for a link or
        image of the ``"old"`` or ``"new"`` fragment. Defaults to the target as it is.
    """
    url = url or (lambda side, target: target)
    if old == new:
        b = _fragment(new, "new")
        return _Writer(b, b, {}, url).write([(_KEPT, 0, len(b.keys), 0, len(b.keys))] if b.keys else [])
    a, b = _fragment(old, "old"), _fragment(new, "new")
    ops: list[tuple[str, int, int, int, int]] = []
    known: dict[_Element, _Element] = {}
    _align(a, b, a.root, b.root, ops, known)
    return _Writer(a, b, _pair(a, b, ops, known), url).write(ops)


@lru_cache(maxsize=1024)
def _fragment(html: str, side: str) -> _Fragment:
    """``html`` read as the ``side`` of a diff (cached: a version's sections are compared with
    those of several others; a fragment is never changed once read)."""
    return _Fragment(html, side)


class _Element:
    """An element of a fragment; compared by identity."""

    __slots__ = ("tag", "attrs", "side", "parent", "children", "path", "styles", "link", "first", "end",
                 "loose", "depth", "nests")

    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], side: str, parent: _Element | None):
        self.tag = tag
        self.attrs = attrs
        self.side = side
        self.parent = parent
        self.children: list[_Element] = []
        self.path: tuple[_Element, ...] = (*parent.path, self) if parent else ()
        """The elements from the fragment's top down to this one (the root's is empty)."""
        inherited: frozenset[str] = parent.styles if parent else frozenset()
        self.styles: frozenset[str] = inherited | {tag} if tag in _STYLES and parent else inherited
        self.link: _Element | None = self if tag == "a" else (parent.link if parent else None)
        """The closest ``<a>`` holding this element, or itself."""
        self.first = self.end = 0
        """The pieces of the fragment this element holds: ``first`` to ``end`` (excluded)."""
        self.loose = False
        """Pieces stand in this element outside any child element (text, or it is empty)."""
        self.depth: int = (parent.depth + (tag in _LAYOUT and parent.tag not in _LAYOUT)) if parent else 0
        """How many blocks of blocks nested in text (a list in an item) hold this element."""
        self.nests = False
        """A block of blocks nested in text stands in this element (see :func:`_own`)."""

    def attr(self, name: str) -> str | None:
        return next((v for k, v in self.attrs if k == name), None)


class _Fragment:
    """A fragment read into elements, its text cut into pieces: ``keys`` to compare,
    ``texts`` to write, and the element holding each piece (``parents``; for an image,
    line break or rule, the element itself is in ``voids``).

    The fragment is read with a regular expression: HTML as :func:`sanitize` writes it has
    attributes in double quotes, and ``<`` and ``&`` escaped in text and attributes."""

    def __init__(self, html: str, side: str):
        self.side = side
        self.root = _Element("", [], side, None)
        self.elements: list[_Element] = []
        self.keys: list[str] = []
        self.texts: list[str] = []
        self.parents: list[_Element] = []
        self.voids: dict[int, _Element] = {}
        self._open = [self.root]
        for match in _MARKUP.finditer(html):
            closing, tag, attributes, text = match.groups()
            if text is not None:
                self._text(unescape(text))
            elif tag is None:
                self._text(match.group())
            elif closing:
                self._end(tag.lower())
            else:
                self._start(tag.lower(), [(name, None if value is None else unescape(value))
                                          for name, value in _ATTRIBUTE.findall(attributes)])
        while len(self._open) > 1:
            self._end(self._open[-1].tag)
        self.root.end = len(self.keys)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = _RENAMED.get(tag, tag)
        parent = self._open[-1]
        element = _Element(tag, attrs, self.side, parent)
        if element.depth > parent.depth:
            for holder in element.path[:-1]:
                holder.nests = True
        parent.children.append(element)
        self.elements.append(element)
        element.first = len(self.keys)
        if tag in _VOID:
            key = (f"\0{tag} {element.attr('src') or ''} {element.attr('alt') or ''}" if tag == "img"
                   else f"\0{tag}")
            self.voids[len(self.keys)] = element
            self.keys.append(key)
            self.texts.append("")
            self.parents.append(parent)
            element.end = len(self.keys)
            return
        self._open.append(element)

    def _end(self, tag: str) -> None:
        tag = _RENAMED.get(tag, tag)
        depth = next((n for n in range(len(self._open) - 1, 0, -1) if self._open[n].tag == tag), 0)
        while depth and len(self._open) > depth:
            element = self._open.pop()
            if element.first == len(self.keys):  # an empty element: a piece of its own
                self._piece(f"\0{element.tag}", "", element)
            element.end = len(self.keys)

    def _text(self, data: str) -> None:
        parent = self._open[-1]
        if parent.tag in _LAYOUT and data.isspace():
            return
        texts, keys = _pieces(data)
        parent.loose = True
        self.texts.extend(texts)
        self.keys.extend(keys)
        self.parents.extend([parent] * len(texts))

    def _piece(self, key: str, text: str, parent: _Element) -> None:
        parent.loose = True
        self.keys.append(key)
        self.texts.append(text)
        self.parents.append(parent)


@lru_cache(maxsize=8192)
def _pieces(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The pieces of ``text`` as written and as compared (any whitespace as one space); cached:
    a paragraph recurs in many versions' sections."""
    tokens = tuple(_TOKEN.findall(text))
    return tokens, tuple(" " if t.isspace() else t for t in tokens)


class _Run:
    """Pieces ``first`` to ``end`` of an element that holds blocks, standing between them: its
    own text, aligned as one of its parts, paired with its other text or a paragraph."""

    __slots__ = ("first", "end")
    tag = "p"

    def __init__(self, first: int, end: int):
        self.first, self.end = first, end


_Part = _Element | _Run


def _align(a: _Fragment, b: _Fragment, old: _Part, new: _Part, ops: list[_Step],
           known: dict[_Element, _Element]) -> None:
    """Append to ``ops`` the steps turning the pieces of ``old`` into those of ``new``, and to
    ``known`` the elements paired on the way. Elements that hold blocks (a list, a table, a
    row) are aligned child by child: identical children first, then, between them, children
    of the same kind by likeness (a row with the row most like it, a cell with the cell in
    its place); an element that holds text and blocks (an item and its nested list) is
    aligned part by part (see :func:`_parts`). Words are compared inside paired blocks only,
    so that a changed cell stays in its row, a changed item in its place, and an item's text
    apart from the list it gains."""
    if isinstance(old, _Run) or isinstance(new, _Run) or not (
            _blocks(old, new) or _holds_blocks(old) or _holds_blocks(new)):
        ops.extend(_words(a, b, old.first, old.end, new.first, new.end))
        return
    xs: Sequence[_Part]
    ys: Sequence[_Part]
    xs, ys = (old.children, new.children) if _blocks(old, new) else (_parts(a, old), _parts(b, new))
    i_at, j_at = old.first, new.first
    signatures = Indel.opcodes([_signature(a, x) for x in xs], [_signature(b, y) for y in ys])
    for tag, i1, i2, j1, j2 in _regions(signatures):
        if tag == _KEPT:
            for x, y in zip(xs[i1:i2], ys[j1:j2], strict=True):
                ops.append((_KEPT, x.first, x.end, y.first, y.end))
                if isinstance(x, _Element) and isinstance(y, _Element):
                    known[x] = y
            i_at, j_at = xs[i2 - 1].end, ys[j2 - 1].end
            continue
        i, j = i1, j1
        for p, q in [*_likeliest(a, b, xs[i1:i2], ys[j1:j2]), (i2 - i1, j2 - j1)]:
            for x in xs[i:i1 + p]:
                ops.append(("delete", x.first, x.end, j_at, j_at))
                i_at = x.end
            for y in ys[j:j1 + q]:
                ops.append(("insert", i_at, i_at, y.first, y.end))
                j_at = y.end
            if (p, q) != (i2 - i1, j2 - j1):
                x, y = xs[i1 + p], ys[j1 + q]
                if isinstance(x, _Element) and isinstance(y, _Element):
                    known[x] = y
                _align(a, b, x, y, ops, known)
                i_at, j_at = x.end, y.end
            i, j = i1 + p + 1, j1 + q + 1


def _steps(opcodes: Opcodes) -> list[_Step]:
    return [(op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end) for op in opcodes]


def _regions(opcodes: Opcodes) -> list[_Step]:
    """Opcodes with adjacent changes joined into one ``replace``."""
    joined: list[_Step] = []
    for tag, i1, i2, j1, j2 in _steps(opcodes):
        if joined and tag != _KEPT and joined[-1][0] != _KEPT:
            joined[-1] = ("replace", joined[-1][1], i2, joined[-1][3], j2)
        else:
            joined.append((tag if tag == _KEPT else "replace", i1, i2, j1, j2))
    return joined


def _blocks(old: _Element, new: _Element) -> bool:
    """Both elements hold blocks only: :func:`_align` pairs their children."""
    return old.tag in _LAYOUT and new.tag in _LAYOUT and not old.loose and not new.loose


def _holds_blocks(element: _Element) -> bool:
    return any(child.tag in _BLOCKS for child in element.children)


def _parts(fragment: _Fragment, element: _Element) -> list[_Part]:
    """The blocks of ``element`` and the runs of its own text around them, without the
    spacing around a run (layout, like that between blocks)."""
    parts: list[_Part] = []
    at = element.first
    for child in [*(c for c in element.children if c.tag in _BLOCKS), None]:
        stop = element.end if child is None else child.first
        while at < stop and fragment.keys[at] == " ":
            at += 1
        while stop > at and fragment.keys[stop - 1] == " ":
            stop -= 1
        if at < stop:
            parts.append(_Run(at, stop))
        if child is not None:
            parts.append(child)
            at = child.end
    return parts


def _signature(fragment: _Fragment, part: _Part) -> str:
    return part.tag + "\1" + "\1".join(fragment.keys[part.first:part.end])


def _text(fragment: _Fragment, part: _Part) -> str:
    return " ".join(fragment.keys[part.first:part.end])


def _own(fragment: _Fragment, part: _Part) -> str:
    """The text of ``part`` without the blocks of blocks nested in its text (an item's without
    its nested list, a list's without its items' nested lists)."""
    if isinstance(part, _Run) or not part.nests:
        return _text(fragment, part)
    return " ".join(key for key, parent in zip(fragment.keys[part.first:part.end],
                                               fragment.parents[part.first:part.end], strict=True)
                    if parent.depth == part.depth)


def _likeliest(a: _Fragment, b: _Fragment, xs: Sequence[_Part], ys: Sequence[_Part]) -> list[tuple[int, int]]:
    """Pairs ``(index in xs, index in ys)``, in order on both sides, of parts of the same
    kind, most alike in all: cells, rows and an element's own text always, other blocks when
    at least a third alike, in all or without the blocks nested in their text (an item that
    gains or loses a long nested list is the same item)."""
    if not xs or not ys:
        return []
    if len(xs) == len(ys) == 1:  # one for one, the common case: as below, in one step
        x, y = xs[0], ys[0]
        alike_enough = x.tag == y.tag and (_always(x, y) or fuzz.ratio(_text(a, x), _text(b, y)) >= 33 or (
            (_nests(x) or _nests(y)) and fuzz.ratio(_own(a, x), _own(b, y)) >= 33))
        return [(0, 0)] if alike_enough else []
    if len(xs) * len(ys) > 2500:  # too many to weigh: same kinds in order
        found, j = [], 0
        for i, x in enumerate(xs):
            j = next((n for n in range(j, len(ys)) if ys[n].tag == x.tag), len(ys))
            if j < len(ys):
                found.append((i, j))
                j += 1
        return found
    texts = [_text(b, y) for y in ys]
    alike = [ratios(_text(a, x), texts) for x in xs]
    if any(_nests(x) for x in xs) or any(_nests(y) for y in ys):
        owns = [_own(b, y) for y in ys]
        alike = [[max(pair) for pair in zip(row, ratios(_own(a, x), owns), strict=True)]
                 for x, row in zip(xs, alike, strict=True)]
    best = [[0.0] * (len(ys) + 1) for _ in range(len(xs) + 1)]
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            paired = -1.0
            if x.tag == y.tag and (_always(x, y) or alike[i][j] >= 33):
                paired = best[i][j] + alike[i][j] + 1
            best[i + 1][j + 1] = max(best[i][j + 1], best[i + 1][j], paired)
    found, i, j = [], len(xs), len(ys)
    while i and j:
        if best[i][j] == best[i - 1][j]:
            i -= 1
        elif best[i][j] == best[i][j - 1]:
            j -= 1
        else:
            found.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return found[::-1]


def _always(x: _Part, y: _Part) -> bool:
    """``x`` and ``y`` (of the same kind) are paired however unlike they are."""
    return x.tag in _CELLS or isinstance(x, _Run) or isinstance(y, _Run)


def _nests(part: _Part) -> bool:
    return isinstance(part, _Element) and part.nests


def _words(a: _Fragment, b: _Fragment, i1: int, i2: int, j1: int, j2: int) -> list[_Step]:
    """The word-level steps from pieces ``i1:i2`` of ``a`` to ``j1:j2`` of ``b``."""
    if i1 == i2 or j1 == j2:
        return [("delete", i1, i2, j1, j1)] if i1 < i2 else ([("insert", i1, i1, j1, j2)] if j1 < j2 else [])
    steps = _steps(Indel.opcodes(a.keys[i1:i2], b.keys[j1:j2]))
    return [(tag, i1 + x1, i1 + x2, j1 + y1, j1 + y2)
            for tag, x1, x2, y1, y2 in _merged(steps, a.keys[i1:i2])]


def _merged(steps: list[_Step], keys: list[str]) -> list[_Step]:
    """Opcodes with the spaces and single punctuation kept between two changes taken into
    them, so that a rewritten phrase reads as one replacement."""
    merged: list[_Step] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(steps):
        if i1 == i2 and j1 == j2:
            continue
        changing = bool(merged) and merged[-1][0] != _KEPT
        if tag == _KEPT and not (changing and n + 1 < len(steps) and _trivial(keys[i1:i2])):
            merged.append((_KEPT, i1, i2, j1, j2))
        elif changing:
            merged[-1] = ("change", merged[-1][1], i2, merged[-1][3], j2)
        else:
            merged.append(("change", i1, i2, j1, j2))
    return [(tag if tag == _KEPT else "replace" if i1 < i2 and j1 < j2 else "delete" if i1 < i2 else "insert",
             i1, i2, j1, j2) for tag, i1, i2, j1, j2 in merged]


def _trivial(keys: list[str]) -> bool:
    text = "".join(keys)
    return not _WORD.search(text) and "\0" not in text and (len(text) <= 2 or text.isspace())



def _pair(a: _Fragment, b: _Fragment, ops: list[_Step],
          known: dict[_Element, _Element]) -> dict[_Element, _Element]:
    """Pairs each old element with its counterpart in the new tree, top down: the one
    :func:`_align` paired it with (a block it aligned has no other); inside a block, the
    element of the same kind under the parent's counterpart holding most of its kept words,
    else the next unpaired one of the same kind in the same place among its siblings."""
    votes: dict[_Element, Counter[_Element]] = {}
    held: Counter[tuple[_Element, _Element]] = Counter()
    for tag, i1, i2, j1, j2 in ops:
        if tag == _KEPT:
            held.update(zip(a.parents[i1:i2], b.parents[j1:j2], strict=True))
    for (old, new), count in held.items():
        for x, y in zip(old.path, new.path, strict=False):
            if x.tag != y.tag:
                break
            votes.setdefault(x, Counter())[y] += count
    mapping = {a.root: b.root}
    taken = {b.root}
    todo = [(a.root, b.root)]
    while todo:
        old, new = todo.pop()
        for child in old.children:
            if child in known and known[child].parent is new:
                mapping[child] = known[child]
                taken.add(known[child])
        if _blocks(old, new):  # aligned by _align: its pairs only
            todo.extend((child, mapping[child]) for child in old.children if child in mapping)
            continue
        # an element of text and blocks (an item): _align paired its blocks, with no others
        aligned = _BLOCKS if _holds_blocks(old) or _holds_blocks(new) else frozenset()
        for child in old.children:
            if child in mapping or child.tag in aligned:
                continue
            found = [y for y, _ in votes.get(child, Counter()).most_common()
                     if y.parent is new and y not in taken]
            if found:
                mapping[child] = found[0]
                taken.add(found[0])
        place = {y: n for n, y in enumerate(new.children)}
        start = 0
        for k, child in enumerate(old.children):
            if child in mapping:
                start = place[mapping[child]] + 1
                continue
            if child.tag in _VOID or child.tag in aligned:
                continue
            stop = next((place[mapping[c]] for c in old.children[k + 1:] if c in mapping), len(new.children))
            match = next((n for n in range(start, stop) if new.children[n].tag == child.tag
                          and new.children[n] not in taken), None)
            if match is not None:
                mapping[child] = new.children[match]
                taken.add(new.children[match])
                start = match + 1
        todo.extend((child, mapping[child]) for child in old.children if child in mapping)
    return mapping


class _Writer:
    """Writes the merged fragment: pieces in order, each in its elements, marks innermost."""

    def __init__(self, a: _Fragment, b: _Fragment, mapping: dict[_Element, _Element],
                 url: Callable[[str, str], str]):
        self.a, self.b, self.mapping, self.url = a, b, mapping, url
        self.out: list[str] = []
        self.stack: tuple[_Element, ...] = ()
        self.mark: str | None = None
        self.paths: dict[_Element, tuple[_Element, ...]] = {}
        self.relinked: dict[_Element, _Element | None] = {}
        self.noted: set[_Element] = set()
        self.unlinked: _Element | None = None
        self.notes = 0
        self.restyled = 0

    def write(self, ops: list[_Step]) -> MarkedHtml:
        a, b = self.a, self.b
        edits = []
        for tag, i1, i2, j1, j2 in ops:
            if tag == _KEPT:
                self._kept(i1, j1, j2)
                continue
            self._note_unlinked(None)
            if all(k == " " for k in a.keys[i1:i2]) and all(k == " " for k in b.keys[j1:j2]):
                for j in range(j1, j2):  # spacing between blocks or words: no change to show
                    self._piece(b.parents[j].path, None, b.texts[j], None)
                continue
            for i in range(i1, i2):
                self._piece(self._old_path(a.parents[i]), "del", a.texts[i], a.voids.get(i))
            for j in range(j1, j2):
                self._piece(b.parents[j].path, "ins", b.texts[j], b.voids.get(j))
            before = max(0, j1 - 40)
            edits.append(Edit(old="".join(a.texts[i1:i2]), new="".join(b.texts[j1:j2]),
                              before="".join(b.texts[before:j1]), start=before == 0,
                              after="".join(b.texts[j2:j2 + 2])))
        self._note_unlinked(None)
        self._close_mark()
        self._move(())
        return MarkedHtml(html="".join(self.out), edits=tuple(edits), relinked=self.notes,
                          restyled=self.restyled)

    def _kept(self, i: int, j: int, end: int) -> None:
        """Write the kept pieces ``j`` to ``end`` of the new fragment (``i`` on of the old one),
        a run of pieces held by the same elements at a time."""
        a, b = self.a, self.b
        while j < end:
            old, new = a.parents[i], b.parents[j]
            stop = j + 1
            if j not in b.voids:
                while (stop < end and b.parents[stop] is new and a.parents[i + stop - j] is old
                       and stop not in b.voids):
                    stop += 1
            if new.link is not None:
                if old.link is None or old.link.attr("href") != new.link.attr("href"):
                    self.relinked.setdefault(new.link, old.link)
            self._note_unlinked(old.link if new.link is None else None)
            mark = "restyled" if old.styles != new.styles else None
            if mark and self.mark != mark:
                self.restyled += 1
            self._piece(new.path, mark, "".join(b.texts[j:stop]), b.voids.get(j))
            i, j = i + stop - j, stop

    def _note_unlinked(self, link: _Element | None) -> None:
        """Write a note after a run of kept words that a link no longer holds."""
        if self.unlinked is not None and link is not self.unlinked:
            self._close_mark()
            self.out.append(self._link_note("link removed", self.unlinked))
        self.unlinked = link

    def _old_path(self, element: _Element) -> tuple[_Element, ...]:
        """Where a deleted piece goes: under the counterparts of its element's ancestors,
        in copies of the old elements that have none."""
        if element not in self.paths:
            below: list[_Element] = []
            above: _Element | None = element
            while above is not None and above not in self.mapping:  # the root is mapped
                below.append(above)
                above = above.parent
            top = self.mapping[above].path if above is not None else ()
            self.paths[element] = (*top, *reversed(below))
        return self.paths[element]

    def _piece(self, path: tuple[_Element, ...], mark: str | None, text: str, void: _Element | None) -> None:
        if path is not self.stack:
            self._move(path)
        if not text and void is None:  # an empty element, now open
            return
        if mark != self.mark and mark != "restyled" and text.isspace():
            mark = None  # a change starts at a word: no underlined or struck space before it
        if mark != self.mark:
            self._close_mark()
            if mark:
                self.out.append(f'<span class="{mark}">' if mark == "restyled" else f"<{mark}>")
                self.mark = mark
        self.out.append(self._start(void) if void is not None else escape(text, quote=False))

    def _close_mark(self) -> None:
        if self.mark:
            self.out.append("</span>" if self.mark == "restyled" else f"</{self.mark}>")
            self.mark = None

    def _move(self, path: tuple[_Element, ...]) -> None:
        """Close the open elements not on ``path`` and open the rest of ``path``."""
        common = 0
        for x, y in zip(self.stack, path, strict=False):
            if x is not y:
                break
            common += 1
        if common == len(self.stack) == len(path):
            self.stack = path
            return
        self._close_mark()
        for element in reversed(self.stack[common:]):
            self.out.append(f"</{element.tag}>")
            if element in self.relinked and element not in self.noted:
                self.noted.add(element)
                old = self.relinked[element]
                self.out.append(self._link_note("link changed" if old is not None else "link added", old))
            if element.tag in _BLOCKS:
                self.out.append("\n")
        for element in path[common:]:
            self.out.append(self._start(element))
        self.stack = path

    def _start(self, element: _Element) -> str:
        parts = [element.tag]
        for name, value in element.attrs:
            if name in ("id", "name"):
                continue
            if value is None:
                parts.append(name)
                continue
            if (name == "href" and element.tag == "a") or (name == "src" and element.tag == "img"):
                value = self.url(element.side, value)
            parts.append(f'{name}="{escape(value)}"')
        return f"<{' '.join(parts)}>"

    def _link_note(self, what: str, old: _Element | None) -> str:
        self.notes += 1
        href = old.attr("href") if old is not None else None
        if not href:
            return f'<span class="link-note"> ({what})</span>'
        return (f'<span class="link-note"> ({what}; <a href="{escape(self.url("old", href))}">'
                f'where it used to lead</a>)</span>')
