"""What a sentence of a legal text does, and what an edit of it changed, as a lawyer reads it.

The clauses that bear obligations say who must or may do what, for what, at what cost, with
what data, under which law. An edit of one matters when it flips a modal verb or a negation
(``may`` -> ``must``), widens or narrows its scope (``all``, ``only``, ``unless``), changes a
subject it deals with (fees, personal data, arbitration…), a quantity, or a party or place in
a clause about law, forum, controller or who receives data or money. Everything else is
presentation: the document's own metadata (last-updated dates, version numbers, change logs),
navigation, page chrome, contact details and addresses, statistics disclosures, instructions on
how to do what the text already allows, names spelled out or named where they were described.

>>> kind("Last updated: 4 March 2025", "")
'metadata'
>>> kind("To opt out, click Settings and choose Advertising.", "")
'instruction'
>>> modal_words("We may, though we are not obliged to, refund you.")
('may', 'not')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .quantities import digits, numeric, quantities

MODAL_VERBS = ("may", "might", "must", "shall", "should", "will", "would", "can", "could", "cannot", "ought")
MODAL = MODAL_VERBS + ("not", "no", "never", "nor", "neither", "t")
"""Modal verbs and negations (``t`` as in ``can't``): what a party may, must or must not do."""
SCOPE = frozenset("only all any every each always solely exclusively everything anything anyone anybody "
                  "everyone everybody nothing nobody entire whole unless except".split())
"""Words that widen or narrow what a clause covers."""
FUNCTION_WORDS = frozenset("a an the this that these those which who whom its it".split())
"""Words whose change alone is cosmetic (pronouns name parties, "and"/"or" change scope)."""
_DEONTIC = re.compile(
    r"\b(?:requir(?:e|es|ed|ement)|oblig(?:ed|ated|ation|ations)|entitle[sd]?|permit(?:s|ted)?|allow(?:s|ed)?"
    r"|prohibit(?:s|ed)?|forbidden|responsib(?:le|ility)|liab(?:le|ility)|agree(?:s|d)?|consent(?:s|ed)?"
    r"|authori[sz]e[sd]?|waive[sd]?|grant(?:s|ed)?|undertake|reserve[sd]? the right|bound by|rights? to"
    r"|promise[sd]?|guarantee[sd]?|warrant(?:s|y|ies)?|appl(?:y|ies)|incorporated|forms? part of|governs?)\b",
    re.IGNORECASE)
"""Words that make a sentence impose, grant or waive something besides the modal verbs, or
make other terms apply."""
_PROHIBITION = re.compile(r"\W*(?:please )?(?:do not|don[’']t|never)\b", re.IGNORECASE)
"""A sentence that forbids the reader something."""
_BINDS = re.compile(
    r"\b(?:(?:is|are|be|been|being|not) required|required (?:to|by)|obliged|obligated|agrees? to|prohibited"
    r"|bound by|(?:is|are) responsible|(?:is|are) liable|waives?|needs? to|ha(?:ve|s) to)\b", re.IGNORECASE)
"""Words that bind a party (besides ``must`` and ``shall``)."""
_ACCEPTANCE = re.compile(
    r"^\W*(?:by (?:using|accessing|visiting|downloading|registering)[^,]{0,60}, )?"
    r"you (?:agree to|accept)(?: be bound by)? "
    r"(?:these|this|our|the) (?:terms|agreement|policy|privacy policy|terms of (?:service|use)"
    r"|conditions)\W*$",
    re.IGNORECASE)
"""A sentence by which the reader accepts the document itself: it restates how the agreement
is made, which every version has, and adds no term."""
ROLE = re.compile(
    r"\b(?:govern(?:ed|s)? by (?:the )?laws?|governing law|laws? of|courts?|venue|jurisdiction|arbitrat\w*"
    r"|tribunal"
    r"|ombuds\w*|dispute resolution|controller|contracting (?:party|entity)|issu(?:ed|ing) (?:by|entity)"
    r"|agreement (?:is )?(?:made )?(?:between|with)|(?:provided|operated|offered) by|provider of"
    r"|(?:shar\w*|disclos\w*|sell\w*|sold|transfer\w*) (?:[\w,.’'-]+ ){0,6}(?:with|to)"
    r"|pa(?:y|id|yable|yments?) (?:[\w’'-]+ ){0,3}to"
    r"|recipients? of (?:your |the |such )?(?:personal )?(?:data|information|payments?|funds)"
    r"|(?:data|information) recipients?)\b", re.IGNORECASE)
"""Clauses whose parties and places matter: law, forum, controller, counterparty, who receives
data or money. A proper noun replaced in one of them is a change of party or place."""
_SHARING = re.compile(r"\b(?:shar(?:e|es|ed|ing)|disclos\w*|sell(?:s|ing)?|sold|transfer\w*"
                      r"|make available)\b",
                      re.IGNORECASE)
_DATA = re.compile(r"\b(?:data|information)\b", re.IGNORECASE)

_EMAIL = re.compile(r"[\w.+-]+ ?@ ?[\w-]+(?:\.[\w-]+)+|\bemail protected\b", re.IGNORECASE)
_EMAIL_WITHOUT_AT = re.compile(r"\bemail protected\b", re.IGNORECASE)
"""What :data:`_EMAIL` finds in a text without ``@`` (searched instead: most sentences have none)."""
_PHONE = re.compile(r"\+\d[\d ()./-]{6,}\d|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b|\b0\d{2,4} \d{3,4} \d{3,4}\b")
_URL = re.compile(r"\b(?:https?://|www\.)\S+"
                  r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|co|eu|uk|de|fr|app)(?:/\S*)?\b", re.IGNORECASE)
_STREET = ("street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|way|place|pl|square|sq|court|ct"
           "|parkway|pkwy|highway|hwy|terrace|plaza|suite|ste|floor|fl|unit|building|house|wharf|quay|row")
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[a-z]?,? (?:(?-i:[A-Z])[\w'’.-]* ){{0,4}}(?:{_STREET})\b\.?(?: \d+)?"
    rf"|\b(?-i:(?=[A-Z]))(?:{_STREET})\.? \d{{1,5}}\b|\b\d{{1,3}}(?:st|nd|rd|th) floor\b"
    rf"|\b(?-i:[A-ZÄÖÜ])[\wäöüß-]*(?:straße|strasse|str|platz|weg|ring|damm|markt|gasse|allee|laan|straat"
    rf"|plein|kade|gracht) \d{{1,3}}[a-z]?\b(?! (?-i:[a-z]))"
    rf"|(?-i:\b[A-Z]{{2}} \d{{5}}(?:-\d{{4}})?\b|\b\d{{5}}-\d{{4}}\b|\b[A-Z]{{1,2}}\d[A-Z\d]? ?\d[A-Z]{{2}}\b"
    rf"|\b\d{{4,5}} [A-Z][a-zäöüß]+(?:,|$))|\battn\b|\bp\.? ?o\.? box\b",
    re.IGNORECASE)
"""A street and number, a postcode, "Attn" or a post-office box. Names, state codes and
postcodes are matched in capitals only, and a continental street (``Hauptstraße 5``) only where
no lower-case word follows its number: ``during 2026``, ``offering 3 plans``, ``to 50000``
and ``12 partners in this way`` are no addresses."""
_ADDRESS_WITHOUT_DIGITS = re.compile(r"\battn\b|\bp\.? ?o\.? box\b", re.IGNORECASE)
"""What :data:`_ADDRESS` finds in a text without digits (searched instead: most sentences have none)."""
_DIGIT = re.compile(r"\d")
"""A digit as ``\\d`` reads them, which :data:`_PHONE` and all but the last two ways of
:data:`_ADDRESS` need."""
_CONTACT = re.compile(
    r"\b(?:contact(?:ing)? (?:us|our|them|the|a)|write to (?:us|our)|reach (?:us|our|them)|call us|e-?mail us"
    r"|get in touch|send (?:us|your (?:request|question|inquiry|complaint|notice))"
    r"|(?:our|the following|this) (?:mailing |postal |e-?mail )?address"
    r"|(?:data protection|gdpr|local|eu|eea|uk|swiss) representatives?"
    r"|representatives? (?:in|for) the (?:eu|eea|uk|united kingdom|european (?:union|economic area)|union)"
    r"|representatives? (?:in|for) switzerland|data protection officer|dpo)\b",
    re.IGNORECASE)
"""Words of contact details: how to reach the company, its data protection officer, or the
representative it appoints in a jurisdiction (not a representative in a proceeding, nor staff)."""
_STATISTICS = re.compile(
    r"\b(?:monthly active|active (?:users|recipients)|recipients of the service|million|billion|statistic\w*"
    r"|transparency report\w*|reporting period|average (?:number|monthly))\b", re.IGNORECASE)
"""Words of a statistics disclosure (figures reported, not promised)."""
_CHROME = re.compile(
    r"©|\b(?:all rights reserved|skip to (?:main )?content|back to top"
    r"|was this (?:page|article|answer) helpful"
    r"|cookie (?:settings|preferences)|accept (?:all )?cookies|print this page|share this (?:page|article)"
    r"|related articles|sign up for (?:our|the) newsletter|table of contents|on this page|in this article)\b",
    re.IGNORECASE)
"""Page furniture a site's layout adds to a captured page: footers, banners, navigation titles
(read as such only in a short sentence that binds no one)."""
_INSTRUCTION = re.compile(
    r"^\W*(?:click|tap|select|choose|scroll|navigate|visit|go to|log ?in|sign ?in"
    r"|follow (?:the|these|this)|open"
    r"|enter|see|view|refer to|learn more|find out)\b"
    r"|\bplease (?:\w+ )?(?:submit|use|visit|see|refer|contact|go|click|select|fill|follow|review)\b"
    r"|^\W*(?:to|if you (?:would like|wish|want) to) [^,;]{1,120}, (?:please |simply |just )?"
    r"(?:click|tap|select|visit|go|log|sign|follow|use|contact|submit|see|open|scroll|choose)\b",
    re.IGNORECASE)
"""Sentences that tell the reader how to do something: where to click, what to visit."""
_METADATA = re.compile(
    r"\b(?:last (?:updated?|revised|modified|amended|reviewed|changed)|updated|revised|revision|modified"
    r"|amended"
    r"|effective|posted|published|version|dated|valid from|in force from)\b", re.IGNORECASE)
_VERSION_NOTE = re.compile(
    r"\b(?:previous|prior|earlier|archived|older|past) (?:versions?|terms|polic(?:y|ies))\b"
    r"|\bsummary of (?:the |our |these )?(?:changes|updates|revisions)\b"
    r"|\b(?:changes?|updates?|revisions?) summary\b"
    r"|\bchange ?log\b|\bversion history\b", re.IGNORECASE)
_YEAR_OR_VERSION = re.compile(r"\b(?:19|20)\d{2}\b|\bv?\d+(?:\.\d+)+\b")
_STARTS_WITH_DATE = re.compile(
    r"^\W*(?:\d{4}-\d{2}-\d{2}|(?:january|february|march|april|may|june|july|august|september|october"
    r"|november|december) \d{1,2},? \d{4}|\d{1,2} (?:january|february|march|april|may|june|july|august"
    r"|september|october|november|december) \d{4})\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_LONG = 2000
"""Characters beyond which a sentence is not read as presentation."""
_CAPITALIZED = re.compile(r"[A-Z0-9]")
_COMPANY = frozenset("inc ltd llc gmbh limited corp corporation co plc sa ag bv nv sarl sas srl spa ab oy as"
                     .split())

PRESENTATION = ("navigation", "heading", "metadata", "chrome", "contact", "statistics", "instruction",
                "label", "acceptance")
"""Kinds of sentences that are presentation, not terms."""


@lru_cache(maxsize=8192)
def kind(text: str, lead: str, *, links: bool = False, heading: bool = False, table: bool = False) -> str:
    """What the sentence ``text`` is: one of :data:`PRESENTATION`, else ``"obligation"``
    (it imposes, grants or waives something, or makes other terms apply) or ``"other"``.
    ``lead`` introduces the list the sentence is an item of; ``links``, ``heading`` and
    ``table`` say what the block it stands in is (:class:`terms.prose.Sentence`)."""
    if links:
        return "navigation"
    if heading:
        return "heading"
    if len(text) > _LONG:  # no address, date line or instruction runs this long
        return "obligation" if obliges(f"{lead} {text}") or _PROHIBITION.match(text) else "other"
    words = _WORD.findall(text)
    if len(words) <= 12 and _CHROME.search(text) and not obliges(text):
        return "chrome"
    if _metadata(text, words):
        return "metadata"
    strong = obliges(text, strict=True)
    if not strong and _contact(text) and not _quantity(text):
        return "contact"
    if _digits(text) and _STATISTICS.search(text) and not obliges(text):
        return "statistics"
    if not strong and _INSTRUCTION.search(text):
        return "instruction"
    # a table's row "Pro, €10" or "Pro, 3" gives a price or a limit, not a label
    if len(words) <= 8 and not obliges(text) and not (_quantity(text) or table and _digits(text)) and not any(
            w[0].islower() and w not in FUNCTION_WORDS for w in words):
        return "label"
    if _ACCEPTANCE.match(text):
        return "acceptance"
    return "obligation" if obliges(f"{lead} {text}") or _PROHIBITION.match(text) else "other"


def _digits(text: str) -> bool:
    """True if a character of ``text`` is a digit (``str.isdigit``: ``\\d`` and more)."""
    return _DIGIT.search(text) is not None or (not text.isascii() and any(map(str.isdigit, text)))


def _contact(text: str) -> bool:
    """True if ``text`` has an e-mail address, phone number, postal address or words of
    contact details."""
    return any(pattern.search(text) for pattern in _details(text)) or bool(_CONTACT.search(text))


def _details(text: str) -> tuple[re.Pattern[str], ...]:
    """The patterns of e-mail addresses, phone numbers and postal addresses to search ``text``
    with: those that cannot match without ``@`` or a digit left out, or in their place the
    part of them that can."""
    digit = _DIGIT.search(text) is not None
    return (_EMAIL if "@" in text else _EMAIL_WITHOUT_AT, *((_PHONE,) if digit else ()),
            _ADDRESS if digit else _ADDRESS_WITHOUT_DIGITS)


def binds(text: str) -> bool:
    """True if ``text`` has words that make something required or forbidden, grant a right
    or make other terms apply (more than a modal verb such as ``may`` or ``will``)."""
    return obliges(text, strict=True) or bool(_DEONTIC.search(text))


@lru_cache(maxsize=8192)
def obliges(text: str, strict: bool = False) -> bool:
    """True if ``text`` has a modal verb or words that impose, grant or waive something;
    ``strict``: one of those that bind (``must``, ``shall``, ``required``, ``agree``…), not
    only permit or describe (``may``, ``can``, ``will``)."""
    words = set(map(str.lower, _WORD.findall(text)))
    if strict:
        return bool(words & {"must", "shall", "cannot", "ought"}) or bool(_BINDS.search(text))
    return bool(words.intersection(MODAL_VERBS)) or bool(_DEONTIC.search(text) or _BINDS.search(text))


def modal_words(text: str) -> tuple[str, ...]:
    """The modal verbs and negations of ``text``, once each, in the order of :data:`MODAL`."""
    found = set(map(str.lower, _WORD.findall(text)))
    return tuple(w for w in MODAL if w in found)


def scope_words(text: str) -> tuple[str, ...]:
    """The words of :data:`SCOPE` in ``text``, once each, sorted."""
    return tuple(sorted(SCOPE.intersection(map(str.lower, _WORD.findall(text)))))


@lru_cache(maxsize=4096)
def subjects(text: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    """The subjects that matter (watch-list terms) ``text`` mentions, in a canonical form, sorted."""
    return tuple(sorted({canonical(m.group(0)) for m in pattern.finditer(text)}))


def about(text: str, pattern: re.Pattern[str]) -> list[str]:
    """The watch-list terms of ``text`` as written (``AI`` stays ``AI``; ``Share`` at the start of
    a sentence yields to a later ``share``), once each (``fee`` and ``fees`` once), in order."""
    found: dict[str, str] = {}
    for match in pattern.finditer(text):
        written = " ".join(match.group(0).split())
        first = found.setdefault(canonical(written), written)
        if first == written[:1].upper() + written[1:] != written:
            found[canonical(written)] = written
    return list(found.values())


def shares_data(text: str) -> bool:
    """True if ``text`` is about giving data to someone (sharing, selling, disclosing…)."""
    return bool(_SHARING.search(text) and _DATA.search(text))


def spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has contact details: e-mail addresses, web addresses, phone numbers, postal
    addresses, as ``(start, end)`` character offsets."""
    return [m.span() for pattern in (*_details(text), _URL) for m in pattern.finditer(text)]


def numeric_run(words: tuple[str, ...]) -> bool:
    """True if every word of ``words`` writes a quantity (compared on their own)."""
    return all(numeric(w) for w in words)


def cosmetic(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """True if replacing the words ``old`` by ``new`` changes nothing a reader relies on:
    function words, a typo, a number written as a word, or the number of a cross-reference."""
    if FUNCTION_WORDS.issuperset(w.lower() for w in old + new):
        return True
    if not old or not new or len(old) + len(new) > 6:
        return False
    from rapidfuzz import fuzz  # here: importing terms stays quick

    before, after = " ".join(old).lower(), " ".join(new).lower()
    if digits(before) == digits(after):
        return True
    return fuzz.ratio(before, after) >= 75 and not any(c.isdigit() for c in before + after)


def named(old: tuple[str, ...], new: tuple[str, ...], aliases: frozenset[tuple[str, str]]) -> bool:
    """True if ``new`` names what ``old`` named, or names what ``old`` only described: a name
    spelled out or shortened (``Acme`` -> ``Acme Learning``, ``AUP`` -> ``Acceptable Use
    Policy``), a defined term replaced by what it defines (``aliases``), or a name added in
    apposition (``provider`` -> ``provider, Acme``) or dropped."""
    if not old or not new:
        return all(_CAPITALIZED.match(w) or w.lower() in _COMPANY for w in old + new)
    short, long = sorted((old, new), key=len)
    initials = "".join(w[0] for w in long).upper()
    if len(short) == 1 and len(long) > 1 and short[0].isupper() and short[0] == initials:
        return True
    key = (" ".join(old).lower(), " ".join(new).lower())
    return key in aliases or key[::-1] in aliases


def proper(words: tuple[str, ...]) -> bool:
    """True if ``words`` hold a proper noun (a capitalized word that is not the first of a
    sentence is not checked: runs are inside sentences)."""
    return any(w[0].isupper() for w in words if w.lower() not in FUNCTION_WORDS)


def definitions_in(texts: Sequence[str]) -> frozenset[tuple[str, str]]:
    """:func:`definitions` of ``texts`` joined by line breaks (the sections of a version), from
    those of each text, which recur across versions; of the joined text when a definition may
    run on from one text into the next (an opening bracket and quote left open at its end)."""
    if any(_OPEN_DEFINITION.search(text) for text in texts[:-1]):
        return definitions("\n".join(texts))
    return frozenset().union(*map(definitions, texts))


@lru_cache(maxsize=4096)
def definitions(text: str) -> frozenset[tuple[str, str]]:
    """Names and the terms a text defines for them, lower case: ``Acme Ltd (“Acme”)`` gives
    ``("acme ltd", "acme")``; the words only, punctuation dropped."""
    found = set()
    for match in _DEFINED.finditer(text):
        name = " ".join(w.lower() for w in _WORD.findall(match.group(1))[-6:])
        for term in re.findall(r"[“\"]([^”\"]{1,40})[”\"]", match.group(2)):
            term = " ".join(w.lower() for w in _WORD.findall(term))
            if name and term and name != term:
                found.add((name, term))
                words = name.split()
                for start in range(1, len(words)):  # "the Site is run by Acme, Inc." -> "acme inc"
                    found.add((" ".join(words[start:]), term))
    return frozenset(found)


_DEFINED = re.compile(r"((?:[A-Z][\w.&'’-]*,? ){1,6})"
                      r"\(((?:the |each |collectively |together )?[“\"][^)]{1,120})\)")
_OPEN_DEFINITION = re.compile(r"\((?:the |each |collectively |together )?[“\"][^)]*\Z")
"""The bracket and quote of a definition not closed by the end of a text: a definition of
:data:`_DEFINED` may only run on from one line to the next there (its names stay on one line)."""


def _metadata(text: str, words: list[str]) -> bool:
    """True for the document's own metadata: a line giving its date or version (the word for
    it among the first few, nothing that binds, no amount or period), a note on its earlier
    versions, or a change-log entry (a line that starts with a date)."""
    if _STARTS_WITH_DATE.match(text):
        return True
    if len(words) > 16 or obliges(text) or _quantity(text):
        return False
    if _VERSION_NOTE.search(text):
        return True
    found = _METADATA.search(text)
    return bool(found and len(_WORD.findall(text[:found.start()])) < 6 and _YEAR_OR_VERSION.search(text))


def _quantity(text: str) -> bool:
    return any(q.kind in ("money", "duration", "percent", "age") for q in quantities(text))


@lru_cache(maxsize=4096)
def canonical(term: str) -> str:
    """A watch-list term as found, in one form for all its spellings: ``Fees`` -> ``fee``."""
    term = " ".join(term.lower().replace("-", " ").split())
    return term[:-1] if term.endswith("s") and len(term) > 3 and not term.endswith("ss") else term
