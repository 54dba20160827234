"""Redlines of a :class:`terms.changes.Change` for people: plain text with markers, or rich text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from rich.text import Text

    from .changes import Change, SectionChange


def verdict_line(change: Change) -> str:
    """``material (score 0.82)``, ``not material (score 0.10)`` or ``no changes``."""
    if change.identical:
        return "no changes"
    return f"{'material' if change.material else 'not material'} (score {change.score:.2f})"


def section_header(section: SectionChange) -> str:
    """A header for a changed section, e.g. ``@@ Refunds (modified, renamed from 'Returns') @@``."""
    notes = [section.status]
    if section.renamed:
        notes.append(f"renamed from '{section.old_title}'")
    if section.moved and section.status != "moved":
        notes.append("moved")
    title = section.title or "(untitled opening)"
    return f"@@ {title} ({', '.join(notes)}) @@"


def render_text(change: Change, markers: bool = True) -> str:
    """The change as plain text; see :meth:`terms.changes.Change.render`."""
    lines = [verdict_line(change)] + [f"  - {reason}" for reason in change.reasons]
    for section in _shown(change):
        lines.extend(["", section_header(section)])
        if markers and section.status != "moved":
            lines.append("".join(_marked(op.tag, op.old, op.new) for op in section.ops).rstrip("\n"))
    return "\n".join(lines)


def render_rich(change: Change) -> Text:
    """The change as rich text: removed words struck through in red, added ones underlined in green."""
    from rich.text import Text

    text = Text(verdict_line(change) + "\n", style="bold red" if change.material else "bold green")
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
