"""``check`` and ``build`` compare the content with the ledger's catalog, when a ledger exists,
so that the site and the ledger never show two texts for one version."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from support.repo import front

import terms
from termsledger.cli import cli


def announced_repo(content_repo):
    """A document in force and a version announced for 60 days from now, committed today."""
    later = (datetime.now(timezone.utc) + timedelta(days=60)).date()
    content_repo.commit("2025-01-10T10:00", **{"terms.md": front(title="Terms", effective="2025-01-10")
                                               + "# Terms\n\nFees are 5 per month.\n"})
    content_repo.commit(datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"), **{
        "terms.md": front(title="Terms", effective=later.isoformat(), material=True)
        + "# Terms\n\nFees are 7 per month.\n"})
    return later


def now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def edit_after_publish(content_repo, tmp_path):
    later = announced_repo(content_repo)
    ledger = tmp_path / "ledger.db"
    assert run("publish", "--content", content_repo.path, "--ledger", ledger).exit_code == 0
    text = (content_repo.path / "terms.md").read_text().replace("7 per month", "9 per month")
    content_repo.commit(now(), **{"terms.md": text})
    return later, ledger


def test_check_reports_a_published_version_whose_text_changed(content_repo, tmp_path):
    later, ledger = edit_after_publish(content_repo, tmp_path)
    result = run("check", "--content", content_repo.path, "--ledger", ledger)
    assert result.exit_code == 1
    was, now = (terms.content_sha256(f"# Terms\n\nFees are {n} per month.\n") for n in (7, 9))
    commit = content_repo.repo.git.rev_parse("HEAD~1")  # the text published, before the edit
    assert result.stderr == (
        f"terms.md:3: error: version {later} was published to the ledger with another text (SHA-256 "
        f"{was[:12]}…, now {now[:12]}…), which users may have accepted: a published text never changes. "
        f"Restore the published text (in the content folder: git show {commit[:10]}:./terms.md > terms.md) "
        "and commit it; then give your new text another effective date, or a label to make it a second "
        f"version on {later} (label: revised), and commit it\n")


def test_the_configured_ledger_is_compared_and_the_fix_it_gives_works(content_repo, tmp_path):
    later, ledger = edit_after_publish(content_repo, tmp_path)
    (content_repo.path / "termsledger.toml").write_text(f'ledger = "{ledger}"\n')
    new_text = (content_repo.path / "terms.md").read_text()
    checked = run("check", "--content", content_repo.path)
    assert "was published to the ledger with another text" in checked.stderr
    commit = content_repo.repo.git.rev_parse("HEAD~1")
    subprocess.run(f"git show {commit[:10]}:./terms.md > terms.md", shell=True, cwd=content_repo.path,
                   check=True)
    content_repo.commit(now(), "Restore the published text")
    assert run("check", "--content", content_repo.path).exit_code == 0
    labelled = new_text.replace("material: true", "material: true\nlabel: revised")
    content_repo.commit(now(), "The new text", **{"terms.md": labelled})
    result = run("check", "--content", content_repo.path)
    assert result.exit_code == 0, result.output
    versions = terms.load(content_repo.path).versions("terms")
    assert [(v.id, v.body) for v in versions[1:]] == [
        (later.isoformat(), "# Terms\n\nFees are 7 per month.\n"),
        (f"{later}-revised", "# Terms\n\nFees are 9 per month.\n")]
    assert run("publish", "--content", content_repo.path).exit_code == 0


def test_an_uncommitted_edit_of_a_published_text_is_kept_as_a_new_version(content_repo, tmp_path):
    """The fix for an edit not committed yet keeps the edit: a label (one no version of that day
    has) makes it a version of its own, and the published text stays the committed one."""
    later = announced_repo(content_repo)
    ledger = tmp_path / "ledger.db"
    assert run("publish", "--content", content_repo.path, "--ledger", ledger).exit_code == 0
    terms_md = content_repo.path / "terms.md"
    terms_md.write_text(terms_md.read_text().replace("7 per month", "9 per month"))  # not committed
    result = run("check", "--content", content_repo.path, "--ledger", ledger)
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "a published text never changes. Keep your edit as a new version: give it another effective date, "
        f"or a label to make it a second version on {later} (label: revised), and commit it; the published "
        f"text stays in git's history as version {later}\n")
    assert "git show" not in result.stderr
    terms_md.write_text(terms_md.read_text().replace("material: true", "material: true\nlabel: revised"))
    assert run("check", "--content", content_repo.path, "--ledger", ledger).exit_code == 0
    content_repo.commit(now(), "The new text as a version of its own", **{"terms.md": terms_md.read_text()})
    assert run("publish", "--content", content_repo.path, "--ledger", ledger).exit_code == 0
    terms_md.write_text(terms_md.read_text().replace("9 per month", "10 per month"))  # and again
    again = run("check", "--content", content_repo.path, "--ledger", ledger)
    assert f"version {later}-revised was published" in again.stderr
    assert "(label: revised-2)" in again.stderr
    assert terms_md.read_text().endswith("Fees are 10 per month.\n")  # nothing advised overwrote it


def test_no_ledger_no_comparison_and_none_is_made(content_repo, tmp_path):
    announced_repo(content_repo)
    missing = tmp_path / "nowhere.db"
    assert run("check", "--content", content_repo.path, "--ledger", missing).exit_code == 0
    assert run("build", "--content", content_repo.path, "--ledger", missing, "--out", tmp_path / "site",
               "--strict").exit_code == 0
    assert not missing.exists() and not (content_repo.path / "termsledger.db").exists()


def test_build_counts_the_errors_and_builds_but_strict_refuses(content_repo, tmp_path):
    later, ledger = edit_after_publish(content_repo, tmp_path)
    out = tmp_path / "site"
    strict = run("build", "--content", content_repo.path, "--ledger", ledger, "--out", out, "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.startswith(f"terms.md:3: error: version {later} was published to the ledger")
    assert strict.stderr.endswith("and commit it\nError: nothing built: the content has 1 error (--strict)\n")
    assert not out.exists()
    plain = run("build", "--content", content_repo.path, "--ledger", ledger, "--out", out)
    assert plain.exit_code == 0, plain.output
    assert plain.stderr == ("The content has 1 error: termsledger check lists them (build --strict refuses "
                            "to build with errors).\n")
    assert (out / "terms" / later.isoformat() / "index.html").is_file()


def test_check_reports_a_flag_changed_on_a_published_version_in_force_as_publish_refuses_it(content_repo,
                                                                                             tmp_path):
    content_repo.commit("2025-01-10T10:00", **{"terms.md": front(title="Terms", effective="2025-01-10")
                                               + "# Terms\n\nFees are 5 per month.\n"})
    content_repo.commit("2025-02-01T10:00", **{"terms.md": front(title="Terms", effective="2025-03-01",
                                                                 material=False)
                                               + "# Terms\n\nFees are 5 per month. Be kind.\n"})
    ledger = tmp_path / "ledger.db"
    assert run("publish", "--content", content_repo.path, "--ledger", ledger).exit_code == 0
    flipped = (content_repo.path / "terms.md").read_text().replace("material: false", "material: true")
    content_repo.commit(now(), **{"terms.md": flipped})
    result = run("check", "--content", content_repo.path, "--ledger", ledger)
    assert result.exit_code == 1
    assert result.stderr == (
        "terms.md:4: error: version 2025-03-01 is in force and was published with material: false; it now "
        "says material: true. Who must accept it again was settled when it took effect, and publish refuses "
        "the change: restore the flag (material: false), or publish the change as a new version with its own "
        "effective date\n")
    refused = run("publish", "--content", content_repo.path, "--ledger", ledger)
    assert refused.exit_code == 1 and "cannot change once it is in force" in refused.output
    content_repo.commit(now(), **{"terms.md": flipped.replace("material: true", "material: false")})
    assert run("check", "--content", content_repo.path, "--ledger", ledger).exit_code == 0


def test_a_document_given_a_published_slug_is_one_error_not_a_changed_published_text(content_repo, tmp_path):
    announced_repo(content_repo)
    ledger = tmp_path / "ledger.db"
    assert run("publish", "--content", content_repo.path, "--ledger", ledger).exit_code == 0
    content_repo.commit(now(), **{"refund.md": front(title="Refunds", effective="2025-02-01", slug="terms")
                                  + "# Refunds\n\nAs the [terms](terms.md#terms) say.\n"})
    result = run("check", "--content", content_repo.path, "--ledger", ledger)
    assert result.exit_code == 1
    assert result.stderr == ("refund.md:4: error: slug 'terms' is already used by terms.md, so this document "
                             "is left out: give it a slug of its own (for example slug: refund)\n")
