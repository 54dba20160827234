"""Numbers, amounts of money, percentages, durations and dates found in prose."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty-five": 45, "sixty": 60, "ninety": 90,
}
_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december")
_NUM = r"\d+(?:[.,]\d+)*"
_PATTERN = re.compile(
    rf"(?P<date>\d{{4}}-\d{{2}}-\d{{2}}|(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+(?:{_MONTHS})\s+\d{{4}})"
    rf"|(?P<money>(?P<symbol>[$€£¥])\s?(?P<amount>{_NUM})"
    rf"|(?P<amount2>{_NUM})\s?(?P<code>usd|eur|gbp|dollars?|euros?|pounds?)\b)"
    rf"|(?P<percent>(?P<share>{_NUM})\s?(?:%|percent\b|per cent\b))"
    rf"|(?P<duration>\b(?P<count>{_NUM}|{'|'.join(_NUMBER_WORDS)})(?:\s*\(\d+\))?\s+"
    rf"(?:(?:business|calendar|working)\s+)?(?P<unit>hour|day|week|month|year)s?\b)"
    rf"|(?P<number>\b{_NUM}\b)",
    re.IGNORECASE)
_REFERENCE = re.compile(r"(?:section|clause|article|paragraph|§)\s*$", re.IGNORECASE)
"""Words before a number that make it a cross-reference, which renumbering changes."""
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "dollar": "USD", "dollars": "USD",
             "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP"}
_NOUN = {"date": "date", "money": "amount", "percent": "percentage", "duration": "period",
         "number": "number"}
_VERBS = {"duration": ("extended", "shortened"), "money": ("increased", "reduced"),
          "percent": ("increased", "decreased"), "number": ("increased", "decreased")}


@dataclass(frozen=True)
class Quantity:
    """A quantity as written (``text``) and in a comparable form (``kind``, ``unit``, ``value``)."""

    kind: str
    """``date``, ``money``, ``percent``, ``duration`` or ``number``."""
    text: str
    unit: str
    """Currency code; ``day`` or ``business day`` for durations; ``""`` otherwise."""
    value: float | str
    """Amount (durations in days); the normalized text for dates."""


def quantities(text: str) -> list[Quantity]:
    """The quantities of ``text``, in order.

    >>> [(q.kind, q.value) for q in quantities("Refunds within fourteen (14) days, up to $1,200.")]
    [('duration', 14.0), ('money', 1200.0)]
    """
    found = []
    for match in _PATTERN.finditer(text):
        kind = match.lastgroup if match.lastgroup in _NOUN else next(
            k for k in _NOUN if match.group(k) is not None)
        written = " ".join(match.group(0).split())
        if kind == "date":
            found.append(Quantity(kind, written, "", written.lower().replace(",", "")))
        elif kind == "money":
            currency = match.group("symbol") or match.group("code").lower()
            amount = match.group("amount") or match.group("amount2")
            found.append(Quantity(kind, written, _CURRENCY.get(currency, currency.upper()), _value(amount)))
        elif kind == "percent":
            found.append(Quantity(kind, written, "", _value(match.group("share"))))
        elif kind == "duration":
            count = match.group("count").lower()
            amount = _NUMBER_WORDS.get(count) or _value(count)
            unit = _DAYS[match.group("unit").lower()]
            days = float(amount * unit) if isinstance(amount, (int, float)) else amount
            business = re.search(r"business|working", written, re.IGNORECASE)
            found.append(Quantity(kind, written, "business day" if business else "day", days))
        elif not _REFERENCE.search(text, 0, match.start()):
            found.append(Quantity(kind, written, "", _value(written)))
    return found


def compare_quantities(old: list[Quantity], new: list[Quantity]) -> list[tuple[Quantity, str]]:
    """Describe how the quantities of a sentence changed, e.g.
    ``"period shortened: '14 days' -> '7 days'"``, each with the quantity it is about
    (the new one where there is one); empty when they are the same.

    >>> [text for _, text in compare_quantities(quantities("a fee of $10"), quantities("a fee of $15"))]
    ["amount increased: '$10' -> '$15'"]
    """
    key = lambda q: (q.kind, q.unit, q.value)  # noqa: E731
    gone = list((Counter(map(key, old)) - Counter(map(key, new))).elements())
    came = list((Counter(map(key, new)) - Counter(map(key, old))).elements())
    removed = [q for q in old if key(q) in gone and not gone.remove(key(q))]
    added = [q for q in new if key(q) in came and not came.remove(key(q))]
    changes = []
    for before in list(removed):
        after = next((q for q in added if q.kind == before.kind), None)
        if after is None:
            continue
        removed.remove(before)
        added.remove(after)
        verbs = _VERBS.get(before.kind) if before.unit == after.unit else None
        comparable = isinstance(before.value, float) and isinstance(after.value, float)
        verb = verbs[after.value < before.value] if verbs and comparable else "changed"
        changes.append((after, f"{_NOUN[before.kind]} {verb}: '{before.text}' -> '{after.text}'"))
    changes.extend((q, f"{_NOUN[q.kind]} removed: '{q.text}'") for q in removed)
    changes.extend((q, f"{_NOUN[q.kind]} added: '{q.text}'") for q in added)
    return changes


def _value(number: str) -> float | str:
    """``1,200`` and ``1.200`` are thousands, ``12.50`` and ``12,5`` decimals;
    anything else (``3.1.2``) stays text."""
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", number):
        return float(re.sub(r"[.,]", "", number))
    try:
        return float(number.replace(",", "."))
    except ValueError:
        return number
