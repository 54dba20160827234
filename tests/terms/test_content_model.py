"""The content model read from real git repositories."""

import os
from datetime import date, datetime, timezone

import pytest
from support.repo import front

import terms

TERMS_V1 = front(title="Terms", slug="terms", effective="2025-03-01",
                 references=["privacy"]) + "# Terms\n\nVersion one.\n"
TERMS_V2 = front(title="Terms", slug="terms", effective="2025-09-15",
                 material=True) + "# Terms\n\nVersion two.\n"


def test_versions_come_from_commits(content_repo):
    first = content_repo.commit("2025-01-20T10:00", **{"terms.md": TERMS_V1})
    second = content_repo.commit("2025-08-01T10:00", **{"terms.md": TERMS_V2})
    content = terms.load(content_repo.path)
    versions = content.versions("terms")
    assert [v.id for v in versions] == ["2025-03-01", "2025-09-15"]
    assert [v.commit for v in versions] == [first, second]
    assert versions[0].references == ("privacy",)
    assert versions[1].material is True and versions[0].material is None
    assert versions[1].announced_at == datetime(2025, 8, 1, 10, tzinfo=timezone.utc)
    assert versions[0].body == "# Terms\n\nVersion one.\n"


def test_version_text_is_the_last_commit_carrying_its_date(content_repo):
    content_repo.commit("2025-01-20T10:00", **{"terms.md": TERMS_V1})
    fixed = TERMS_V1.replace("Version one.", "Version one, proofread.")
    last = content_repo.commit("2025-02-10T10:00", **{"terms.md": fixed})
    (version,) = terms.load(content_repo.path).versions("terms")
    assert version.body.endswith("Version one, proofread.\n")
    assert version.commit == last
    assert version.announced_at.date() == date(2025, 1, 20)


def test_in_force_and_announced(content_repo):
    content_repo.commit("2025-01-20T10:00", **{"terms.md": TERMS_V1})
    content_repo.commit("2025-08-01T10:00", **{"terms.md": TERMS_V2})
    document = terms.load(content_repo.path).document("terms")
    assert document.in_force(date(2025, 2, 28)) is None
    assert document.in_force(date(2025, 3, 1)).id == "2025-03-01"
    assert document.announced(datetime(2025, 8, 2, tzinfo=timezone.utc)).id == "2025-09-15"
    assert document.in_force(datetime(2025, 9, 15, 0, 0, tzinfo=timezone.utc)).id == "2025-09-15"
    assert document.announced(date(2025, 9, 15)) is None


def test_title_is_that_of_the_version_in_force(content_repo):
    later = front(title="Terms of Use", slug="terms", effective="2999-01-01") + "# Terms of Use\n\nLater.\n"
    content_repo.commit("2025-01-20T10:00", **{"terms.md": TERMS_V1})
    content_repo.commit("2025-02-20T10:00", **{"terms.md": later})
    assert terms.load(content_repo.path).document("terms").title == "Terms"


def test_title_before_any_version_is_in_force_is_the_first(content_repo):
    first = front(title="Draft Terms", slug="terms", effective="2998-01-01") + "# Draft Terms\n\nOne.\n"
    later = front(title="Terms of Use", slug="terms", effective="2999-01-01") + "# Terms of Use\n\nTwo.\n"
    content_repo.commit("2025-01-20T10:00", **{"terms.md": first})
    content_repo.commit("2025-02-20T10:00", **{"terms.md": later})
    assert terms.load(content_repo.path).document("terms").title == "Draft Terms"


def test_renames_are_followed(content_repo):
    content_repo.commit("2025-01-20T10:00", **{"old-name.md": TERMS_V1})
    content_repo.repo.git.mv("old-name.md", "terms.md")
    content_repo.commit("2025-02-01T10:00")
    content_repo.commit("2025-08-01T10:00", **{"terms.md": TERMS_V2})
    document = terms.load(content_repo.path).document("terms")
    assert [(v.id, v.path) for v in document.versions] == [("2025-03-01", "terms.md"),
                                                           ("2025-09-15", "terms.md")]
    assert document.versions[0].commit != document.versions[1].commit


def test_a_document_deleted_and_added_again_keeps_its_history(content_repo):
    first = content_repo.commit("2025-01-20T10:00", **{"terms.md": TERMS_V1})
    content_repo.repo.git.rm("terms.md")
    content_repo.commit("2025-02-01T10:00")
    content_repo.commit("2025-08-01T10:00", **{"terms.md": TERMS_V2})
    versions = terms.load(content_repo.path).versions("terms")
    assert [(v.id, v.commit) for v in versions][0] == ("2025-03-01", first)
    assert [v.id for v in versions] == ["2025-03-01", "2025-09-15"]


def test_a_deleted_document_restored_in_the_working_copy_keeps_its_history(content_repo):
    content_repo.commit("2025-01-20T10:00", **{"terms.md": TERMS_V1})
    content_repo.repo.git.rm("terms.md")
    content_repo.commit("2025-02-01T10:00")
    content_repo.write("terms.md", TERMS_V2)
    assert [v.id for v in terms.load(content_repo.path).versions("terms")] == ["2025-03-01", "2025-09-15"]


def test_repository_without_front_matter_gets_one_version_per_commit_day(content_repo):
    content_repo.commit_files("2024-05-01T09:00", {"Terms of Service.md": "# Terms of Service\n\nFirst.\n"})
    content_repo.commit_files("2024-05-01T17:00",
                              {"Terms of Service.md": "# Terms of Service\n\nFirst, fixed.\n"})
    content_repo.commit_files("2024-07-03T23:30", {"Terms of Service.md": "# Terms of Service\n\nSecond.\n"})
    content = terms.load(content_repo.path)
    assert content.problems == ()
    document = content.document("terms-of-service")
    assert document.title == "Terms of Service"
    assert [v.id for v in document.versions] == ["2024-05-01", "2024-07-03"]
    assert document.versions[0].body.endswith("First, fixed.\n")


def test_commit_dates_are_taken_in_utc(content_repo):
    content_repo.commit_files("2024-05-01T23:30:00-05:00", {"policy.md": "# Policy\n\nText.\n"})
    (version,) = terms.load(content_repo.path).versions("policy")
    assert version.effective == date(2024, 5, 2)


def test_uncommitted_changes_are_a_version_without_commit(content_repo):
    content_repo.commit("2025-01-20T10:00", **{"terms.md": TERMS_V1})
    content_repo.write("terms.md", TERMS_V2)
    versions = terms.load(content_repo.path).versions("terms")
    assert versions[-1].id == "2025-09-15" and versions[-1].commit is None


def test_plain_folder_has_only_the_current_version(tmp_path):
    (tmp_path / "terms.md").write_text(TERMS_V2)
    (tmp_path / "README.md").write_text("# About this folder\n")
    content = terms.load(tmp_path)
    assert list(content.documents) == ["terms"]
    (version,) = content.versions("terms")
    assert version.id == "2025-09-15" and version.commit is None


def touch(path, when: datetime) -> None:
    """Set the modification time of ``path``."""
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_plain_folder_file_without_date_is_dated_by_its_modification_time(tmp_path):
    (tmp_path / "policy.md").write_text("# Policy\n\nText.\n")
    touch(tmp_path / "policy.md", datetime(2024, 5, 1, 23, 30, tzinfo=timezone.utc))
    (version,) = terms.load(tmp_path).versions("policy")
    assert (version.id, version.committed_at, version.announced_at) == ("2024-05-01", None, None)


def test_uncommitted_changes_are_dated_by_the_file_modification_time(content_repo):
    content_repo.commit("2025-01-20T10:00", **{"policy.md": "# Policy\n\nOne.\n"})
    edited = content_repo.write("policy.md", "# Policy\n\nTwo.\n")
    modified = datetime(2025, 2, 3, 8, 0, tzinfo=timezone.utc)
    touch(edited, modified)
    loads = [terms.load(content_repo.path).versions("policy")[-1] for _ in range(2)]
    assert loads[0] == loads[1]
    assert (loads[0].id, loads[0].commit, loads[0].committed_at) == ("2025-02-03", None, modified)


def test_a_quoted_effective_date_is_a_date(tmp_path):
    (tmp_path / "terms.md").write_text("---\ntitle: Terms\neffective: '2025-01-01'\n---\n# Terms\n\nText.\n")
    content = terms.load(tmp_path)
    assert content.problems == ()
    assert content.versions("terms")[0].effective == date(2025, 1, 1)


def test_unknown_front_matter_keys_are_kept_with_a_warning(tmp_path):
    (tmp_path / "terms.md").write_text("---\ntitle: Terms\nredirect_from: [/tos]\n---\n# Terms\n\nText.\n")
    content = terms.load(tmp_path)
    assert [str(p) for p in content.problems] == [
        "terms.md:3: warning: unknown front-matter key 'redirect_from' is ignored (another tool may read "
        "it): termsledger's keys are title, slug, effective, summary, material, references, label; rename it "
        "if one of them is meant"]
    assert content.versions("terms")[0].extra == {"redirect_from": ["/tos"]}


@pytest.mark.parametrize("key, meant", [
    ("refrences", "references"), ("reference", "references"), ("sumary", "summary"),
    ("materail", "material"), ("Material", "material"), ("efective", "effective"),
    ("effective_date", "effective"), ("effectiveDate", "effective"), ("titel", "title"), ("lable", "label"),
    ("slugs", "slug"),
])
def test_a_misspelled_front_matter_key_is_an_error_naming_the_key_meant(tmp_path, key, meant):
    (tmp_path / "terms.md").write_text(f"---\ntitle: Terms\n{key}: x\n---\n# Terms\n\nText.\n")
    assert [str(p) for p in terms.load(tmp_path).problems] == [
        f"terms.md:3: error: unknown front-matter key {key!r}, so its value is ignored: did you mean "
        f"{meant!r}?"]


def test_a_misspelled_references_key_no_longer_drops_a_policy_silently(tmp_path):
    (tmp_path / "refund.md").write_text("# Refunds\n\nText.\n")
    (tmp_path / "terms.md").write_text("---\ntitle: Terms\nrefrences: [refund]\n---\n# Terms\n\nText.\n")
    content = terms.load(tmp_path)
    assert content.bundle("terms").references == ()  # the policy is not in what users accept...
    assert [p.message for p in terms.check(content) if p.severity == "error"] == [  # ...and check says so
        "unknown front-matter key 'refrences', so its value is ignored: did you mean 'references'?"]


@pytest.mark.parametrize("key", ["subtitle", "layout", "tags", "lang", "type", "permalink", "date"])
def test_other_tools_keys_are_not_taken_for_misspellings(tmp_path, key):
    (tmp_path / "terms.md").write_text(f"---\ntitle: Terms\n{key}: x\n---\n# Terms\n\nText.\n")
    assert [p.severity for p in terms.load(tmp_path).problems] == ["warning"]


ADOPTED = ("---\ntitle: Terms of Service\npermalink: terms\nlast_updated: 2024-06-01\n"
           "description: Shorter refund window.\neffective: whenever\n---\n# Terms\n\nText.\n")


def test_fields_read_termsledger_fields_from_the_repository_own_keys(tmp_path):
    (tmp_path / "tos.md").write_text(ADOPTED)
    fields = {"effective": "last_updated", "slug": "permalink", "summary": "description"}
    content = terms.load(tmp_path, fields=fields)
    assert content.problems == ()
    (version,) = content.versions("terms")
    assert (version.id, version.summary) == ("2024-06-01", "Shorter refund window.")
    assert version.extra == {"effective": "whenever"}
    assert version.key_lines["effective"] == 4


def test_a_wrong_value_under_a_mapped_key_is_reported_under_that_key(tmp_path):
    (tmp_path / "tos.md").write_text(ADOPTED.replace("2024-06-01", "soon"))
    content = terms.load(tmp_path, fields={"effective": "last_updated"})
    assert [str(p) for p in content.problems if p.severity == "error"] == [
        "tos.md:4: error: last_updated: effective date 'soon' is not a date: write it as YYYY-MM-DD"]


def test_keys_are_known_by_the_names_fields_gives_them(tmp_path):
    fields = {"effective": "last_updated", "slug": "permalink", "summary": "description"}
    for wrong, meant, line in (("descripton", "description", 5), ("lastupdated", "last_updated", 4)):
        (tmp_path / "tos.md").write_text(ADOPTED.replace(meant, wrong))  # and effective: is known, ignored
        assert [str(p) for p in terms.load(tmp_path, fields=fields).problems] == [
            f"tos.md:{line}: error: unknown front-matter key {wrong!r}, so its value is ignored: did you "
            f"mean {meant!r}?"]


def test_fields_with_an_unknown_name_are_refused(tmp_path):
    (tmp_path / "tos.md").write_text(ADOPTED)
    with pytest.raises(terms.ContentError, match="unknown field 'updated' in fields; termsledger's fields "
                                                 "are: title, slug, effective, summary, material, "
                                                 "references, label"):
        terms.load(tmp_path, fields={"updated": "last_updated"})


def test_content_hash_is_over_the_normalized_body(tmp_path):
    (tmp_path / "a.md").write_bytes("# A\r\n\r\nCafe\u0301   \r\n".encode())
    (tmp_path / "b.md").write_bytes("# A\n\nCaf\u00e9\n".encode())
    content = terms.load(tmp_path)
    assert content.versions("a")[0].content_sha256 == content.versions("b")[0].content_sha256
    assert content.versions("a")[0].content_sha256 == terms.content_sha256("# A\n\nCaf\u00e9\n")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_front_matter_with_windows_or_old_mac_line_ends_is_read(tmp_path, newline):
    lines = ["---", "title: Privacy", "slug: privacy", "effective: 2025-05-01", "material: true", "---",
             "# Privacy", "", "We keep data.", ""]
    (tmp_path / "p.md").write_bytes(newline.join(lines).encode())
    content = terms.load(tmp_path)
    assert content.problems == ()
    version = content.versions("privacy")[0]
    assert (version.title, version.id, version.material) == ("Privacy", "2025-05-01", True)
    assert version.body == "# Privacy\n\nWe keep data.\n"


def test_bundle_holds_the_references_in_force_at_the_same_moment(content_repo):
    def privacy(eff: str, text: str) -> str:
        return front(title="Privacy", slug="privacy", effective=eff) + f"# Privacy\n\n{text}\n"

    content_repo.commit("2025-01-20T10:00", **{"terms.md": TERMS_V1,
                                               "privacy.md": privacy("2025-03-01", "One.")})
    content_repo.commit("2025-04-20T10:00", **{"privacy.md": privacy("2025-06-01", "Two.")})
    content = terms.load(content_repo.path)
    early, late = content.bundle("terms", date(2025, 4, 1)), content.bundle("terms", date(2025, 7, 1))
    assert [v.id for v in early.versions] == ["2025-03-01", "2025-03-01"]
    assert [v.id for v in late.versions] == ["2025-03-01", "2025-06-01"]
    assert early.manifest.splitlines()[1].startswith("privacy 2025-03-01 ")
    assert early.manifest_sha256 != late.manifest_sha256
    with pytest.raises(terms.UnknownVersion, match="no version of 'terms' is in force on 2025-01-01"):
        content.bundle("terms", date(2025, 1, 1))


def test_unknown_document_and_version_name_what_exists(content_repo):
    content_repo.commit("2025-01-20T10:00", **{"terms.md": TERMS_V1})
    content = terms.load(content_repo.path)
    with pytest.raises(terms.UnknownDocument, match="no document 'tos'; the documents are: terms"):
        content.document("tos")
    with pytest.raises(terms.UnknownVersion, match="terms has no version '2020-01-01'; its versions are: "
                                                   "2025-03-01"):
        content.document("terms").version("2020-01-01")


def test_labels_tell_apart_versions_sharing_a_date(content_repo):
    a = front(title="T", slug="terms", effective="2025-03-01") + "# T\n\nA.\n"
    b = front(title="T", slug="terms", effective="2025-03-01", label="evening") + "# T\n\nB.\n"
    content_repo.commit("2025-01-20T10:00", **{"terms.md": a})
    content_repo.commit("2025-01-21T10:00", **{"terms.md": b})
    document = terms.load(content_repo.path).document("terms")
    assert [v.id for v in document.versions] == ["2025-03-01", "2025-03-01-evening"]
    assert document.version("evening").body.endswith("B.\n")


def test_version_ids_do_not_change_when_a_later_version_shares_the_date(content_repo):
    morning = front(title="T", slug="terms", effective="2025-03-01", label="morning") + "# T\n\nA.\n"
    evening = front(title="T", slug="terms", effective="2025-03-01", label="evening") + "# T\n\nB.\n"
    content_repo.commit("2025-01-20T10:00", **{"terms.md": morning})
    assert [v.id for v in terms.load(content_repo.path).versions("terms")] == ["2025-03-01"]
    content_repo.commit("2025-01-21T10:00", **{"terms.md": evening})
    document = terms.load(content_repo.path).document("terms")
    assert [v.id for v in document.versions] == ["2025-03-01", "2025-03-01-evening"]
    assert document.version("2025-03-01").label == "morning"


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(terms.ContentError, match="does not exist"):
        terms.load(tmp_path / "nope")


def test_a_folder_without_documents_is_an_error(tmp_path):
    (tmp_path / "README.md").write_text("# About\n")
    (tmp_path / "notes.txt").write_text("Nothing.\n")
    with pytest.raises(terms.ContentError, match=f"content folder '{tmp_path}' has no documents: no file in "
                                                 "it "
                                                 r"matches \*.md or \*.markdown"):
        terms.load(tmp_path)


def test_example_content_has_a_real_history(example_content):
    content = terms.load(example_content)
    assert set(content.documents) == {"terms", "acceptable-use", "privacy", "refund", "copyright",
                                      "honor-code"}
    document = content.document("terms")
    assert len(document.versions) >= 6
    assert all(v.commit for v in document.versions)
    assert {v.material for v in document.versions} >= {True, False}
    assert document.announced(date(2026, 11, 26)) is not None
    bundle = content.bundle("terms", date(2026, 11, 26))
    assert {v.slug for v in bundle.references} == {"acceptable-use", "privacy", "refund", "copyright",
                                                   "honor-code"}


def test_history_is_read_with_a_constant_number_of_git_processes(tmp_path, monkeypatch):
    import subprocess

    import git.cmd
    from support.repo import ContentRepo

    def processes_to_load(commits: int) -> int:
        repo = ContentRepo(tmp_path / f"repo{commits}")
        for day in range(1, commits + 1):
            repo.commit(f"2025-01-{day:02d}T10:00", **{"a.md": f"# A\n\nText {day}.\n",
                                                       "b.md": f"# B\n\n{day}\n"})
        started = []

        class CountingPopen(subprocess.Popen):
            def __init__(self, *args, **kwargs):
                started.append(args[0])
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(git.cmd, "Popen", CountingPopen)
        loaded = terms.load(repo.path)
        monkeypatch.undo()
        assert len(loaded.versions("a")) == commits
        return len(started)

    assert processes_to_load(3) == processes_to_load(20)


def test_the_example_history_ends_with_the_example_content(example_content):
    """The tests read the bundled example from ``support/data/example-history.fi``: it must hold
    the example as it is in ``content/`` (after a commit there, make it again: see
    ``support.repo.EXAMPLE_HISTORY``)."""
    from support.repo import ROOT

    def files(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}

    assert files(example_content) == files(ROOT / "content"), \
        "git fast-export HEAD -- content > tests/support/data/example-history.fi"
    assert len(terms.load(example_content).documents["terms"].versions) >= 8
