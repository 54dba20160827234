"""Numbers, amounts of money, percentages, durations and dates found in prose."""

from __future__ import annotations

import re
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

_UNITS = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_NUMBER_WORDS = {word: n for n, word in enumerate(_UNITS, 1)} | {
    word: 10 * n for n, word in enumerate(_TENS, 2)} | {"hundred": 100}
_SPELLED = (rf"(?=[a{''.join(sorted({word[0] for word in _NUMBER_WORDS}))}])"
            rf"(?:(?:(?:a|one)[ -])?hundred|(?:{'|'.join(_TENS)})(?:-(?:{'|'.join(_UNITS[:9])}))?"
            rf"|{'|'.join(sorted(_UNITS, key=len, reverse=True))})")
"""Number words: one to nineteen, the tens (``forty-five`` too) and a hundred; the lookahead
on the first letter is for speed."""
_SPELLED_WORD = re.compile(rf"\b(?:{_SPELLED})\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_NUMERIC_WORD = re.compile(r"(?:hour|day|week|month|year|business|calendar|working|usd|eur|gbp|dollar|euro"
                           r"|pound|percent|cent)s?", re.IGNORECASE)
_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 365 / 12, "year": 365}
"""Days in each unit of a duration; a month is a twelfth of a year, so that 24 months equal 2 years."""
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december")
_NUM = r"\d+(?:[.,]\d+)*"
_PATTERN = re.compile(
    rf"(?P<date>\d{{4}}-\d{{2}}-\d{{2}}|(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+(?:{_MONTHS})\s+\d{{4}})"
    rf"|(?P<money>(?P<symbol>[$€£¥]|\b(?:usd|eur|gbp)(?![a-z]))\s?(?P<amount>{_NUM})"
    rf"|(?P<amount2>{_NUM}|\b{_SPELLED})\s?"
    rf"(?:(?P<code>usd|eur|gbp|dollars?|euros?|pounds?)\b|(?P<sign>[$€£¥])(?!\s?\d)))"
    rf"|(?P<percent>(?P<share>{_NUM})\s?(?:%|percent\b|per cent\b))"
    rf"|(?P<duration>\b(?P<count>{_NUM}|{_SPELLED})(?:\s*\(\d+\))?\s+"
    rf"(?:(?:business|calendar|working)\s+)?(?P<unit>hour|day|week|month|year)s?\b)"
    rf"|(?P<number>\b(?:{_NUM}|{_SPELLED})\b)",
    re.IGNORECASE)
_REFERENCE = re.compile(r"(?:section|clause|article|paragraph|§)\s*", re.IGNORECASE)
"""Words before a number that make it a cross-reference, which renumbering changes."""
_AGE_BEFORE = re.compile(r"\b(?:aged?|be (?:at least|over|older than|under|younger than))\s+", re.IGNORECASE)
"""Words before a number that make it an age: ``be at least 13``."""
_LIMIT = re.compile(r"\b(?:at (?:least|most)|up to|over|under|aged?|more than|less than|fewer than"
                    r"|maximum of|minimum of|limit of)\s+", re.IGNORECASE)
"""Words before a number that make it a limit or an age: ``at least 13``, ``up to 3``."""
_BEFORE = 40
"""Characters before a number searched for a name (what keeps a sentence of many numbers quick)."""
_NEXT_WORD = re.compile(r"\s+([a-z]+)\b")
_FUNCTION_WORDS = frozenset(
    "a an and are as at be by else for from if in is it of on or our than that the their them then "
    "these they this those to us was we were with you your per".split())
"""Words after a number that do not say what it counts (``13 or older``, ``2019 we``)."""
_NAME_BEFORE = re.compile(r"(?:\b[A-Z]\w*|\d)\s*$")
_NAME_AFTER = re.compile(r"\s*(?:[A-Z]|\d)")
"""A capitalised word or a digit next to a number makes it part of a name, address or phone number."""
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "dollar": "USD", "dollars": "USD",
             "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP"}
_NOUN = {"date": "date", "money": "amount", "percent": "percentage", "duration": "period",
         "number": "number"}
_LABEL = {**_NOUN, "age": "age"}
"""What each kind of quantity is called in reasons; an age is a duration followed by ``old``."""
_AGE_AFTER = re.compile(r"\s+(?:old|of age)\b", re.IGNORECASE)
_VERBS = {"duration": ("extended", "shortened"), "money": ("increased", "reduced"),
          "percent": ("increased", "decreased"), "number": ("increased", "decreased"),
          "age": ("raised", "lowered")}


@dataclass(frozen=True)
class Quantity:
    """A quantity as written (``text``) and in a comparable form (``kind``, ``unit``, ``value``)."""

    kind: str
    """``date``, ``money``, ``percent``, ``duration``, ``age`` or ``number``."""
    text: str
    unit: str
    """Currency code; ``day`` or ``business day`` for durations; what a number counts
    (``devices``), ``limit`` for a limit (``at least 3``); ``year`` for an age given as a bare
    number; ``""`` otherwise."""
    value: float | str
    """Amount (durations in days); the normalized text for dates."""


def quantities(text: str, bare: bool = False) -> list[Quantity]:
    """The quantities of ``text``, in order.

    A number with no unit is kept when it counts something (``3 devices``) or is a limit or
    an age (``at least 13``); with ``bare`` (for sentences that matter) any other number too,
    unless it is part of a name, address or phone number (``4 Harbour Lane``, ``0117 496 0000``).
    Cross-references (``section 3``) are never kept.

    >>> [(q.kind, q.value) for q in quantities("Refunds within fourteen (14) days, up to $1,200.")]
    [('duration', 14.0), ('money', 1200.0)]
    >>> [q.text for q in quantities("Use up to three devices; write to 4 Harbour Lane or Unit 12.")]
    ['three devices']
    """
    found: list[Quantity] = []
    if not _DIGIT.search(text) and not _SPELLED_WORD.search(text):
        return found  # every quantity has a digit or a number word; this test is much quicker
    references = {m.end() for m in _REFERENCE.finditer(text)}
    limits = {m.end() for m in _LIMIT.finditer(text)}
    ages = {m.end() for m in _AGE_BEFORE.finditer(text)}
    for match in _PATTERN.finditer(text):
        kind = match.lastgroup if match.lastgroup in _NOUN else next(
            k for k in _NOUN if match.group(k) is not None)
        written = " ".join(match.group(0).split())
        if kind == "date":
            found.append(Quantity(kind, written, "", written.lower().replace(",", "")))
        elif kind == "money":
            currency = (match.group("symbol") or match.group("code") or match.group("sign")).lower()
            amount = match.group("amount") or match.group("amount2")
            found.append(Quantity(kind, written, _CURRENCY.get(currency, currency.upper()), _value(amount)))
        elif kind == "percent":
            found.append(Quantity(kind, written, "", _value(match.group("share"))))
        elif kind == "duration":
            amount = _value(match.group("count"))
            unit = _DAYS[match.group("unit").lower()]
            days = float(amount * unit) if isinstance(amount, float) else amount
            business = re.search(r"business|working", written, re.IGNORECASE)
            if _AGE_AFTER.match(text, match.end()):
                kind = "age"
            found.append(Quantity(kind, written, "business day" if business else "day", days))
        elif match.start() in ages and kind == "number":
            found.append(Quantity("age", written, "year", _value(written)))
        elif match.start() not in references and not _enumerator(text, match):
            counted = _counted(text, match, limits)
            if counted is not None or (bare and written[0].isdigit() and not _in_name(text, match)):
                found.append(Quantity(kind, f"{written} {counted}" if counted else written,
                                      "limit" if counted == "" else counted or "", _value(written)))
    return found


def numeric(word: str) -> bool:
    """True if ``word`` is part of how a quantity is written: a number, a number word, a unit
    of time or a currency.

    >>> [numeric(w) for w in ("14", "fourteen", "business", "days", "refund")]
    [True, True, True, True, False]
    """
    return word.isdigit() or bool(_NUMERIC_WORD.fullmatch(word)) or bool(_SPELLED_WORD.fullmatch(word))


def digits(text: str) -> str:
    """``text`` with number words written as digits.

    >>> digits("Kept for seven years, or forty-five days.")
    'Kept for 7 years, or 45 days.'
    """
    return _SPELLED_WORD.sub(lambda match: str(_spelled(match.group(0))), text)


def _counted(text: str, match: re.Match[str], limits: set[int]) -> str | None:
    """What the number ``match`` counts (``"devices"``), ``""`` for a limit or an age (``limits``:
    where the words of one end), ``None`` when it is neither."""
    noun = _NEXT_WORD.match(text, match.end())
    if noun and noun.group(1) not in _FUNCTION_WORDS:
        return noun.group(1)
    return "" if match.start() in limits else None


def _enumerator(text: str, match: re.Match[str]) -> bool:
    """True if the number ``match`` numbers the items of a list: ``(3)``, ``3)``."""
    closed = text[match.end():match.end() + 1] == ")"
    return closed and (match.start() == 0 or text[match.start() - 1] in "( ")


def _in_name(text: str, match: re.Match[str]) -> bool:
    """True if a capitalised word or a digit is next to the number ``match``."""
    return bool(_NAME_BEFORE.search(text, max(0, match.start() - _BEFORE), match.start())
                or _NAME_AFTER.match(text, match.end()))


@dataclass(frozen=True, kw_only=True, slots=True)
class Shift:
    """How one quantity of a sentence changed: ``before`` became ``after`` (``None`` when
    the quantity was added or removed)."""

    before: Quantity | None
    after: Quantity | None
    verb: str
    """``increased``, ``reduced``, ``extended``, ``shortened``, ``raised``, ``lowered``,
    ``changed``, ``added`` or ``removed``."""

    @property
    def label(self) -> str:
        """What the quantity is: ``period``, ``amount``, ``age``, ``number of devices``…"""
        quantity = self.after or self.before
        assert quantity is not None
        if quantity.kind == "number" and quantity.unit:
            return "limit" if quantity.unit == "limit" else f"number of {quantity.unit}"
        return _LABEL[quantity.kind]

    @property
    def bare(self) -> bool:
        """True for a number that neither counts something nor sets a limit."""
        return all(q is None or (q.kind == "number" and not q.unit) for q in (self.before, self.after))

    def __str__(self) -> str:
        """In plain words: ``period shortened from 14 days to 7 days``, ``new date: 1 May 2026``."""
        if self.before and self.after:
            return f"{self.label} {self.verb} from {_plain(self.before)} to {_plain(self.after)}"
        if self.after:
            return f"new {self.label}: {_plain(self.after)}"
        assert self.before is not None
        return f"{self.label} removed: {_plain(self.before)}"


def compare_quantities(old: list[Quantity], new: list[Quantity]) -> list[Shift]:
    """How the quantities of a sentence changed; empty when they are the same.

    >>> [str(s) for s in compare_quantities(quantities("a fee of $10"), quantities("a fee of $15"))]
    ['amount increased from $10 to $15']
    >>> [str(s) for s in compare_quantities(quantities("up to 3 devices"), quantities("up to 2 devices"))]
    ['number of devices decreased from 3 to 2']
    """
    key = lambda q: (q.kind, q.unit, q.value)  # noqa: E731
    removed = _first(old, Counter(map(key, old)) - Counter(map(key, new)), key)
    added = _first(new, Counter(map(key, new)) - Counter(map(key, old)), key)
    waiting: dict[str, deque[Quantity]] = defaultdict(deque)
    for quantity in added:
        waiting[quantity.kind].append(quantity)
    changes, lone = [], []
    for before in removed:
        if not waiting[before.kind]:
            lone.append(before)
            continue
        after = waiting[before.kind].popleft()
        verbs = _VERBS.get(before.kind) if before.unit == after.unit else None
        old_value, new_value = before.value, after.value
        if verbs and isinstance(old_value, float) and isinstance(new_value, float):
            verb = verbs[new_value < old_value]
        else:
            verb = "changed"
        changes.append(Shift(before=before, after=after, verb=verb))
    left = {id(q) for kind in waiting.values() for q in kind}
    changes.extend(Shift(before=q, after=None, verb="removed") for q in lone)
    changes.extend(Shift(before=None, after=q, verb="added") for q in added if id(q) in left)
    return changes


def _plain(quantity: Quantity) -> str:
    """A quantity as a reader would say it: a counted number without its noun."""
    counted = quantity.kind == "number" and quantity.unit not in ("", "limit")
    if counted and isinstance(quantity.value, float):
        return f"{quantity.value:g}"
    return quantity.text


def _first(found: list[Quantity], counts: Counter[tuple[str, str, float | str]],
           key: Callable[[Quantity], tuple[str, str, float | str]]) -> list[Quantity]:
    """The first ``counts[key(q)]`` quantities ``q`` of ``found`` with each key, in order."""
    chosen = []
    for quantity in found:
        if counts[key(quantity)] > 0:
            counts[key(quantity)] -= 1
            chosen.append(quantity)
    return chosen


def _value(number: str) -> float | str:
    """``1,200`` and ``1.200`` are thousands, ``12.50`` and ``12,5`` decimals, ``seven`` is 7;
    anything else (``3.1.2``) stays text."""
    if _SPELLED_WORD.fullmatch(number):
        return float(_spelled(number))
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", number):
        return float(re.sub(r"[.,]", "", number))
    try:
        return float(number.replace(",", "."))
    except ValueError:
        return number


def _spelled(words: str) -> int:
    """The value of number words: ``forty-five`` is 45, ``a hundred`` 100."""
    parts = re.split(r"[\s-]+", words.lower())
    return 100 if parts[-1] == "hundred" else sum(_NUMBER_WORDS[part] for part in parts)
