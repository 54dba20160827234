"""The catalog keeps the texts (Markdown, translations, page URLs, documents required at signup),
the gate (``required``), acceptance of a text in a language, and no acceptance of an outdated
version; on each storage engine."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import pytest
from support.ledger import content, example, sql, translated, version

import terms
from consent import (
    ChangedVersion,
    InvalidContent,
    Ledger,
    OutdatedVersion,
    UnpublishedDocument,
    UnpublishedVersion,
)

FRENCH = "# Conditions\n\nSoyez courtois.\n"


def catalog() -> terms.Content:
    """Terms (2024-01-01; 2025-01-01 material, in French too) referencing privacy (2024-01-01;
    2025-06-01 not material; 2099-01-01 material, announced), and cookies, optional."""
    return content(
        version("terms", "2024-01-01", references=["privacy"]),
        translated(version("terms", "2025-01-01", material=True, references=["privacy"]), "fr",
                   FRENCH, "Conditions"),
        version("privacy", "2024-01-01"),
        version("privacy", "2025-06-01", material=False),
        version("privacy", "2099-01-01", material=True),
        version("cookies", "2024-01-01"))


def page(text: terms.Version) -> str:
    prefix = "" if text.language == "en" else f"{text.language}/"
    return f"https://terms.example.com/{prefix}{text.slug}/{text.id}/"


@pytest.fixture
def ledger(where):
    with Ledger(where("ledger.db"), create=True) as ledger:
        ledger.publish(catalog(), required=["terms", "privacy"], urls=page)
        yield ledger


def test_the_catalog_keeps_each_text_its_translations_and_their_pages(ledger):
    published = {d.slug: d for d in ledger.catalog()}
    assert published["terms"].required and not published["cookies"].required
    terms_now = published["terms"].in_force
    assert (terms_now.language, terms_now.url) == ("en", "https://terms.example.com/terms/2025-01-01/")
    assert [(t.language, t.title, t.url) for t in terms_now.texts] == [
        ("en", "Terms", "https://terms.example.com/terms/2025-01-01/"),
        ("fr", "Conditions", "https://terms.example.com/fr/terms/2025-01-01/")]
    assert terms_now.texts[1].content_sha256 == terms.content_sha256(FRENCH)
    text = ledger.text("terms", "2025-01-01", "fr")
    assert (text.markdown, text.language, text.fallback, text.languages) == (
        FRENCH, "fr", False, ("en", "fr"))
    assert hashlib.sha256(text.markdown.encode()).hexdigest() == text.sha256
    own = ledger.text("terms", "2025-01-01", ["de-CH", "de"])
    assert (own.language, own.fallback, own.markdown) == ("en", True, catalog().documents[
        "terms"].versions[1].body)
    assert ledger.text("terms", "2025-01-01", "fr-CA").language == "fr"  # its language alone
    assert [d.slug for d in ledger.catalog(document="cookies")] == ["cookies"]
    with pytest.raises(UnpublishedDocument):
        ledger.catalog(document="nope")
    with pytest.raises(UnpublishedVersion, match="'1999-01-01' of 'terms' is not published"):
        ledger.text("terms", "1999-01-01")


def test_a_published_translation_cannot_change_but_its_title_and_page_can(ledger):
    changed = content(*(replace(v, translations=tuple(
        replace(t, body=FRENCH + "Et payez.\n", content_sha256=terms.content_sha256(
            FRENCH + "Et payez.\n")) for t in v.translations))
        for d in catalog().documents.values() for v in d.versions))
    with pytest.raises(ChangedVersion, match="the fr text of terms version 2025-01-01 .* was "
                                             "published with content_sha256"):
        ledger.publish(changed, required=[])
    assert [d.slug for d in ledger.catalog() if d.required] == ["privacy", "terms"]  # unchanged
    retitled = content(*(replace(v, translations=tuple(replace(t, title="CGU")
                                                       for t in v.translations))
                         for d in catalog().documents.values() for v in d.versions))
    published = ledger.publish(retitled, urls=lambda text: None)
    assert ("terms", "2025-01-01") in published.updated
    terms_now = {d.slug: d for d in ledger.catalog()}["terms"].in_force
    assert [(t.title, t.url) for t in terms_now.texts] == [("Terms", None), ("CGU", None)]
    assert ledger.publish(retitled).unchanged == 6  # urls and required marks are kept


def test_required_marks_are_kept_replaced_or_refused(ledger):
    ledger.publish(catalog())
    assert [d.slug for d in ledger.catalog() if d.required] == ["privacy", "terms"]
    ledger.publish(catalog(), required=["cookies"])
    assert [d.slug for d in ledger.catalog() if d.required] == ["cookies"]
    with pytest.raises(UnpublishedDocument, match="required names 'termz', which is not a "
                                                  "document of the content"):
        ledger.publish(catalog(), required=["termz"])
    assert [d.slug for d in ledger.catalog() if d.required] == ["cookies"]


def test_only_the_languages_asked_for_are_published(where):
    with Ledger(where("ledger.db"), create=True) as ledger:
        published = ledger.publish(catalog(), languages=["en"])
        assert published.translations == ()
        assert ledger.text("terms", "2025-01-01", "fr").fallback
        assert ledger.publish(catalog()).translations == (("terms", "2025-01-01", "fr"),)


def test_a_text_that_does_not_hash_to_its_sha256_is_refused(where):
    wrong = replace(version("terms", "2024-01-01"), content_sha256="0" * 64)
    with Ledger(where("ledger.db"), create=True) as ledger:
        with pytest.raises(InvalidContent, match="does not hash to its content_sha256"):
            ledger.publish(content(wrong))
        assert ledger.catalog() == []


def test_the_gate_for_each_status(ledger):
    ledger.record("current", "terms")
    ledger.record("current", "privacy", version="2099-01-01")  # accepted early
    ledger.record("announced", "terms")
    ledger.record("old", "terms", at="2024-06-01")
    ledger.record("withdrew", "terms")
    ledger.record("withdrew", "terms", action="withdrawn")
    ledger.record("withdrew", "cookies")
    ledger.record("withdrew", "cookies", action="withdrawn")
    ledger.record("declined", "cookies", action="declined")

    def actions(subject):
        found = ledger.required(subject)
        assert found.subject == subject
        return [(r.document, r.action, r.version) for r in found.required]

    assert actions("current") == []
    assert actions("announced") == [("privacy", "announce", "2099-01-01")]
    assert actions("old") == [("privacy", "notify", "2025-06-01"), ("terms", "accept", "2025-01-01")]
    assert actions("withdrew") == [("privacy", "announce", "2099-01-01"),
                                   ("terms", "accept", "2025-01-01")]
    assert actions("never") == actions("declined") == [("privacy", "accept", "2025-06-01"),
                                                       ("terms", "accept", "2025-01-01")]
    statuses = {s.document: s.status for s in ledger.status_all("withdrew")}
    assert statuses == {"cookies": "withdrawn", "privacy": "announced", "terms": "withdrawn"}
    announce = ledger.required("announced").required[0]
    assert (announce.effective, announce.title, announce.url) == (
        "2099-01-01", "Privacy", "https://terms.example.com/privacy/2099-01-01/")
    ledger.mark_notified(["old"], "privacy", "2025-06-01")
    assert actions("old") == [("terms", "accept", "2025-01-01")]
    then = ledger.required("never", at="2024-06-01T00:00:00Z").required
    assert [(r.document, r.version) for r in then] == [("privacy", "2024-01-01"),
                                                       ("terms", "2024-01-01")]


def test_an_item_carries_the_text_to_show_and_the_hashes_to_send_back(ledger):
    item = {r.document: r for r in ledger.required("new", language="fr").required}["terms"]
    listed = {d.slug: d for d in ledger.catalog()}["terms"].in_force
    assert (item.language, item.title, item.sha256, item.url) == (
        "fr", "Conditions", terms.content_sha256(FRENCH), "https://terms.example.com/fr/terms/2025-01-01/")
    assert item.manifest_sha256 == listed.manifest_sha256 and item.texts == listed.texts
    english = {r.document: r for r in ledger.required("new").required}["terms"]
    assert (english.language, english.sha256) == ("en", listed.content_sha256)
    events = ledger.record("new", "terms", sha256=item.manifest_sha256)
    assert events[0].language == "en"  # the bundle's hash names no language: its own text


def test_accepting_the_french_text_is_current_and_recorded_as_french(ledger):
    french = terms.content_sha256(FRENCH)
    events = ledger.record("marie", "terms", sha256=french, evidence={"locale": "fr-FR"})
    assert (events[0].language, events[0].content_sha256) == ("fr", french)
    assert [(e.document, e.language) for e in events] == [("terms", "fr"), ("privacy", "en")]
    assert ledger.status("marie", "terms").status == "current"
    assert [(e.language, e.content_sha256) for e in ledger.history("marie")][:1] == [("fr", french)]
    again = ledger.record("marie", "terms", language="fr")
    assert again[0].content_sha256 == french
    assert ledger.verify().ok
    texts = ledger.export("marie")["texts"]
    assert {(t["document"], t["language"]): t["markdown"] for t in texts}[("terms", "fr")] == FRENCH


def test_a_hash_or_a_language_of_no_text_of_the_version_is_refused(ledger):
    with pytest.raises(UnpublishedVersion, match="sha256 '0{64}' is neither any text of terms "
                                                 "2025-01-01 nor the manifest of its bundle"):
        ledger.record("marie", "terms", sha256="0" * 64)
    english = {d.slug: d for d in ledger.catalog()}["terms"].in_force.content_sha256
    with pytest.raises(UnpublishedVersion, match="neither the fr text of terms 2025-01-01"):
        ledger.record("marie", "terms", sha256=english, language="fr")
    with pytest.raises(UnpublishedVersion, match="version 2025-01-01 of terms has no text in "
                                                 "language 'de'; its languages are: en, fr"):
        ledger.record("marie", "terms", language="de")
    assert ledger.history("marie") == []


def test_a_batch_of_texts_in_several_languages_is_chained_as_verify_recomputes_it(ledger):
    """On PostgreSQL the database chains the events (``ledger_append``): the language of a
    translation shown is written and hashed in the event's header as in Python."""
    french = terms.content_sha256(FRENCH)
    assert ledger.record_many([
        {"subject": "fr-1", "document": "terms", "language": "fr"},
        {"subject": "en-1", "document": "terms"},
        {"subject": "fr-1", "document": "terms", "action": "withdrawn", "language": "fr"},
        {"subject": "fr-2", "document": "terms", "sha256": french, "action": "declined"},
    ]) == 6  # acceptances of terms bring privacy along
    stored = sql(ledger, "SELECT s.subject, d.slug, e.action, e.language FROM events e "
                         "JOIN subjects s ON s.id = e.subject JOIN versions v ON v.id = e.version "
                         "JOIN documents d ON d.id = v.document ORDER BY s.subject, e.seq")
    assert [(subject, slug, language) for subject, slug, _, language in stored] == [
        ("en-1", "terms", None), ("en-1", "privacy", None), ("fr-1", "terms", "fr"),
        ("fr-1", "privacy", None), ("fr-1", "terms", "fr"), ("fr-2", "terms", "fr")]
    assert [(e.language, e.content_sha256) for e in ledger.history("fr-2")] == [("fr", french)]
    result = ledger.verify()
    assert result.ok and result.status_differences == 0, result.problem


def test_a_french_acceptance_is_in_the_chain(ledger):
    ledger.record("marie", "terms", language="fr")
    sql(ledger, "UPDATE translations SET content_sha256 = ? WHERE language = 'fr'", ("f" * 64,))
    found = ledger.verify()
    assert not found.ok and re.search(r"event ([0-9]+\.)?1 was edited", found.problem)


def test_an_outdated_version_is_refused_but_history_is_imported(ledger):
    with pytest.raises(OutdatedVersion, match="version 2024-01-01 of terms is no longer in force "
                                              "on .*: version 2025-01-01 is"):
        ledger.record("late", "terms", version="2024-01-01")
    old = {d.slug: d for d in ledger.catalog(at="2024-06-01T00:00:00Z")}["terms"].in_force
    with pytest.raises(OutdatedVersion):  # named by the hash of its text
        ledger.record("late", "terms", sha256=old.content_sha256)
    with pytest.raises(OutdatedVersion):
        ledger.record("late", "terms", version="2024-01-01", action="declined")
    assert ledger.history("late") == []
    ledger.record("late", "terms", version="2024-01-01", at="2024-06-01")  # then it was in force
    ledger.record("late", "terms", version="2024-01-01", action="withdrawn")
    imported = ledger.import_records([{"subject": "past", "document": "terms",
                                       "sha256": old.content_sha256, "at": "2024-06-01"}])
    assert (imported.recorded, imported.events) == (1, 2)
    assert ledger.status("past", "terms").status == "reaccept"


def test_a_ledger_published_before_texts_were_kept_gets_them_from_the_next_publication(tmp_path):
    from test_ledger_upgrade import old_ledger

    def then(v: terms.Version) -> terms.Version:  # the texts of the release that wrote it
        body = f"# {v.slug}\n\nText of {v.slug} effective {v.id}.\n"
        return replace(v, body=body, content_sha256=terms.content_sha256(body))

    published = content(*(then(v) for d in example().documents.values() for v in d.versions))
    with Ledger(old_ledger(tmp_path)) as ledger:
        with pytest.raises(UnpublishedVersion, match="published before the ledger kept texts; run "
                                                     "termsledger publish"):
            ledger.text("terms", "2026-01-01")
        assert ledger.catalog()[1].in_force.language is None
        assert ledger.verify().ok
        assert len(ledger.publish(published).updated) == 6
        text = ledger.text("terms", "2026-01-01")
        assert (text.language, text.markdown) == ("en", published.documents["terms"].versions[2].body)
        assert ledger.export("ana")["texts"][0]["markdown"] is not None
        assert ledger.verify().ok
