"""The materiality verdict on hand-made pairs of versions, each rule in both directions."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import terms

FILLER = (
    "These Terms govern your use of the service and form a binding agreement between you and us. "
    "Please read them carefully, together with the policies they refer to, before using the service. "
    "Where these Terms are translated, the English text is the one that counts for every purpose. "
)

BASE = f"""Welcome to Example. You must be at least 13 to use Example. {FILLER}

## 1. Accounts

You are responsible for keeping your password secret.
Tell us at once if someone uses your account without your permission.

## 2. Fees

The Pro plan costs $10 per month, billed in advance.
Annual plans are billed once a year (see section 3).
Each plan covers up to 3 devices.

## 3. Refunds

{FILLER}If you are not satisfied, you can ask for a refund within 14 days of purchase, and we will
return the full amount to the card you paid with. {FILLER}

## 4. Your Rights

You may export your content at any time from the settings page.
You may close your account at any time.

## 5. Privacy

We describe in our [Privacy Policy](https://example.com/privacy) how we handle information.
We use cookies to keep you signed in.
We keep your data for 2 years after your account is closed.
Payment records are kept for 7 years for tax purposes.

## 6. Contact

Write to us at the address on our website.
Our office is at 4 Harbour Lane, Bristol BS1 0QB, United Kingdom (phone 0117 496 0000).
"""


def edit(*replacements: tuple[str, str], text: str = BASE) -> str:
    """``text`` with each ``(old, new)`` replaced once (each ``old`` must be present)."""
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def section(title: str) -> str:
    """The whole of section ``title`` in BASE, heading included."""
    start = BASE.index(f"## {title}")
    end = BASE.find("\n## ", start + 1)
    return BASE[start:end + 1] if end != -1 else BASE[start:]


def reorder() -> str:
    rights, privacy = section("4. Your Rights"), section("5. Privacy")
    return BASE.replace(rights + privacy, privacy + rights)


CASES = [
    # (id, new text, material, substrings each expected in one of the reasons)
    ("identical", BASE, False, []),
    ("whitespace only", edit(("billed in advance.", "billed   in advance.  "),
                             ("at once if", "at  once if")), False, []),
    ("reflowed lines", edit(("secret.\nTell us", "secret. Tell\nus")), False, []),
    ("typo fixed in a refund sentence", edit(("return the full amount", "retrun the full amount")),
     False, []),
    ("capitalisation", edit(("Annual plans", "annual Plans")), False, []),
    ("heading renumbered", edit(("## 6. Contact", "## 7. Contact")), False, []),
    ("sections moved unchanged", reorder(), False, []),
    ("link URL updated", edit(("https://example.com/privacy", "https://example.com/legal/privacy-v2")),
     False, []),
    ("heading renamed", edit(("## 6. Contact", "## 6. Getting in Touch")), False,
     ["heading renamed: '6. Contact' -> '6. Getting in Touch'"]),
    ("harmless sentence added", edit(("signed in.", "signed in. Our office is in Lisbon.")), False,
     ["1 sentence added"]),
    ("harmless rewording", edit(("Write to us at the address on our website.",
                                 "Send us a letter at the address shown on our website.")), False,
     ["section '6. Contact'"]),
    ("refund window shortened in a long paragraph", edit(("within 14 days", "within 7 days")), True,
     ["period shortened: '14 days' -> '7 days' in section '3. Refunds'"]),
    ("refund window extended", edit(("within 14 days", "within 30 days")), True,
     ["period extended: '14 days' -> '30 days'"]),
    ("duration in words", edit(("within 14 days", "within fourteen (14) business days")), True,
     ["refund period changed: '14 days' -> 'fourteen (14) business days'"]),
    ("price increased", edit(("$10 per month", "$15 per month")), True,
     ["amount increased: '$10' -> '$15' in section '2. Fees'"]),
    ("price reduced", edit(("$10 per month", "$8.50 per month")), True, ["amount reduced"]),
    ("currency changed", edit(("$10 per month", "10 EUR per month")), True,
     ["amount changed: '$10' -> '10 EUR'"]),
    ("new arbitration section", BASE + "\n## 7. Disputes\n\nAny dispute will be settled by binding "
     "arbitration, and you waive any class action.\n", True,
     ["section added: '7. Disputes'", "'arbitration'", "'class action'"]),
    ("removed right", edit(("You may export your content at any time from the settings page.\n", "")),
     True, ["sentence mentioning 'you may' removed in section '4. Your Rights'"]),
    ("new data-sharing sentence", edit(("signed in.", "signed in. We may share your personal data "
                                                       "with advertising partners.")), True,
     ["sentence mentioning 'share', 'personal data' added in section '5. Privacy'"]),
    ("watched sentence changed", edit(("we will\nreturn the full amount", "we may\nreturn part of the amount")),
     True, ["sentence mentioning 'you can', 'refund' changed in section '3. Refunds'"]),
    ("section removed", BASE.replace(section("4. Your Rights"), ""), True,
     ["section removed: '4. Your Rights'"]),
    ("section largely rewritten", edit(("You are responsible for keeping your password secret.\n"
                                        "Tell us at once if someone uses your account without your permission.",
                                        "Accounts are personal. Do not lend yours to colleagues or family.")),
     True, ["section '1. Accounts' largely rewritten"]),
    ("watch term from configuration", edit(("We use cookies to keep you signed in.",
                                           "We use cookies to keep you signed in and to measure visits.")),
     True, ["sentence mentioning 'cookies' changed"]),
    ("date changed", edit(("once a year (see", "once a year, first on 2026-03-01 (see")), True,
     ["date added: '2026-03-01'"]),
    ("percentage changed", edit(("billed in advance.", "billed in advance, with 20% VAT.")),
     True, ["percentage added: '20%'"]),
    ("cross-reference renumbered", edit(("(see section 3)", "(see section 4)")), False, []),
    ("empty heading added", edit(("## 6. Contact", "## Miscellaneous\n\n## 6. Contact")), False,
     ["section added: 'Miscellaneous'"]),
    ("durations written in words, sentence reworded",
     edit(("for 2 years", "for two years"),
          ("for 7 years for tax purposes.", "for seven years, as tax law requires.")),
     False, ["section '5. Privacy': 1 sentence changed"]),
    ("refund window written in words", edit(("within 14 days", "within fourteen days")), False, []),
    ("device limit written in words", edit(("up to 3 devices", "up to three devices")), False, []),
    ("refund sentence reworded", edit(("the card you paid with", "the card you used to pay")), False,
     ["section '3. Refunds': 1 sentence changed"]),
    ("retention period in words extended", edit(("for 2 years", "for three years")), True,
     ["period extended: '2 years' -> 'three years' in section '5. Privacy'"]),
    ("refund window in words shortened", edit(("within 14 days", "within seven days")), True,
     ["period shortened: '14 days' -> 'seven days'"]),
    ("watched sentence reworded with a scope word", edit(("at any time from the", "only from the")),
     True,
     ["sentence mentioning 'you may' changed in section '4. Your Rights'"]),
    ("postal address changed",
     edit(("4 Harbour Lane, Bristol BS1 0QB", "Unit 12, Canal Wharf, Bristol BS1 6XN")), False,
     ["section '6. Contact': 1 sentence changed"]),
    ("phone number changed", edit(("0117 496 0000", "0117 496 0123")), False,
     ["section '6. Contact': 1 sentence changed"]),
    ("help link added", edit(("at once if", "at once, or through the [account help page]"
                                            "(https://example.com/help/security), if")), False,
     ["section '1. Accounts': 1 sentence changed"]),
    ("device limit lowered", edit(("up to 3 devices", "up to 2 devices")), True,
     ["number decreased: '3 devices' -> '2 devices' in section '2. Fees'"]),
    ("minimum age raised", edit(("at least 13", "at least 16")), True,
     ["number increased: '13' -> '16' in section '(untitled opening)'"]),
]

WATCH = {"watch term from configuration": ("cookies?",)}

SHARING = edit(("signed in.", "signed in. We share your data with our partners to run the service."))
RENEWALS = ("; annual plans keep their own refund window, which is described on the pricing page, in the "
            "order confirmation and in the reminder email that we send you a week before each renewal.")

PAIRS = [
    # (id, old text, new text, material, substrings each expected in one of the reasons), also
    # judged in reverse: edited sentences, and rewordings of sentences about personal data
    ("refund window shortened and a clause appended", BASE,
     edit(("within 14 days", "within 7 days"),
          ("the card you paid with.", "the card you paid with" + RENEWALS)),
     True, ["refund period shortened: '14 days' -> '7 days' in section '3. Refunds'",
            "same sentence also extended in section '3. Refunds': \"annual plans keep their own refund"]),
    ("watched sentence extended", BASE,
     edit(("from the settings page.", "from the settings page, or ask our support team to send you a copy "
                                      "of everything you have written, by email or on a memory stick.")),
     True, ["sentence mentioning 'you may' changed in section '4. Your Rights'"]),
    ("harmless sentence extended", BASE,
     edit(("on our website.", "on our website, or call our friendly support team during office hours, "
                              "which are listed on the contact page.")),
     False, ["section '6. Contact': 1 sentence changed"]),
    ("data shared with someone else", SHARING, edit(("with our partners", "with advertisers"), text=SHARING),
     True, ["sentence mentioning 'share', 'data' changed in section '5. Privacy': "
            "\"We share your data with advertisers to run the service.\""]),
    ("data shared for another purpose", SHARING,
     edit(("to run the service", "to show you ads"), text=SHARING),
     True, ["sentence mentioning 'share', 'data' changed in section '5. Privacy'"]),
    ("typo in a data-sharing sentence", SHARING, edit(("our partners", "our partenrs"), text=SHARING),
     False, []),
    ("function word in a data-sharing sentence", SHARING,
     edit(("run the service", "run this service"), text=SHARING), False, []),
    ("function word in a refund sentence", BASE, edit(("to the card you", "to that card you")), False, []),
    ("retention period in months, same length", BASE, edit(("for 2 years", "for 24 months")), False,
     ["section '5. Privacy': 1 sentence changed"]),
    ("retention period in months, longer", edit(("for 2 years", "for 12 months")),
     edit(("for 2 years", "for 18 months")), True,
     ["period extended: '12 months' -> '18 months' in section '5. Privacy'"]),
]


@pytest.mark.parametrize("name, old, new, material, expected", PAIRS, ids=[p[0] for p in PAIRS])
def test_edited_sentences(name, old, new, material, expected):
    change = terms.compare(old, new)
    assert change.material is material, change.reasons
    for fragment in expected:
        assert any(fragment in reason for reason in change.reasons), (fragment, change.reasons)
    assert not any(" removed in " in reason or " added in " in reason for reason in change.reasons)
    if not expected:
        assert change.reasons == ()
    assert terms.compare(new, old).material is material


def test_a_clause_cut_beside_a_changed_quantity_is_noted():
    old, new = PAIRS[0][2], BASE
    assert terms.compare(old, new).reasons == (
        "refund period extended: '7 days' -> '14 days' in section '3. Refunds'",
        "same sentence also cut in section '3. Refunds': \"annual plans keep their own refund window, which "
        "is described on the pricing page, in the order con…\"")


@pytest.mark.parametrize("name, new, material, expected", CASES, ids=[c[0] for c in CASES])
def test_verdict(name, new, material, expected):
    change = terms.compare(BASE, new, watch=WATCH.get(name, ()))
    assert change.material is material, change.reasons
    assert 0.0 <= change.score <= 1.0
    for fragment in expected:
        assert any(fragment in reason for reason in change.reasons), (fragment, change.reasons)
    if not expected:
        assert change.reasons == ()
        assert change.score == 0.0


def test_every_case_is_also_judged_in_reverse():
    """Undoing a material change is material too; undoing a cosmetic one is cosmetic."""
    for name, new, material, _ in CASES:
        if name in WATCH:
            continue
        assert terms.compare(new, BASE).material is material, name


def test_watch_terms_extend_the_default_list():
    old, new = "We bake cookies.\n", "We bake fresh cookies.\n"
    assert terms.compare(old, new).reasons == ("section '(untitled opening)': 1 sentence changed",)
    change = terms.compare(old, new, watch=["cookies"])
    assert change.material
    assert change.reasons == ("sentence mentioning 'cookies' changed in section '(untitled opening)': "
                              "\"We bake fresh cookies.\"",)


def test_invalid_watch_term_is_taken_literally():
    change = terms.compare("Pay the invoice in full now.\n", "Pay the invoice (in advance in full now.\n",
                           watch=["(in advance"])
    assert change.reasons == ("sentence mentioning '(in advance' changed in section "
                              "'(untitled opening)': \"Pay the invoice (in advance in full now.\"",)


def test_removed_and_added_sections_are_material_in_both_directions():
    old = "## Fees\n\nThe fee is $5.\n"
    new = old + "\n## Arbitration\n\nDisputes go to arbitration.\n"
    assert terms.compare(old, new).reasons == (
        "section added: 'Arbitration' (mentions 'arbitration')",)
    assert terms.compare(new, old).reasons == (
        "section removed: 'Arbitration' (mentions 'arbitration')",)


def test_bare_numbers_count_only_in_sentences_that_matter():
    from terms.quantities import quantities

    text = ("The fee is 10, or call 0117 496 0000, or write to Unit 12, 4 Harbour Lane "
            "(see section 5).")
    assert quantities(text) == []
    assert [q.text for q in quantities(text, bare=True)] == ["10"]


def flag_warnings(problems):
    return [p for p in problems if "is marked" in p.message and "looks" in p.message]


def terms_file(effective, body, material=None):
    from conftest import front

    return front(title="Terms", slug="terms", effective=effective, material=material) + body


NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def test_check_warns_when_an_announced_flag_contradicts_the_analysis(content_repo):
    content_repo.commit("2025-01-01", **{"terms.md": terms_file("2025-01-01", BASE)})
    content_repo.commit("2025-05-01", **{"terms.md": terms_file(
        "2025-07-01", edit(("within 14 days", "within 7 days")), material=False)})
    [warning] = flag_warnings(terms.check(terms.load(content_repo.path), now=NOW))
    assert (warning.path, warning.line, warning.severity) == ("terms.md", 5, "warning")
    assert warning.message == (
        "version 2025-07-01 is marked not material, but the change from 2025-01-01 looks material "
        "(score 0.70): refund period shortened: '14 days' -> '7 days' in section '3. Refunds'")


def test_check_warns_on_a_material_flag_for_a_cosmetic_change(content_repo):
    content_repo.commit("2025-01-01", **{"terms.md": terms_file("2025-01-01", BASE)})
    content_repo.commit("2025-05-01", **{"terms.md": terms_file(
        "2025-08-01", edit(("## 6. Contact", "## 7. Contact")), material=True)})
    [warning] = flag_warnings(terms.check(terms.load(content_repo.path), now=NOW))
    assert warning.message == ("version 2025-08-01 is marked material, but the change from 2025-01-01 "
                               "looks cosmetic (score 0.00): no change of substance found")


def test_check_uses_the_watch_list_and_spares_agreeing_flags(content_repo):
    content_repo.commit("2025-01-01", **{"terms.md": terms_file("2025-01-01", BASE)})
    content_repo.commit("2025-05-01", **{"terms.md": terms_file(
        "2025-08-01", edit(("keep you signed in.", "keep you signed in for longer.")), material=True)})
    content = terms.load(content_repo.path)
    assert len(flag_warnings(terms.check(content, now=NOW))) == 1
    assert flag_warnings(terms.check(content, now=NOW, watch=["signed in"])) == []


def test_check_leaves_versions_in_force_alone_but_not_uncommitted_edits(content_repo):
    content_repo.commit("2025-01-01", **{"terms.md": terms_file("2025-01-01", BASE)})
    content_repo.commit("2025-02-01", **{"terms.md": terms_file(
        "2025-03-01", edit(("$10", "$15")), material=False)})
    assert flag_warnings(terms.check(terms.load(content_repo.path), now=NOW)) == []
    content_repo.write("terms.md", terms_file("2025-06-01", edit(("$10", "$20")), material=False))
    [warning] = flag_warnings(terms.check(terms.load(content_repo.path), now=NOW))
    assert "version 2025-06-01 is marked not material" in warning.message
    assert "amount increased: '$15' -> '$20'" in warning.message


def test_an_age_is_named_as_such():
    old = "# Terms\n\n## Eligibility\n\nYou must be at least 13 years old to create an account.\n"
    change = terms.compare(old, old.replace("13 years", "16 years"))
    assert change.material
    assert change.reasons == ("age raised: '13 years' -> '16 years' in section 'Eligibility'",)
