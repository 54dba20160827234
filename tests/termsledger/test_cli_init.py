"""``termsledger init`` on an existing repository."""

from __future__ import annotations

import subprocess

from click.testing import CliRunner
from support.repo import front

from termsledger.cli import cli
from termsledger.config import read_config

TERMS = front(title="Terms", effective="2025-01-10") + "# Terms\n\nBe kind.\n"


def init(folder):
    return CliRunner().invoke(cli, ["init", str(folder)])


def ignored(repo, name: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", name], cwd=repo.path).returncode == 0


def test_init_sets_up_a_repository_with_documents_at_its_top(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"terms.md": TERMS, "README.md": "# Our terms\n",
                                               ".gitignore": "*.pyc"})
    result = init(content_repo.path)
    assert result.exit_code == 0, result.output
    toml = content_repo.path / "termsledger.toml"
    assert result.output.startswith(
        f"Wrote {toml}: the documents are in this folder; its comments show every setting.\n"
        f"Added to {content_repo.path / '.gitignore'}: build/, .termsledger-cache/, *.db, *.db-wal, "
        "*.db-shm, *.lock, termsledger-signing.key\nCommit them, so that everyone who edits the documents "
        "shares them.\n\n")
    assert "1 document, 1 version in " in result.output and "0 errors, 0 warnings." in result.output
    assert 'content = "."' in toml.read_text() and "# notice_days = 30" in toml.read_text()
    config = read_config(toml)
    assert config.content.resolve() == content_repo.path.resolve()
    assert (content_repo.path / ".gitignore").read_text() == (
        "*.pyc\n# termsledger: the built site and its cache, the consent ledger (personal data) and the "
        "signing "
        "key\nbuild/\n.termsledger-cache/\n*.db\n*.db-wal\n*.db-shm\n*.lock\ntermsledger-signing.key\n")
    for name in ("termsledger.db", "termsledger.db-wal", "termsledger.db-shm", "termsledger.db.lock",
                 "termsledger-signing.key", "build/index.html", ".termsledger-cache/manifest.txt"):
        assert ignored(content_repo, name), name
    assert not ignored(content_repo, "terms.md")


def test_init_never_overwrites_and_adds_nothing_twice(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"content/terms.md": TERMS})
    assert init(content_repo.path).exit_code == 0
    toml = content_repo.path / "termsledger.toml"
    assert 'content = "content"\n' in toml.read_text()
    toml.write_text('content = "content"\nledger = "data/consent.sqlite"\n')
    gitignore = (content_repo.path / ".gitignore").read_text()
    result = init(content_repo.path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"{toml} is already there: left as it is (remove it to have a new one written).\n"
        f"Added to {content_repo.path / '.gitignore'}: data/consent.sqlite, data/consent.sqlite-wal, "
        f"data/consent.sqlite-shm\n")
    assert toml.read_text() == 'content = "content"\nledger = "data/consent.sqlite"\n'
    assert (content_repo.path / ".gitignore").read_text().startswith(gitignore)
    again = init(content_repo.path)
    assert "Added to" not in again.output
    assert (content_repo.path / ".gitignore").read_text().count("*.db\n") == 1


def test_a_ledger_url_is_not_written_to_gitignore(content_repo):
    """A PostgreSQL ledger has no file to ignore, and its URL (a password in it) must not be
    written to a file that is committed."""
    content_repo.commit("2025-01-10T10:00", **{"content/terms.md": TERMS})
    toml = content_repo.path / "termsledger.toml"
    toml.write_text('content = "content"\nledger = "postgresql://app:s3cret@db.example.com/ledger"\n')
    result = init(content_repo.path)  # its check cannot reach the database: exit 1, said so
    assert "Added to" in result.output
    gitignore = (content_repo.path / ".gitignore").read_text()
    assert "s3cret" not in gitignore and "postgresql" not in gitignore and "s3cret" not in result.output
    assert gitignore.endswith("\n*.db\n*.db-wal\n*.db-shm\n*.lock\ntermsledger-signing.key\n")


def test_init_warns_of_a_committed_ledger_and_reports_check_errors(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"content/terms.md": TERMS + "\n[x](missing.md)\n",
                                               "termsledger.db": b"SQLite format 3\0"})
    result = init(content_repo.path)
    assert result.exit_code == 1
    assert ("warning: termsledger.db is committed to git, but must never be (a ledger holds personal data, a "
            "key signs receipts): git rm --cached termsledger.db, and remove it from the history\n"
            in result.stderr)
    assert "terms.md:9: error: link to 'missing.md': there is no file 'missing.md'" in result.stderr


def test_init_of_a_folder_without_documents(tmp_path):
    result = init(tmp_path)
    assert result.exit_code == 1
    assert 'content = "content"' in (tmp_path / "termsledger.toml").read_text()
    assert (f"Error: there are no documents yet: put them in {tmp_path / 'content'}/ (termsledger.toml names "
            f"it; set content = \"...\" there for another folder), then run termsledger check"
            in result.output)
    assert not (tmp_path / "content").exists()


def test_a_gitignore_not_in_utf8_is_added_to_as_it_is(tmp_path):
    (tmp_path / ".gitignore").write_bytes(b"caf\xe9\n")
    (tmp_path / "terms.md").write_text(TERMS)
    result = init(tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".gitignore").read_bytes().startswith(b"caf\xe9\n# termsledger: ")


def test_init_writes_nothing_through_a_symbolic_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("mine\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".gitignore").symlink_to(victim)
    result = init(repo)
    assert result.exit_code == 1
    assert result.output == (f"Error: {repo / '.gitignore'} is a symbolic link: termsledger init "
                             f"writes through no link; replace it with a file\n")
    assert victim.read_text() == "mine\n" and not (repo / "termsledger.toml").exists()
    (repo / ".gitignore").unlink()
    (repo / "termsledger.toml").symlink_to(outside / "new.toml")  # dangling
    result = init(repo)
    assert result.exit_code == 1
    assert result.output == (f"Error: {repo / 'termsledger.toml'} is a symbolic link: termsledger "
                             f"init writes through no link; replace it with a file\n")
    assert not (outside / "new.toml").exists() and not (repo / ".gitignore").exists()


def test_a_gitignore_that_is_a_folder_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / ".gitignore").mkdir()
    result = init(tmp_path)
    assert result.exit_code == 1
    assert result.output == (f"Error: {tmp_path / '.gitignore'} is a folder, where termsledger "
                             f"init needs a file: rename or remove it\n")
    assert not (tmp_path / "termsledger.toml").exists()


def test_the_written_file_shows_every_setting():
    """init says its comments show every setting: each key the configuration reads is there."""
    from termsledger import config
    from termsledger.init import TEMPLATE

    keys = [key for keys in config._SECTIONS.values() for key in keys]
    keys += ["content", "include", "exclude", "notice_days", "out", "ledger"]
    assert [key for key in keys if f"\n# {key} = " not in TEMPLATE and f"\n{key} = " not in TEMPLATE] == []
