"""Terms in several languages: translations beside their document (``terms.fr.md``), what
``check`` says of them, and the site in each language (pages, hreflang, switcher, dates, the
notice where a translation is missing), in a real browser too."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.repo import ROOT, front
from support.site import PRIVACY_V1, TERMS_V1, TERMS_V2, TERMS_V3, broken_links

import site_builder
import terms
from termsledger.cli import cli

DAY = date(2025, 12, 15)
"""The build date: terms 2025-06-01 in force, 2026-09-01 announced."""
LANGUAGES = ("en", "fr", "de")

TERMS_FR_V1 = front(title="Conditions d'utilisation", effective="2025-01-01",
                    summary="Première version.") + """
# Conditions d'utilisation

Bienvenue. Voir notre [politique de confidentialité](privacy.md#ce-que-nous-collectons) et les \
[remboursements](#remboursements).

## 1. Comptes

Il vous faut un compte.

## 2. Remboursements

Remboursements sous 14 jours.

| Formule | Délai |
|:-----|--------------:|
| Mensuelle | 14 jours |

Une note.[^1]

[^1]: Le texte de la note.
"""

TERMS_DE_V1 = front(title="Nutzungsbedingungen", effective="2025-01-01", summary="Erste Fassung.") + """
# Nutzungsbedingungen

Willkommen. Siehe unsere [Datenschutzerklärung](privacy.md#was-wir-erheben) und die \
[Erstattungen](#erstattungen).

## 1. Konten

Sie brauchen ein Konto.

## 2. Erstattungen

Erstattungen innerhalb von 14 Tagen.
"""
TERMS_DE_V2 = TERMS_DE_V1.replace("2025-01-01", "2025-06-01") \
    .replace("Erste Fassung.", "Kürzere Erstattungsfrist.") \
    .replace("innerhalb von 14 Tagen", "innerhalb von 7 Tagen")
TERMS_DE_V3 = TERMS_DE_V2.replace("2025-06-01", "2026-09-01") \
    .replace("Kürzere Erstattungsfrist.", "Schiedsverfahren.") \
    + "\n## 3. Schiedsverfahren\n\nStreitigkeiten gehen vor ein Schiedsgericht.\n"
PRIVACY_FR = front(title="Politique de confidentialité", effective="2025-01-01") + """
# Politique de confidentialité

## Ce que nous collectons

Votre adresse e-mail.
"""
PRIVACY_DE = front(title="Datenschutzerklärung", effective="2025-01-01") + """
# Datenschutzerklärung

## Was wir erheben

Ihre E-Mail-Adresse.
"""
CONFIG = '[site]\nlanguage = "en"\nlanguages = ["en", "fr", "de"]\nbase_url = "https://terms.example.com/"\n'


def multilingual_history(repo) -> None:
    """English terms in three versions (the last announced on 2025-12-01) and a privacy policy;
    German keeps up with every version, French lags one behind (it has only the first)."""
    repo.commit("2024-12-01T10:00:00", "Publish", **{
        "terms.md": TERMS_V1, "privacy.md": PRIVACY_V1, "terms.fr.md": TERMS_FR_V1,
                                                     "terms.de.md": TERMS_DE_V1,
        "privacy.fr.md": PRIVACY_FR, "privacy.de.md": PRIVACY_DE, "termsledger.toml": CONFIG})
    repo.commit("2025-05-01T10:00:00", "Refunds", **{"terms.md": TERMS_V2})
    repo.commit("2025-05-20T10:00:00", "Refunds in German", **{"terms.de.md": TERMS_DE_V2})
    repo.commit("2025-12-01T10:00:00", "Arbitration", **{"terms.md": TERMS_V3, "terms.de.md": TERMS_DE_V3})


@pytest.fixture
def multilingual(content_repo) -> terms.Content:
    multilingual_history(content_repo)
    return terms.load(content_repo.path)


@pytest.fixture
def site(multilingual, tmp_path) -> Path:
    out = tmp_path / "site"
    site_builder.build(multilingual, out, site_builder.SiteSettings(
        languages=LANGUAGES, base_url="https://terms.example.com/"), now=DAY)
    return out


def test_translations_are_texts_of_their_document_s_versions(multilingual):
    assert list(multilingual.documents) == ["privacy", "terms"]  # terms.fr.md is no document of its own
    v1, v2, v3 = multilingual.document("terms").versions
    assert v1.languages == ("en", "de", "fr")
    assert v2.languages == ("en", "de") and v3.languages == ("en", "de")
    french = v1.translation("fr")
    assert (french.language, french.id, french.slug, french.path) == ("fr", v1.id, "terms", "terms.fr.md")
    assert (french.title, french.summary) == ("Conditions d'utilisation", "Première version.")
    assert french.content_sha256 == terms.content_sha256(french.body) != v1.content_sha256
    assert (french.material, french.references) == (v1.material, v1.references)  # the document's
    assert v2.translation("fr") is None and v2.translation("en") is v2
    german = v3.translation("de")
    assert german.title == "Nutzungsbedingungen" and "Schiedsverfahren" in german.body
    french_view = multilingual.in_language("fr").document("terms")
    assert [v.language for v in french_view.versions] == ["fr", "en", "en"]


def test_check_names_each_problem_of_the_translations(content_repo):
    multilingual_history(content_repo)
    content_repo.commit("2025-12-10T10:00:00", "More", **{
        # French: a version that does not exist; the announced version with a section missing and a link to a
        # heading it lacks
        "privacy.fr.md": PRIVACY_FR.replace("2025-01-01", "2025-03-01"),
        "terms.fr.md": TERMS_FR_V1.replace("2025-01-01", "2026-09-01")
        .replace("## 1. Comptes\n\nIl vous faut un compte.\n\n", "").replace("#remboursements", "#frais")})
    found = [str(p) for p in terms.check(terms.load(content_repo.path), now=DAY, languages=LANGUAGES)]
    assert ("privacy.fr.md:3: error: this French text translates the version of 2025-03-01, which privacy.md "
            "does not have (its versions are: 2025-01-01): name one of them with 'effective:' (and 'label:')"
            in found)
    assert ("terms.fr.md:1: warning: no French text for the version of 1 June 2025 (2025-06-01, in force): "
            "until there is one, its French page shows the English text with a notice. Translate it in "
            "terms.fr.md (effective: 2025-06-01)") in found
    assert not any("no French text for the version of 1 September 2026" in line for line in found), found
    assert not any("German text" in line for line in found), found  # German keeps up
    assert ("terms.fr.md:9: error: link to '#frais': the French text of terms.fr.md has no heading #frais"
            in found)
    assert ("terms.fr.md:7: warning: the section count differs: the French text of version 2026-09-01 has 2 "
            "headings, the English text 4; translate every section, so that the two read alike section by "
            "section") in found


def test_check_reports_headings_that_do_not_follow_the_source(content_repo):
    content_repo.commit("2025-01-01T10:00:00", **{
        "terms.md": TERMS_V1, "privacy.md": PRIVACY_V1,
        "terms.fr.md": TERMS_FR_V1.replace("## 1. Comptes\n\nIl vous faut un compte.\n\n", ""),
        "privacy.fr.md": PRIVACY_FR.replace("## Ce que", "### Ce que")})
    problems = [str(p) for p in terms.check(terms.load(content_repo.path), now=date(2025, 2, 1),
                                            languages=["en", "fr"])]
    assert any(p.startswith("terms.fr.md:7: warning: the section count differs: the French text of version "
                            "2025-01-01 has 2 headings, the English text 3") for p in problems), problems
    assert ("privacy.fr.md:8: warning: heading 2 ('Ce que nous collectons') is of level 3 in the French text "
            "of version 2025-01-01, of level 2 in the English one") in problems


def test_a_translation_without_its_document_or_language_is_an_error_not_a_document(content_repo):
    content_repo.commit("2025-01-01T10:00:00", **{"terms.md": TERMS_V1, "privacy.md": PRIVACY_V1,
                                                  "cookies.fr.md": "# Cookies\n\nTexte.\n",
                                                  "terms.v2.md": "# Old terms\n\nText.\n"})
    content = terms.load(content_repo.path)
    assert set(content.documents) == {"privacy", "terms", "terms-v2"}  # v2 is no language
    assert [str(p) for p in content.problems] == [
        "cookies.fr.md:1: error: cookies.fr.md is named as the French text of cookies.md, which does not "
        "exist: name it after its document (cookies.md with .fr before the extension), or remove the .fr"]


def test_a_translation_without_front_matter_translates_the_version_in_force_when_committed(content_repo):
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS_V1, "privacy.md": PRIVACY_V1})
    content_repo.commit("2025-02-01T10:00:00", **{"terms.fr.md": "# Conditions\n\nPremière traduction.\n"})
    content_repo.commit("2025-05-01T10:00:00", **{"terms.md": TERMS_V2})
    content_repo.commit("2025-07-01T10:00:00", **{"terms.fr.md": "# Conditions\n\nSeconde traduction.\n"})
    v1, v2 = terms.load(content_repo.path).document("terms").versions
    assert "Première" in v1.translation("fr").body and "Seconde" in v2.translation("fr").body


def test_a_translation_in_force_keeps_the_text_it_took_effect_with(content_repo):
    multilingual_history(content_repo)
    content_repo.commit("2025-08-01T10:00:00", "Fix", **{"terms.de.md": TERMS_DE_V3.replace(
        "vor ein Schiedsgericht", "an ein Schiedsgericht")})  # the announced version may still change
    content_repo.commit("2025-12-20T10:00:00", "Rewrite",
                        **{"terms.fr.md": TERMS_FR_V1.replace("14 jours", "30 jours")})
    content = terms.load(content_repo.path)
    v1, _, v3 = content.document("terms").versions
    assert "14 jours" in v1.translation("fr").body  # the French text of a version in force never changes
    assert "an ein Schiedsgericht" in v3.translation("de").body
    rewrite = [p for p in content.problems if p.path == "terms.fr.md"]
    assert [p.severity for p in rewrite] == ["error"]
    assert "a text in force cannot change" in rewrite[0].message
    assert ("Either translate a new version of terms.md (a new effective date, or a label) with the new text "
            "or restore the text that took effect" in rewrite[0].message)


@pytest.mark.parametrize("toml, message", [
    ('[site]\nlanguages = ["en", "french"]\n', "[site] languages 'french' is not a language code: use a BCP "
                                               "47 tag "
                                              "such as 'en', 'fr' or 'pt-BR'"),
    ('[site]\nlanguage = "fr"\nlanguages = ["en", "de"]\n', "[site] languages [\"en\", \"de\"] must list the "
                                                            "site's "
                                                             "language 'fr' ([site] language)"),
    ('[site]\nlanguages = "fr"\n', "[site] languages must be a list of language codes"),
])
def test_language_settings_are_checked(tmp_path, toml, message):
    (tmp_path / "terms.md").write_text(TERMS_V1, encoding="utf-8")
    (tmp_path / "termsledger.toml").write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--content", str(tmp_path)])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_pages_in_each_language_and_default_urls_unchanged(multilingual, site, tmp_path):
    single = tmp_path / "single"
    site_builder.build(multilingual, single, site_builder.SiteSettings(base_url="https://terms.example.com/"),
                       now=DAY)
    default = {p.relative_to(site) for p in site.rglob("*.html")
               if p.parts[len(site.parts)] not in ("fr", "de")}
    assert default == {p.relative_to(single) for p in single.rglob("*.html")}  # no published URL moves
    assert broken_links(site) == []
    for lang in ("fr", "de"):
        for path in ("", "terms/", "terms/history/", "terms/2025-01-01/", "terms/2026-09-01/",
                     "terms/diff/2025-01-01..2025-06-01/", "privacy/"):
            page = (site / lang / path / "index.html").read_text(encoding="utf-8")
            assert f'<html lang="{lang}">' in page, (lang, path)
    german = (site / "de/terms/index.html").read_text(encoding="utf-8")
    assert "<h1 id=\"Title\"><span id=\"nutzungsbedingungen\">Nutzungsbedingungen</span></h1>" in german
    assert "In Kraft seit dem <time datetime=\"2025-06-01\">1. Juni 2025</time>." in german
    assert "Im Falle eines Widerspruchs ist die Fassung auf Englisch maßgeblich." in german
    # a German redline of German texts, with the English analysis' verdict
    diff = (site / "de/terms/diff/2025-06-01..2026-09-01/index.html").read_text(encoding="utf-8")
    assert "Neuer Abschnitt: 3. Schiedsverfahren" in diff and "Wesentliche Änderung" in diff
    # French lags one version behind: its page of the version in force shows the English text, said so
    # in French
    french = (site / "fr/terms/index.html").read_text(encoding="utf-8")
    assert "Cette version n’a pas encore de texte en français : elle est présentée en anglais" in french
    assert '<article aria-labelledby="Title" lang="en">' in french and "Refunds within 7 days." in french
    assert ("Le dernier texte en français est celui de <a href=\"2025-01-01/\">la version du 1 janvier "
            "2025</a>." in french)
    assert "En vigueur depuis le <time datetime=\"2025-06-01\">1 juin 2025</time>." in french
    assert '<meta name="robots" content="noindex">' in french
    assert "En cas de divergence" not in french  # the text shown is the English one
    fr_v1 = (site / "fr/terms/2025-01-01/index.html").read_text(encoding="utf-8")
    assert "Remboursements sous 14 jours." in fr_v1
    assert "En cas de divergence, la version en anglais prévaut." in fr_v1
    # links in a translation go to the pages in its language, to the headings of the texts there
    assert 'href="../../privacy/2025-01-01/#ce-que-nous-collectons"' in fr_v1


def test_hreflang_and_sitemap(site):
    page = (site / "de/terms/2025-06-01/index.html").read_text(encoding="utf-8")
    assert re.findall(r'<link rel="alternate" hreflang="([\w-]+)" href="([^"]+)">', page) == [
        ("en", "https://terms.example.com/terms/2025-06-01/"),
        ("de", "https://terms.example.com/de/terms/2025-06-01/"),
        ("x-default", "https://terms.example.com/terms/2025-06-01/")]  # no French text of this version
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert 'xmlns:xhtml="http://www.w3.org/1999/xhtml"' in sitemap
    assert ('<url><loc>https://terms.example.com/fr/terms/2025-01-01/</loc><lastmod>2024-12-01</lastmod>'
            '<xhtml:link rel="alternate" hreflang="en" href="https://terms.example.com/terms/2025-01-01/"/>'
            '<xhtml:link rel="alternate" hreflang="fr" '
            'href="https://terms.example.com/fr/terms/2025-01-01/"/><xhtml:link rel="alternate" '
            'hreflang="de" href="https://terms.example.com/de/terms/2025-01-01/"/><xhtml:link '
            'rel="alternate" hreflang="x-default" href="https://terms.example.com/terms/2025-01-01/"/></url>'
            in sitemap)
    assert "https://terms.example.com/fr/terms/2025-06-01/<" not in sitemap  # the English text under /fr/


def test_versions_json_carries_each_language(site, multilingual):
    data = json.loads((site / "versions.json").read_text(encoding="utf-8"))
    assert (data["language"], data["languages"]) == ("en", list(LANGUAGES))
    v1, v2, _ = next(d for d in data["documents"] if d["slug"] == "terms")["versions"]
    source = multilingual.document("terms").versions[0]
    assert v1["language"] == "en" and sorted(v1["translations"]) == ["de", "fr"]
    assert v1["translations"]["fr"] == {
        "title": "Conditions d'utilisation", "summary": "Première version.",
        "content_sha256": source.translation("fr").content_sha256,
        "url": "https://terms.example.com/fr/terms/2025-01-01/", "diff_url": None}
    assert list(v2["translations"]) == ["de"]
    assert v2["translations"]["de"]["diff_url"] == "https://terms.example.com/de/terms/diff/2025-01-01..2025-06-01/"


def test_a_site_catalog_overrides_the_built_in_words(multilingual, tmp_path):
    folder = tmp_path / "templates" / "locale" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; '
                                        'charset=UTF-8\\n"\n\nmsgid "Revisions"\nmsgstr "Historique"\n\n'
                                        'msgid "In case of conflict, our English terms apply."\n'
                                        'msgstr "En cas de conflit, nos conditions anglaises '
                                        's’appliquent."\n',
                                        encoding="utf-8")
    out = tmp_path / "site"
    site_builder.build(multilingual, out, site_builder.SiteSettings(
        languages=("en", "fr"), templates=tmp_path / "templates",
        prevailing_notice="In case of conflict, our English terms apply."), now=DAY)
    page = (out / "fr/terms/2025-01-01/index.html").read_text(encoding="utf-8")
    assert "En cas de conflit, nos conditions anglaises s’appliquent." in page
    assert '<h2 id="Revisions">Historique</h2>' in (out / "fr/terms/index.html").read_text(encoding="utf-8")
    english = (out / "terms/index.html").read_text(encoding="utf-8")
    assert "In case of conflict, our English terms apply." not in english


def test_catalogs_are_complete_and_compiled():
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    locale = ROOT / "site_builder" / "locale"
    def key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    with (locale / "messages.pot").open("rb") as file:
        template = {key(m.id) for m in read_po(file) if m.id}
    for lang in ("en", "fr", "de", "es"):
        with (locale / lang / "LC_MESSAGES" / "messages.po").open("rb") as file:
            catalog = read_po(file)
        with (locale / lang / "LC_MESSAGES" / "messages.mo").open("rb") as file:
            compiled = read_mo(file)
        assert {key(m.id) for m in catalog if m.id} == template, lang
        def translated(messages):
            return {key(m.id): key(m.string) for m in messages
                    if m.id and m.string
                    and all(key(m.string) if isinstance(m.string, (list, tuple)) else [1])}

        if lang == "en":  # English words are the messages themselves
            assert all(key(m.string) == key(m.id) for m in compiled if m.id and m.string)
        else:
            assert translated(catalog) == translated(compiled), \
                f"{lang}: compile the catalog (pybabel compile)"
        if lang != "en":
            assert all(m.string and all(m.string) if isinstance(m.string, tuple) else m.string
                       for m in catalog if m.id), f"{lang}: untranslated messages"


def test_every_word_of_the_templates_is_in_the_catalog():
    from babel.messages.extract import extract_from_dir

    found = {message for _, _, message, _, _ in extract_from_dir(
        str(ROOT / "site_builder"), method_map=[("i18n.py", "python"), ("generate.py", "python"),
                                                ("templates/**.html", "jinja2")],
        options_map={"templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}},
        keywords={"_": None, "gettext": None, "ngettext": (1, 2)})}
    from babel.messages.pofile import read_po

    with (ROOT / "site_builder/locale/messages.pot").open("rb") as file:
        template = {tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id for m in read_po(file) if m.id}
    found = {tuple(m) if isinstance(m, (list, tuple)) else m for m in found}
    assert found == template, "extract the messages again (site_builder/locale/babel.cfg)"


def test_the_example_content_is_bilingual(tmp_path, example_content):
    """The bundled example, with its own termsledger.toml: English and French, the French text of the
    announced version of the Terms still missing."""
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", "--content", str(example_content), "--out", str(out),
                                      "--date", "2026-06-01"])
    assert result.exit_code == 0, result.output
    current = (out / "fr/terms/index.html").read_text(encoding="utf-8")
    assert "Conditions d&#39;utilisation de Quillbridge</span></h1>" in current and "1 avril 2026" in current
    announced = (out / "fr/terms/2027-02-01/index.html").read_text(encoding="utf-8")
    assert "Cette version n’a pas encore de texte en français" in announced
    assert (out / "fr/privacy/diff/2024-11-01..2026-04-01/index.html").is_file()
    assert "deux ans" in (out / "fr/privacy/index.html").read_text(encoding="utf-8")
    assert broken_links(out) == []
    checked = CliRunner().invoke(cli, ["check", "--content", str(example_content)])
    assert "terms.fr.md:1: warning: no French text for the version of 1 February 2027" in checked.output


@pytest.fixture
def served_languages(site):
    from support.browser import serving

    with serving(site) as url:
        yield url


@pytest.mark.slow
def test_languages_in_chromium(browser, screenshots, served_languages):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.url}: {r.status}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    page.goto(served_languages + "fr/terms/2025-01-01/")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.locator("h1").inner_text() == "Conditions d'utilisation"
    assert page.locator(".status").inner_text().startswith("Plus en vigueur. Cette version a été en "
                                                           "vigueur du 1 janvier 2025 au 1 juin 2025")
    assert page.evaluate("[...document.querySelectorAll('link[hreflang]')].map(l => [l.hreflang, "
                         "l.href])") \
        == [["en", "https://terms.example.com/terms/2025-01-01/"],
            ["fr", "https://terms.example.com/fr/terms/2025-01-01/"],
            ["de", "https://terms.example.com/de/terms/2025-01-01/"],
            ["x-default", "https://terms.example.com/terms/2025-01-01/"]]
    page.screenshot(path=str(screenshots / "fr-terms-version-desktop.png"), full_page=True)
    # the switcher: plain links to the same page in each language, the current one marked
    switcher = page.get_by_role("navigation", name="Langues")
    assert switcher.get_by_role("link").all_inner_texts() == ["English", "Français", "Deutsch"]
    assert switcher.locator("[aria-current=page]").inner_text() == "Français"
    switcher.get_by_role("link", name="Deutsch").click()
    page.wait_for_url("**/de/terms/2025-01-01/")
    assert page.locator("h1").inner_text() == "Nutzungsbedingungen"
    assert "Diese Fassung war vom 1. Januar 2025 bis zum 1. Juni 2025 in Kraft" in page.locator(
        ".status").inner_text()
    page.get_by_role("navigation", name="Sprachen").get_by_role("link", name="English").click()
    page.wait_for_url("**/terms/2025-01-01/")
    assert page.evaluate("location.pathname") == "/terms/2025-01-01/"
    assert page.evaluate("document.documentElement.lang") == "en"
    # French lags a version behind: the text in force is shown in English, said so in French
    page.goto(served_languages + "fr/terms/")
    notice = page.locator(".notice-language")
    assert notice.inner_text().startswith("Cette version n’a pas encore de texte en français")
    assert page.locator("article").get_attribute("lang") == "en"
    assert page.locator(".status-current").inner_text() == "En vigueur depuis le 1 juin 2025."
    assert "1 septembre 2026" in page.locator(".status-announced").inner_text()
    page.screenshot(path=str(screenshots / "fr-terms-fallback-desktop.png"), full_page=True)
    notice.get_by_role("link").click()
    page.wait_for_url("**/fr/terms/2025-01-01/")
    # a German redline of the German texts
    page.goto(served_languages + "de/terms/diff/2025-06-01..2026-09-01/")
    assert page.get_by_role("heading", name="Auf einen Blick").is_visible()
    page.get_by_role("link", name="Neuer Abschnitt: 3. Schiedsverfahren").click()
    assert page.evaluate("location.hash") == "#schiedsverfahren"
    page.screenshot(path=str(screenshots / "de-terms-diff-desktop.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.locator(".languages").is_visible()
    assert problems == []
