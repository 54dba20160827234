"""Redlines of a :class:`terms.changes.Change` for people: plain text with markers, or rich text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

    from .changes import Change, SectionChange
    from .verdicts import Decision


def verdict_line(change: Change) -> str:
    """``material (high confidence, score 0.82)``, ``not material (low confidence, score 0.35)``
    or ``no changes``."""
    if change.identical:
        return "no changes"
    return (f"{'material' if change.material else 'not material'} "
            f"({change.confidence} confidence, score {change.score:.2f})")


def section_header(section: SectionChange) -> str:
    """A header for a changed section, e.g. ``@@ Refunds (modified, renamed from 'Returns') @@``."""
    notes = ["renumbered" if section.renumbered else section.status]
    if section.renamed:
        notes.append(f"renamed from '{section.old_title}'")
    if section.moved and section.status != "moved":
        notes.append("moved")
    title = section.title or "(untitled opening)"
    return f"@@ {title} ({', '.join(notes)}) @@"


def render_text(change: Change, markers: bool = True) -> str:
    """The change as plain text; see :meth:`terms.changes.Change.render`."""
    lines = [verdict_line(change)] + ([change.summary] if change.summary else []) + [
        f"  - {reason}" for reason in change.reasons]
    for section in _shown(change):
        lines.extend(["", section_header(section)])
        if markers and section.status != "moved":
            lines.append("".join(_marked(op.tag, op.old, op.new) for op in section.ops).rstrip("\n"))
    return "\n".join(lines)


def render_rich(change: Change) -> Text:
    """The change as rich text: removed words struck through in red, added ones underlined in green."""
    from rich.text import Text

    text = Text(verdict_line(change) + "\n", style="bold red" if change.material else "bold green")
    if change.summary:
        text.append(change.summary + "\n")
    for reason in change.reasons:
        text.append(f"  - {reason}\n")
    for section in _shown(change):
        text.append("\n" + section_header(section) + "\n", style="bold cyan")
        if section.status == "moved":
            continue
        for op in section.ops:
            if op.tag == "equal":
                text.append(op.old)
                continue
            if op.old:
                text.append(op.old, style="red strike")
            if op.new:
                text.append(op.new, style="green underline")
    text.rstrip()
    return text


def _shown(change: Change) -> Iterator[SectionChange]:
    return (s for s in change.sections if s.status != "unchanged")


def _marked(tag: str, old: str, new: str) -> str:
    if tag == "equal":
        return old
    return (f"[-{old}-]" if old else "") + (f"{{+{new}+}}" if new else "")


MAX_MARKDOWN = 60_000
"""Most characters of a Markdown redline (GitHub takes comments of up to 65,536)."""
_BLOCK = re.compile(r" {0,3}(?:#{1,6}[ \t]+|[-*+][ \t]+|\d{1,9}[.)][ \t]+|>[ \t]?)")
"""A heading, list or quote marker at the start of a line: kept outside the marks, so that a
changed heading or item still reads as one."""


def render_markdown(change: Change, decision: Decision | None = None) -> str:
    """The change as GitHub-flavoured Markdown for a pull request's comment: what it is, whether
    it is material and what follows for users, the editor's summary (else the generated one), the
    analysis' reasons, then
    each changed section in a collapsible ``<details>``, its text as the new version reads with
    removed words in ``<del>`` and added ones in ``<ins>``. Sections whose only changes are
    numbers of sections (:attr:`terms.changes.SectionChange.renumbered`) are listed, not shown.

    :param decision: what follows for users who accepted the old version (see
        :func:`terms.decide`); needed when versions lie between the two, whose flags and
        verdicts decide too. Defaults to the new version's flag, else the analysis' verdict.
    """
    old, new = change.old, change.new
    head = f"#### {escape(new.title)}: {old.id} → {new.id}" if old and new else "#### Changes"
    lines = [head, "", _verdict_markdown(change, decision)]
    if new is not None and new.summary:
        lines += ["", f"> {escape(new.summary)}"]
    elif change.summary:
        lines += ["", f"> {escape(change.summary)} _(summary generated from the changes)_"]
    if change.reasons:
        lines += ["", "Why:", *(f"- {escape(reason)}" for reason in change.reasons)]
    shown = [s for s in _shown(change) if s.status != "moved" and not s.renumbered]
    notes = [f"{len(shown)} section{'s' if len(shown) != 1 else ''} changed: {change.words_added} words "
             f"added, {change.words_removed} removed."] if shown else []
    renumbered = [s for s in _shown(change) if s.renumbered]
    if renumbered:
        notes.append("Renumbered only, not shown: " + ", ".join(escape(s.title) for s in renumbered) + ".")
    moved = [s for s in _shown(change) if s.status == "moved"]
    if moved:
        notes.append("Moved, text unchanged: " + ", ".join(escape(s.title) for s in moved) + ".")
    if change.identical:
        return "\n".join(lines) + "\n"
    lines += ["", " ".join(notes)] if notes else []
    size = sum(len(line) + 1 for line in lines)
    for number, section in enumerate(shown):
        block = _section_markdown(section)
        if size + len(block) > MAX_MARKDOWN:
            command = f"termsledger diff {new.slug} {old.id} {new.id}" if old and new else "termsledger diff"
            lines += ["", f"… and {len(shown) - number} more changed sections, too long for one comment: "
                          f"`{command}` shows them all."]
            break
        lines += ["", block]
        size += len(block) + 1
    if shown:
        lines += ["", "<sub><del>Struck through</del>: removed. <ins>Underlined</ins>: added.</sub>"]
    return "\n".join(lines) + "\n"


def escape(text: str) -> str:
    """``text`` safe in Markdown as text: no HTML tag or entity of its own.

    >>> escape("<b> & co")
    '&lt;b> &amp; co'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _verdict_markdown(change: Change, decision: Decision | None) -> str:
    """Whether the change is material (by the editor's flag, else the analysis) and what follows."""
    if decision is not None and len(decision.steps) > 1:
        if change.identical and not decision.material:
            return "No changes."
        verdict, why, follows = _across(change, decision)
        return f"**{verdict}** {escape(why)}: {escape(follows)}."
    if change.identical:
        return "No changes."
    flag = change.new.material if change.new is not None else None
    material = change.material if flag is None else flag
    if flag is None:
        why = "by the change analysis (no `material:` flag)"
    else:
        agrees = "agrees" if change.material == flag else ("finds it material" if change.material
                                                           else "finds it cosmetic")
        why = f"by the editor's `material: {str(flag).lower()}` (the analysis {agrees})"
    follows = ("users who accepted an earlier version will be asked to accept it again" if material
               else "users will be told of it")
    return f"**{'Material' if material else 'Not material'}** {why}: {follows}."


def render_decision(change: Change, decision: Decision) -> str:
    """What follows for users who accepted ``change.old``, in one sentence, when versions lie
    between it and ``change.new``: material if one of them is (``decision``, see
    :func:`terms.decide`), whatever the analysis of the two texts alone finds."""
    verdict, why, follows = _across(change, decision)
    return f"{verdict} {why}: {follows}."


def _across(change: Change, decision: Decision) -> tuple[str, str, str]:
    """:func:`render_decision` in three parts: the verdict, why, and what follows."""
    material = decision.material
    count = len(decision.steps)
    if material:
        why = f"across {count} versions: " + "; ".join(
            f"{v.id} is " + ("marked material by the editor" if v.material
                             else "judged material by the change analysis")
            for v in decision.material_steps)
    else:
        why = f"across {count} versions, none of them material"
    if change.identical:
        why += " (the two texts are the same)"
    elif change.material != material:
        why += (" (the analysis of the two texts alone "
                f"{'finds the change material' if change.material else 'finds the change cosmetic'})")
    old = change.old.id if change.old is not None else "the old version"
    follows = (f"users who accepted {old} will be asked to accept again" if material
               else "users will be told of it")
    return "Material" if material else "Not material", why, follows


def _section_markdown(section: SectionChange) -> str:
    """One changed section in a ``<details>``: its text with ``<del>`` and ``<ins>`` marks."""
    lines: list[list[tuple[str, str]]] = [[]]
    for op in section.ops:
        pieces = [("=", op.new)] if op.tag == "equal" else [("del", op.old), ("ins", op.new)]
        for kind, text in pieces:
            for index, part in enumerate(text.split("\n")):
                if index:
                    lines.append([])
                if part:
                    lines[-1].append((kind, part))
    body = "\n".join(_line_markdown(pieces) for pieces in lines).strip("\n")
    notes = [section.status]
    if section.renamed:
        notes.append("renamed from " + escape(section.old_title or ""))
    title = escape(section.title or "Opening")
    return f"<details>\n<summary>{title} ({', '.join(notes)})</summary>\n\n{body}\n\n</details>"


def _line_markdown(pieces: list[tuple[str, str]]) -> str:
    """One line of a section: kept text as written, changes marked (block markers left outside)."""
    out = ""
    for kind, text in pieces:
        if kind == "=":
            out += text
            continue
        if not out.strip():
            marker = _BLOCK.match(text)
            if marker:
                out, text = out + marker.group(), text[marker.end():]
        core = text.strip()
        if core:
            start = text.index(core)
            out += f"{text[:start]}<{kind}>{escape(core)}</{kind}>{text[start + len(core):]}"
        else:
            out += text
    return out
