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
     ["Heading '6. Contact' renamed to '6. Getting in Touch'."]),
    ("harmless sentence added", edit(("signed in.", "signed in. Our office is in Lisbon.")), False,
     ["In section '5. Privacy', 1 sentence added"]),
    ("harmless rewording", edit(("Write to us at the address on our website.",
                                 "Send us a letter at the address shown on our website.")), False, []),
    ("refund window shortened in a long paragraph", edit(("within 14 days", "within 7 days")), True,
     ["Refund period shortened from 14 days to 7 days in section '3. Refunds'"]),
    ("refund window extended", edit(("within 14 days", "within 30 days")), True,
     ["Refund period extended from 14 days to 30 days"]),
    ("duration in words", edit(("within 14 days", "within fourteen (14) business days")), True,
     ["Refund period changed from 14 days to fourteen (14) business days"]),
    ("price increased", edit(("$10 per month", "$15 per month")), True,
     ["Fee amount increased from $10 to $15 in section '2. Fees'"]),
    ("price reduced", edit(("$10 per month", "$8.50 per month")), True,
     ["Fee amount reduced from $10 to $8.50"]),
    ("currency changed", edit(("$10 per month", "10 EUR per month")), True,
     ["Fee amount changed from $10 to 10 EUR"]),
    ("new arbitration section", BASE + "\n## 7. Disputes\n\nAny dispute will be settled by binding "
     "arbitration, and you waive any class action.\n", True,
     ["New section '7. Disputes', which mentions “arbitration”, “waive” and “class action”."]),
    ("removed right", edit(("You may export your content at any time from the settings page.\n", "")),
     True, ["A clause mentioning “your content” was removed from section '4. Your Rights'"]),
    ("new data-sharing sentence", edit(("signed in.", "signed in. We may share your personal data "
                                                       "with advertising partners.")), True,
     ["A clause mentioning “share”, “personal data” and “advertising” was added to section '5. Privacy'"]),
    ("watched sentence changed", edit(("we will\nreturn the full amount",
                                       "we may\nreturn part of the amount")),
     True, ["What a party may or must do changed in section '3. Refunds': “will” became “may”"]),
    ("section removed", BASE.replace(section("4. Your Rights"), ""), True,
     ["Section '4. Your Rights' removed: it mentioned “your content”."]),
    ("section largely rewritten", edit(("You are responsible for keeping your password secret.\n"
                                        "Tell us at once if someone uses your account without your "
                                        "permission.",
                                        "Accounts are personal. Do not lend yours to colleagues or family.")),
     True, ["A clause was removed from section '1. Accounts': “You are responsible for keeping your password",
            "A clause was added to section '1. Accounts': “Do not lend yours to colleagues or family.”"]),
    ("watch term from configuration", edit(("We use cookies to keep you signed in.",
                                           "We use cookies to keep you signed in and to measure visits.")),
     True, ["What a clause covers changed in section '5. Privacy'"]),
    ("date changed", edit(("once a year (see", "once a year, first on 2026-03-01 (see")), True,
     ["New date: 2026-03-01 in section '2. Fees'"]),
    ("percentage changed", edit(("billed in advance.", "billed in advance, with 20% VAT.")),
     True, ["New fee percentage: 20% in section '2. Fees'"]),
    ("cross-reference renumbered", edit(("(see section 3)", "(see section 4)")), False, []),
    ("empty heading added", edit(("## 6. Contact", "## Miscellaneous\n\n## 6. Contact")), False,
     ["Section 'Miscellaneous' added, with a heading only."]),
    ("durations written in words, sentence reworded",
     edit(("for 2 years", "for two years"),
          ("for 7 years for tax purposes.", "for seven years, as tax law requires.")),
     False, ["A clause was reworded in section '5. Privacy'"]),
    ("refund window written in words", edit(("within 14 days", "within fourteen days")), False, []),
    ("device limit written in words", edit(("up to 3 devices", "up to three devices")), False, []),
    ("refund sentence reworded", edit(("the card you paid with", "the card you used to pay")), False,
     ["A clause was reworded in section '3. Refunds'"]),
    ("retention period in words extended", edit(("for 2 years", "for three years")), True,
     ["Period extended from 2 years to three years in section '5. Privacy'"]),
    ("refund window in words shortened", edit(("within 14 days", "within seven days")), True,
     ["Refund period shortened from 14 days to seven days"]),
    ("watched sentence reworded with a scope word", edit(("at any time from the", "only from the")),
     True,
     ["What a clause covers changed in section '4. Your Rights'"]),
    ("postal address changed",
     edit(("4 Harbour Lane, Bristol BS1 0QB", "Unit 12, Canal Wharf, Bristol BS1 6XN")), False, []),
    ("phone number changed", edit(("0117 496 0000", "0117 496 0123")), False, []),
    ("help link added", edit(("at once if", "at once, or through the [account help page]"
                                            "(https://example.com/help/security), if")), False,
     ["In section '1. Accounts', 1 sentence reworded"]),
    ("device limit lowered", edit(("up to 3 devices", "up to 2 devices")), True,
     ["Number of devices decreased from 3 to 2 in section '2. Fees'"]),
    ("minimum age raised", edit(("at least 13", "at least 16")), True,
     ["Minimum age raised from 13 to 16 in section '(untitled opening)'"]),
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
     True, ["Refund period shortened from 14 days to 7 days in section '3. Refunds'",
            "A sentence in section '3. Refunds' now mentions “pricing” and “renewal”"]),
    ("watched sentence extended", BASE,
     edit(("from the settings page.", "from the settings page, or ask our support team to send you a copy "
                                      "of everything you have written, by email or on a memory stick.")),
     True, ["What a clause covers changed in section '4. Your Rights'"]),
    ("harmless sentence extended", BASE,
     edit(("on our website.", "on our website, or call our friendly support team during office hours, "
                              "which are listed on the contact page.")),
     False, []),
    ("data shared with someone else", SHARING, edit(("with our partners", "with advertisers"), text=SHARING),
     True, ["A sentence in section '5. Privacy' now mentions “advertisers”: "
            "“We share your data with advertisers to run the service.”"]),
    ("data shared for another purpose", SHARING,
     edit(("to run the service", "to show you ads"), text=SHARING),
     True, ["A sentence in section '5. Privacy' now mentions “ads”"]),
    ("typo in a data-sharing sentence", SHARING, edit(("our partners", "our partenrs"), text=SHARING),
     False, []),
    ("function word in a data-sharing sentence", SHARING,
     edit(("run the service", "run this service"), text=SHARING), False, []),
    ("function word in a refund sentence", BASE, edit(("to the card you", "to that card you")), False, []),
    ("retention period in months, same length", BASE, edit(("for 2 years", "for 24 months")), False, []),
    ("retention period in months, longer", edit(("for 2 years", "for 12 months")),
     edit(("for 2 years", "for 18 months")), True,
     ["Period extended from 12 months to 18 months in section '5. Privacy'"]),
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
    quote = ("“If you are not satisfied, you can ask for a refund within 14 days of purchase, and we will "
             "return t…”")
    assert terms.compare(old, new).reasons == (
        f"Refund period extended from 7 days to 14 days in section '3. Refunds': {quote}",
        f"What a clause covers changed in section '3. Refunds': {quote}",
        f"A sentence in section '3. Refunds' no longer mentions “pricing” and “renewal”: {quote}")


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
    assert terms.compare(old, new).reasons == (
        "In section '(untitled opening)', 1 sentence reworded, with no obligation, cost, data or party "
        "in them.",)
    change = terms.compare(old, new, watch=["cookies"])
    assert change.material
    assert change.reasons == ("A sentence mentioning “cookies” (on the watch list) changed in section "
                              "'(untitled opening)': “We bake fresh cookies.”",)


def test_invalid_watch_term_is_taken_literally():
    change = terms.compare("Pay the invoice in full now.\n", "Pay the invoice (in advance in full now.\n",
                           watch=["(in advance"])
    assert change.reasons == ("A sentence in section '(untitled opening)' now mentions “(in advance”: "
                              "“Pay the invoice (in advance in full now.”",)


def test_removed_and_added_sections_are_material_in_both_directions():
    old = "## Fees\n\nThe fee is $5.\n"
    new = old + "\n## Arbitration\n\nDisputes go to arbitration.\n"
    assert terms.compare(old, new).reasons == ("New section 'Arbitration', which mentions “Disputes”.",)
    assert terms.compare(new, old).reasons == ("Section 'Arbitration' removed: it mentioned “Disputes”.",)
    assert terms.compare(old, new).summary == "New section 'Arbitration', which mentions “Disputes”."
    assert terms.compare(new, old).summary == "Section 'Arbitration' removed."


def test_a_new_section_quotes_the_watched_terms_it_mentions_as_written():
    """Not "on ai, share and third parties": keywords glued as if a topic, lower-cased."""
    old = "## Fees\n\nThe fee is $5.\n"
    new = old + "\n## 6. Tutor\n\nThe tutor uses AI. Share your notes: we share them with third parties.\n"
    assert terms.compare(old, new).summary == (
        "New section '6. Tutor', which mentions “AI”, “share” and “third parties”.")
    assert terms.compare(new, old).reasons == (
        "Section '6. Tutor' removed: it mentioned “AI”, “share” and “third parties”.",)

def test_bare_numbers_count_only_in_sentences_that_matter():
    from terms.quantities import quantities

    text = ("The fee is 10, or call 0117 496 0000, or write to Unit 12, 4 Harbour Lane "
            "(see section 5).")
    assert quantities(text) == []
    assert [q.text for q in quantities(text, bare=True)] == ["10"]


def flag_warnings(problems):
    return [p for p in problems if "is marked" in p.message and "looks" in p.message]


def terms_file(effective, body, material=None):
    from support.repo import front

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
        "(high confidence, score 0.70): Refund period shortened from 14 days to 7 days.")


def test_check_warns_on_a_material_flag_for_a_cosmetic_change(content_repo):
    content_repo.commit("2025-01-01", **{"terms.md": terms_file("2025-01-01", BASE)})
    content_repo.commit("2025-05-01", **{"terms.md": terms_file(
        "2025-08-01", edit(("## 6. Contact", "## 7. Contact")), material=True)})
    [warning] = flag_warnings(terms.check(terms.load(content_repo.path), now=NOW))
    assert warning.message == ("version 2025-08-01 is marked material, but the change from 2025-01-01 "
                               "looks not material (high confidence, score 0.00): Sections were renumbered; "
                               "their wording did not change.")


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
    assert "Fee amount increased from $15 to $20." in warning.message


def unflagged_warnings(problems):
    return [p for p in problems if "has no 'material:' flag" in p.message]


def test_check_asks_the_editor_to_decide_on_an_unflagged_material_change(content_repo):
    """A repository adopted without front matter: versions have no flag, so the verdict decides.
    ``check`` says what will happen and how to confirm or overrule it, for the version still
    open to a decision (here the uncommitted edit), not for those already in force."""
    from click.testing import CliRunner

    from termsledger.cli import cli

    content_repo.commit("2025-01-01", **{"terms.md": BASE})
    content_repo.commit("2025-02-01", **{"terms.md": edit(("$10", "$15"))})
    assert unflagged_warnings(terms.check(terms.load(content_repo.path), now=NOW)) == []
    content_repo.write("terms.md", edit(("$10", "$15"), ("within 14 days", "within 7 days")))
    result = CliRunner().invoke(cli, ["check", "--content", str(content_repo.path)])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if "material:" in line]  # no notice: no date
    version = terms.load(content_repo.path).document("terms").versions[-1].id
    line_of_change = BASE.splitlines().index(next(x for x in BASE.splitlines() if "within 14 days" in x)) + 1
    assert line == (
        f"terms.md:{line_of_change}: warning: version {version} has no 'material:' flag and the change from "
        "2025-02-01 looks material (high confidence, score 0.70): Refund period shortened from 14 days to 7 "
        "days. So users who accepted an earlier version will be asked to accept it again once it takes "
        f"effect on {version}: write 'material: true' to confirm, or 'material: false' if they need only be "
        "told")


def test_check_asks_the_editor_to_decide_when_the_analysis_is_unsure(content_repo):
    content_repo.commit("2025-01-01", **{"terms.md": terms_file("2025-01-01", BASE)})
    unsure = edit(("the card you paid with", "the card you used to pay"),
                  ("Payment records are kept for 7 years for tax purposes.",
                   "Payment records are kept for 7 years, as tax law requires."))
    content_repo.commit("2025-05-01", **{"terms.md": terms_file("2025-08-01", unsure)})
    [warning] = unflagged_warnings(terms.check(terms.load(content_repo.path), now=NOW))
    body_line = 6  # after five lines of front matter
    changed = next(n for n, line in enumerate(BASE.splitlines()) if "paid with" in line)
    assert warning.line == body_line + changed
    assert "the change from 2025-01-01 looks not material (low confidence, score 0.44)" in warning.message
    assert ("So users will only be told of it once it takes effect on 2025-08-01: write 'material: false' to "
            "confirm, or 'material: true' if they must accept it again") in warning.message
    typo = edit(("return the full amount", "retrun the full amount"))
    content_repo.commit("2025-05-02", **{"terms.md": terms_file("2025-08-01", typo)})
    assert unflagged_warnings(terms.check(terms.load(content_repo.path), now=NOW)) == []


def test_an_age_is_named_as_such():
    old = "# Terms\n\n## Eligibility\n\nAccount holders must be at least 13 years old.\n"
    change = terms.compare(old, old.replace("13 years", "16 years"))
    assert change.material
    assert change.reasons == ("Minimum age raised from 13 years to 16 years in section 'Eligibility': "
                              "“Account holders must be at least 16 years old.”",)
    assert change.summary == "Minimum age raised from 13 years to 16 years."


def test_the_examples_verdicts_agree_with_its_editors_flags(example_content):
    content = terms.load(example_content)
    judged = 0
    for document in content.documents.values():
        for previous, version in zip(document.versions, document.versions[1:], strict=False):
            if version.material is not None:
                change = terms.compare(previous, version)
                assert change.material is version.material, (document.slug, version.id, change.reasons)
                assert change.summary
                judged += 1
    assert judged >= 10


def test_definitions_read_section_by_section_are_those_of_the_whole_version():
    from terms.clauses import definitions, definitions_in

    sections = ["Intro\n\nRiverbend Learning Ltd (“Riverbend”) runs this site.\n",
                "## 1. Help\n\nWrite to Lantern Support Co (the “Help Desk”) at any time.\n",
                "## 2. Open\n\nOtter Press Inc (“Otter\n", "## 3. Closed\n\nPress”) prints the books.\n"]
    for texts in (sections[:2], sections):  # the last pair: a definition runs on into the next section
        assert definitions_in(texts) == definitions("\n".join(texts))
    assert ("riverbend learning ltd", "riverbend") in definitions_in(sections[:2])
    assert ("otter press inc", "otter 3 closed press") in definitions_in(sections)


@pytest.mark.parametrize("sentence", ["Attn: Legal Department, Harbour House.", "Send it to P.O. Box 55.",
                                      "Our address is [email protected] for questions.",
                                      "Write to legal@harbour.example with questions."])
def test_contact_details_with_or_without_digits_or_at_signs_are_contact(sentence):
    from terms.clauses import kind

    assert kind(sentence, "") == "contact"


PRICE_TABLE = ("# Terms\n\n## Prices\n\n| Plan | Price |\n| --- | --- |\n| Basic | {basic} |\n"
               "| Pro | {pro} |\n")


@pytest.mark.parametrize("old, new, expected", [
    ("€10", "€20", "Price amount increased from €10 to €20 in section 'Prices'"),
    ("10 USD", "20 USD", "Price amount increased from 10 USD to 20 USD in section 'Prices'"),
    ("10 €", "20 €", "Price amount increased from 10 € to 20 € in section 'Prices'"),
    ("USD 10", "USD 20", "Price amount increased from USD 10 to USD 20 in section 'Prices'"),
    ("5%", "8%", "Price percentage increased from 5% to 8% in section 'Prices'"),
])
def test_a_quantity_in_a_table_cell_is_read_as_in_prose(old, new, expected):
    """A cell is no name or label because it is short and capitalized: its amount is a term."""
    before, after = (PRICE_TABLE.format(basic="€5", pro=pro) for pro in (old, new))
    change = terms.compare(before, after)
    assert change.material, change.reasons
    assert change.confidence == "high"
    assert any(reason.startswith(expected) for reason in change.reasons), change.reasons
    assert terms.compare(after, before).material
    prose = terms.compare(f"## Prices\n\nPro: {old}\n", f"## Prices\n\nPro: {new}\n")
    assert prose.material, prose.reasons


def test_a_bare_number_changed_in_a_table_cell_is_not_left_unsaid():
    """A number alone in a cell counts what its column says: the analysis cannot tell what,
    so it is unsure rather than sure of no change."""
    table = "# Terms\n\n## Plans\n\n| Plan | Devices |\n| --- | --- |\n| Pro | {} |\n"
    change = terms.compare(table.format(3), table.format(5))
    assert change.confidence == "low", change
    assert change.reasons == ("A number changed in section 'Plans' (number increased from 3 to 5): "
                              "“Plan, Devices; Pro, 5”",)


@pytest.mark.parametrize("typo, fixed", [("arbitartion", "arbitration"), ("recieve an", "receive an"),
                                         ("responsable", "responsible"), ("per moth", "per month")])
def test_a_spelling_fix_is_summarised_as_a_wording_change(typo, fixed):
    """Whichever words a typo is in, its fix is a change of wording, not of formatting."""
    text = ("## Fees\n\nThe Pro plan costs 10 EUR per month. You will receive an invoice. You are "
            "responsible for your account. Disputes are settled by arbitration in Dublin.\n")
    change = terms.compare(text.replace(fixed, typo), text)
    assert not change.material
    assert change.summary == "No change to rights or obligations found: wording changed."
