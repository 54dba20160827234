"""A content folder is untrusted input: sites are built in CI from repositories many people
can push to. Nothing in it reads the server's files, runs code, leaks drafting notes or
ends a build with a traceback."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tracemalloc
from pathlib import Path

import git
import pytest
from click.testing import CliRunner
from support.repo import ContentRepo, front

import terms
from termsledger.cli import cli

SECRET = "SECRET-7f3a-do-not-publish"
TERMS = front(title="Terms", slug="terms", effective="2025-01-01") + "# Terms\n\nWelcome.\n"


def run(*args: str):
    """``termsledger *args``, which may fail but never with a traceback."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def error_line(result) -> str:
    """The single line a failed command prints."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def published(out: Path) -> dict[str, bytes]:
    """Every file of a built site, by its path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def outside_secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text(f"---\ntitle: {SECRET}\n---\n# {SECRET}\n\n{SECRET}\n", encoding="utf-8")
    return secret


def symlinked_content(folder: Path, secret: Path) -> None:
    """Documents, an image and a file that are symbolic links, beside a real document."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "terms.md").write_text(TERMS + "\n![Logo](images/logo.png) and [the form](form.pdf).\n",
                                     encoding="utf-8")
    (folder / "passwd.md").symlink_to("/etc/passwd")
    (folder / "secret.md").symlink_to(os.path.relpath(secret, folder))
    (folder / "copy.md").symlink_to("terms.md")  # a link to a file inside the folder is still a link
    (folder / "images" / "logo.png").symlink_to(os.path.relpath(secret, folder / "images"))
    (folder / "form.pdf").symlink_to("/etc/passwd")
    (folder / "linked").symlink_to(secret.parent, target_is_directory=True)


@pytest.mark.parametrize("in_git", [True, False], ids=["git", "plain folder"])
def test_symbolic_links_are_reported_and_never_published(tmp_path, in_git):
    secret = outside_secret(tmp_path)
    folder = tmp_path / "repo"
    folder.mkdir()
    symlinked_content(folder, secret)
    if in_git:
        ContentRepo(folder).commit("2024-12-01T10:00:00")
        blobs = git.Repo(folder).head.commit.tree
        assert blobs["passwd.md"].mode == 0o120000  # committed as a link, not as a file
    result = run("check", "--content", str(folder))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for expected in (
        "passwd.md:1: error: passwd.md is a symbolic link to '/etc/passwd' (links are never followed: put "
        "the file itself there); this document is left out",
        "copy.md:1: error: copy.md is a symbolic link to 'terms.md'",
        "secret.md:1: error: secret.md is a symbolic link to '../outside/secret.txt'",
        "terms.md:10: error: link to 'images/logo.png': images/logo.png is a symbolic link to "
        "'../../outside/secret.txt'",
        "terms.md:10: error: link to 'form.pdf': form.pdf is a symbolic link to '/etc/passwd'",
        "linked:1: warning: linked is a symbolic link to a folder: the documents in it are left out",
    ):
        assert any(line.startswith(expected) for line in lines), (expected, result.output)
    assert "1 document," in result.output
    out = tmp_path / "site"
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    files = published(out)
    assert "terms/index.html" in files
    assert not [p for p in files if p.startswith(("passwd/", "secret/", "copy/", "assets/"))]
    assert not [p for p, data in files.items() if SECRET.encode() in data or b"root:x:0:0" in data]


def test_a_link_committed_in_history_is_not_a_version(content_repo, tmp_path):
    secret = outside_secret(tmp_path)
    (content_repo.path / "notes.md").symlink_to(secret)
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS})
    (content_repo.path / "notes.md").unlink()
    content_repo.commit("2025-02-01T10:00:00", **{"notes.md": front(title="Notes", effective="2025-02-01")
                                                  + "# Notes\n\nNothing here.\n"})
    versions = terms.load(content_repo.path).versions("notes")
    assert [v.id for v in versions] == ["2025-02-01"]
    assert SECRET not in versions[0].body


def test_a_nul_byte_in_a_link_is_reported_by_check_and_skipped_by_build(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "terms.md").write_text(TERMS + "\n[x](foo%00.png) ![y](bar%00.png)\n", encoding="utf-8")
    (folder / "foo").write_text(SECRET, encoding="utf-8")
    checked = run("check", "--content", str(folder))
    assert checked.exit_code == 1
    assert ("terms.md:10: error: link to 'foo%00.png': 'foo\\x00.png' is not a possible file name "
            "(it holds a NUL character)") in checked.output
    out = tmp_path / "site"
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    assert 'href="foo%00.png"' in (out / "terms/index.html").read_text(encoding="utf-8")


def two_versions(repo: ContentRepo, **files) -> None:
    repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS}, **files)
    repo.commit("2025-05-01T10:00:00", **{"terms.md": TERMS.replace("2025-01-01", "2025-06-01")
                                          .replace("Welcome.", "Welcome, again.")})


def loose(repo: ContentRepo, sha: str) -> Path:
    path = repo.path / ".git" / "objects" / sha[:2] / sha[2:]
    path.chmod(0o644)
    return path


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_corrupt_object_is_named(content_repo, tmp_path, command):
    two_versions(content_repo)
    sha = content_repo.repo.commit("HEAD~1").tree["terms.md"].hexsha
    loose(content_repo, sha).write_bytes(b"garbage")
    line = error_line(run(command, "--content", str(content_repo.path), "--out", str(tmp_path / "site"))
                      if command == "build" else run(command, "--content", str(content_repo.path)))
    assert f"the git repository {content_repo.path} is damaged: cannot read terms.md in commit " in line
    assert f"object {sha} (file {loose(content_repo, sha)})" in line
    assert "'git fsck' lists what is damaged" in line


def test_a_repository_whose_objects_are_all_corrupt_is_not_read_as_a_plain_folder(content_repo):
    two_versions(content_repo)
    for path in (content_repo.path / ".git" / "objects").rglob("*"):
        if path.is_file():
            path.chmod(0o644)
            path.write_bytes(b"garbage")
    line = error_line(run("check", "--content", str(content_repo.path)))
    head = content_repo.repo.git.rev_parse("HEAD")
    assert f"is damaged: cannot read the current commit: object {head}" in line
    assert "is corrupt" in line


def test_a_truncated_pack_file_is_named(content_repo):
    two_versions(content_repo)
    content_repo.repo.git.gc("--quiet")
    pack = next((content_repo.path / ".git" / "objects" / "pack").glob("*.pack"))
    pack.chmod(0o644)
    with pack.open("r+b") as file:
        file.truncate(100)
    line = error_line(run("check", "--content", str(content_repo.path)))
    assert "is damaged: cannot read the current commit" in line and pack.name in line


def test_a_corrupt_image_is_named_by_build(content_repo, tmp_path):
    two_versions(content_repo, **{"logo.png": b"\x89PNG image"})
    content_repo.commit("2025-05-02T10:00:00", **{"terms.md": (content_repo.path / "terms.md").read_text()
                                                  + "\n![Logo](logo.png)\n"})
    sha = content_repo.repo.head.commit.tree["logo.png"].hexsha
    loose(content_repo, sha).write_bytes(b"garbage")
    line = error_line(run("build", "--content", str(content_repo.path), "--out", str(tmp_path / "site")))
    assert "cannot read logo.png in commit " in line and f"object {sha}" in line


def test_a_repository_without_commits_is_a_plain_folder(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    git.Repo.init(folder)
    (folder / "terms.md").write_text(TERMS, encoding="utf-8")
    content = terms.load(folder)
    assert [v.commit for v in content.versions("terms")] == [None]


def test_oversized_documents_and_files_are_left_out(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "terms.md").write_text(TERMS + "\n![Scan](scan.png)\n", encoding="utf-8")
    with (folder / "huge.md").open("wb") as file:
        file.truncate(11 * 2**20)  # sparse: no disk used
    with (folder / "scan.png").open("wb") as file:
        file.truncate(101 * 2**20)
    checked = run("check", "--content", str(folder))
    assert "huge.md:1: error: huge.md is 11 MiB, more than the limit of 10 MiB; this document is left out" \
        in checked.output
    assert "terms.md:10: error: link to 'scan.png': scan.png is 101 MiB, more than the limit of 100 MiB" \
        in checked.output
    out = tmp_path / "site"
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    assert not (out / "huge").exists() and not (out / "assets").exists()


def test_an_oversized_revision_in_history_is_left_out_unread(content_repo):
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS + "x" * (10 * 2**20)})
    content_repo.commit("2025-05-01T10:00:00", **{"terms.md": TERMS.replace("2025-01-01", "2025-06-01")})
    tracemalloc.start()
    try:
        content = terms.load(content_repo.path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20  # its 10 MiB were never read into memory
    assert [v.id for v in content.versions("terms")] == ["2025-06-01"]
    assert [p.message for p in content.problems] == [
        f"the text of terms.md in commit {content_repo.repo.commit('HEAD~1').hexsha[:10]} is larger than "
        "10 MiB, so that revision is left out"]


@pytest.mark.parametrize("in_git", [True, False], ids=["git", "plain folder"])
def test_a_file_name_that_is_not_utf8_is_reported(tmp_path, in_git):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "terms.md").write_text(TERMS, encoding="utf-8")
    (folder / os.fsdecode(b"caf\xe9.md")).write_text(TERMS.replace("terms", "cafe"), encoding="utf-8")
    if in_git:
        ContentRepo(folder).commit("2024-12-01T10:00:00")
    checked = run("check", "--content", str(folder))
    assert "caf\\xe9.md:1: error: the file name is not valid UTF-8: rename it; this document is left out" \
        in checked.output
    out = tmp_path / "site"
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")) == ["terms"]


def test_a_special_file_is_reported_not_read(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "terms.md").write_text(TERMS, encoding="utf-8")
    os.mkfifo(folder / "pipe.md")  # reading it would wait forever
    checked = run("check", "--content", str(folder))
    assert "pipe.md:1: error: pipe.md is not a regular file; this document is left out" in checked.output


def test_check_reports_links_that_leave_the_folder_or_reach_hidden_files(content_repo):
    links = "\n[a](../secret.txt) [b](.env) [c](forms/) [d](forms/.hidden/x.pdf)\n"
    content_repo.commit("2024-12-01T10:00:00", **{
        "secret.txt": SECRET, "content/terms.md": TERMS + links, "content/.env": SECRET,
        "content/forms/a.pdf": "%PDF", "content/forms/.hidden/x.pdf": "%PDF"})
    checked = run("check", "--content", str(content_repo.path / "content"))
    for expected in ("terms.md:10: error: link to '../secret.txt': '../secret.txt' is outside the content "
                     "folder",
                     "terms.md:10: error: link to '.env': .env is hidden (a name in its path starts with a "
                     "dot)",
                     "terms.md:10: error: link to 'forms/': forms is a folder, not a file",
                     "terms.md:10: error: link to 'forms/.hidden/x.pdf': forms/.hidden/x.pdf is hidden"):
        assert expected in checked.output


@pytest.mark.parametrize("dot_git", [b"garbage", b"gitdir: /nonexistent", None],
                         ids=["garbage", "gone", "empty"])
def test_a_dot_git_that_is_not_a_repository_is_an_error(tmp_path, dot_git):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "terms.md").write_text(TERMS, encoding="utf-8")
    if dot_git is None:
        (folder / ".git").mkdir()
    else:
        (folder / ".git").write_bytes(dot_git)
    line = error_line(run("check", "--content", str(folder)))
    assert line == (f"Error: {folder / '.git'} is not a git repository git can read: repair it, or remove it "
                    "to read the folder without its history")


def test_a_content_folder_given_through_a_symbolic_link_is_read(content_repo, tmp_path):
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS})
    (tmp_path / "alias").symlink_to(content_repo.path)
    versions = terms.load(tmp_path / "alias").versions("terms")
    assert [v.commit for v in versions] == [content_repo.repo.head.commit.hexsha]


def content_with_templates(tmp_path: Path, **templates: str) -> tuple[Path, Path]:
    """A content folder whose ``termsledger.toml`` names a templates folder holding ``templates``."""
    folder = tmp_path / "content"
    (folder / "templates").mkdir(parents=True)
    (folder / "terms.md").write_text(TERMS, encoding="utf-8")
    (folder / "termsledger.toml").write_text('[site]\ntemplates = "templates"\n', encoding="utf-8")
    for name, text in templates.items():
        (folder / "templates" / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return folder, tmp_path / "site"


ESCAPES = [
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch PWNED') }}",
    "{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ url.__globals__['os'].system('touch PWNED') }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
]


@pytest.mark.parametrize("escape", ESCAPES)
def test_template_overrides_cannot_run_code(tmp_path, escape, monkeypatch):
    folder, out = content_with_templates(tmp_path, _footer__html=f"<footer>\n{escape}\n</footer>\n")
    pwned = tmp_path / "PWNED"
    monkeypatch.chdir(tmp_path)
    line = error_line(run("build", "--content", str(folder), "--out", str(out)))
    assert line.startswith("Error: error building page 'index.html': template "
                           f"{folder / 'templates' / '_footer.html'}, line 2: ")
    assert "unsafe" in line
    assert not pwned.exists()


def test_a_failing_feed_override_is_one_line_naming_it(tmp_path):
    folder, out = content_with_templates(tmp_path, feed__xml="{{ site.__class__.__init__.__globals__ }}\n")
    line = error_line(run("build", "--content", str(folder), "--out", str(out)))
    assert line.startswith(f"Error: error building 'feed.xml': template {folder / 'templates' / 'feed.xml'}, "
                           "line 1: ")


def test_a_template_override_with_a_syntax_error_is_one_line_naming_it(tmp_path):
    folder, out = content_with_templates(tmp_path, _footer__html="<footer>\n{% if %}\n</footer>\n")
    line = error_line(run("build", "--content", str(folder), "--out", str(out)))
    assert line.startswith(f"Error: error building page 'index.html': template "
                           f"{folder / 'templates' / '_footer.html'}, line 2: ")


def test_template_overrides_still_extend_the_built_in_ones(tmp_path):
    folder, out = content_with_templates(
        tmp_path, history__html='{% extends "default:history.html" %}{% block title %}Custom {{ name|upper }}'
                                '{% endblock %}')
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    assert "<title>Custom TERMS</title>" in (out / "terms/history/index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["_footer.html", "site.css"])
def test_a_template_or_stylesheet_override_that_is_a_symbolic_link_is_an_error(tmp_path, name):
    secret = outside_secret(tmp_path)
    folder, out = content_with_templates(tmp_path)
    (folder / "templates" / name).symlink_to(secret)
    line = error_line(run("build", "--content", str(folder), "--out", str(out)))
    assert (f"{folder / 'templates'}: {name} is a symbolic link to '{secret}' (links are never followed: put "
            "the file itself there)") in line
    assert not [p for p in out.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


UNSAFE_BASE_URLS = [
    "javascript:alert(1)//", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
                    "//evil.example/",
    "/\\evil.example/", " https://terms.example.com/", "https://terms.example.com/ ",
    "https://terms .example.com/",
    "https://terms.example.com/\n", "https://terms.example.com/\x00", "https://terms.example.com/\u202e",
    "java\tscript:alert(1)", "ftp://terms.example.com/", "https:///legal/", "https://user@evil.example/",
    "https://terms.example.com/?q=1", "https://terms.example.com/#top", "terms.example.com", "legal/",
    "https://[::1/", "http://[zz]/",
]
SAFE_BASE_URLS = ["https://terms.example.com/", "http://localhost:8000/legal",
                  "HTTPS://Terms.Example.com/a/b/",
                  "/legal/", "/"]


def config_folder(tmp_path: Path, site: str) -> Path:
    folder = tmp_path / "content"
    folder.mkdir(exist_ok=True)
    (folder / "terms.md").write_text(TERMS, encoding="utf-8")
    (folder / "termsledger.toml").write_text(f"[site]\n{site}\n", encoding="utf-8")
    return folder


def toml_string(value: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value) + '"'


@pytest.mark.parametrize("value", UNSAFE_BASE_URLS)
def test_an_unsafe_base_url_in_the_configuration_is_refused(tmp_path, value):
    folder = config_folder(tmp_path, f"base_url = {toml_string(value)}")
    for command in (["check"], ["build", "--out", str(tmp_path / "site")]):
        line = error_line(run(*command, "--content", str(folder)))
        assert line.startswith(f"Error: {folder / 'termsledger.toml'}: [site] base_url {value!r} is not "
                               "allowed: ")
        assert line.endswith("use an absolute http:// or https:// URL (https://example.com/legal/) or a path "
                             "starting with / (/legal/)")
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("value", UNSAFE_BASE_URLS)
def test_an_unsafe_base_url_option_is_refused(tmp_path, value):
    folder = config_folder(tmp_path, "")
    line = error_line(run("build", "--content", str(folder), "--out", str(tmp_path / "site"), "--base-url",
                          value))
    assert line.startswith(f"Error: --base-url {value!r} is not allowed: ")
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("value", UNSAFE_BASE_URLS)
def test_site_settings_refuse_an_unsafe_base_url(value):
    from site_builder import InvalidSetting, SiteSettings

    with pytest.raises(InvalidSetting, match=r"^base_url .* is not allowed: "):
        SiteSettings(base_url=value)


@pytest.mark.parametrize("value", SAFE_BASE_URLS)
def test_http_and_path_base_urls_are_accepted(tmp_path, value):
    folder = config_folder(tmp_path, f"base_url = {toml_string(value)}")
    out = tmp_path / "site"
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    root = value.rstrip("/") + "/"
    assert f'href="{root}"' in (out / "404.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("value", ["javascript:alert(1)", "mailto:javascript:alert(1)", "data:,x",
                                   "//evil.example",
                                   "Call us on 555 0100", "legal@example.com\n", "mailto:a@b.example?body=x",
                                   "ftp://example.com/", "<legal@example.com>", "https://[::1/",
                                   "http://[zz]/contact"])
def test_an_unsafe_contact_is_refused(tmp_path, value):
    folder = config_folder(tmp_path, f"contact = {toml_string(value)}")
    line = error_line(run("check", "--content", str(folder)))
    assert line == (f"Error: {folder / 'termsledger.toml'}: [site] contact {value!r} is not allowed: use an "
                    f"e-mail address (legal@example.com) or an http:// or https:// URL")


@pytest.mark.parametrize("value, href", [("legal@example.com", "mailto:legal@example.com"),
                                         ("mailto:legal@example.com", "mailto:legal@example.com"),
                                         ("https://example.com/contact?topic=terms#form",
                                          "https://example.com/contact?topic=terms#form")])
def test_a_contact_is_an_email_address_or_a_web_page(tmp_path, value, href):
    folder = config_folder(tmp_path, f"contact = {toml_string(value)}")
    out = tmp_path / "site"
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    assert f'<a href="{href.replace("&", "&amp;")}">' in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", ["title", "organisation"])
def test_control_characters_in_site_text_are_refused(tmp_path, key):
    folder = config_folder(tmp_path, f"{key} = \"Example\\u0001 Ltd\"")
    line = error_line(run("check", "--content", str(folder)))
    assert line == (f"Error: {folder / 'termsledger.toml'}: [site] {key} 'Example\\x01 Ltd' is not allowed: "
                    f"it holds the control character U+0001")


@pytest.mark.parametrize("key, value", [("content", "/etc"), ("content", "../outside"), ("content", "linked"),
                                        ("templates", "/etc"), ("templates", "../outside"),
                                        ("templates", "linked")])
def test_folders_named_by_the_configuration_stay_inside_its_folder(tmp_path, monkeypatch, key, value):
    outside_secret(tmp_path)
    repo = tmp_path / "repo"
    (repo / "content").mkdir(parents=True)
    (repo / "content" / "terms.md").write_text(TERMS, encoding="utf-8")
    (repo / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    section = "[site]\n" if key == "templates" else ""
    (repo / "termsledger.toml").write_text(f'include = ["*.md", "*.txt", "passwd"]\n{section}{key} = '
                                           f'"{value}"\n',
                                           encoding="utf-8")
    monkeypatch.chdir(repo)
    label = "[site] templates" if key == "templates" else "content"
    for command in (["check"], ["build", "--out", str(tmp_path / "site")]):
        line = error_line(run(*command))
        assert line == (f"Error: termsledger.toml: {label} {value!r} is outside the folder of "
                        "termsledger.toml: name a folder inside it (or give --content)")
    assert not (tmp_path / "site").exists()


def test_folders_inside_the_configuration_folder_are_fine(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "legal" / "templates").mkdir(parents=True)
    (repo / "legal" / "terms.md").write_text(TERMS, encoding="utf-8")
    (repo / "termsledger.toml").write_text('content = "./legal/../legal"\n[site]\ntemplates = '
                                           '"legal/templates"\n',
                                           encoding="utf-8")
    monkeypatch.chdir(repo)
    assert run("build").exit_code == 0 and (repo / "build" / "terms" / "index.html").is_file()


COMMENTED_V1 = front(title="Terms <!-- NOTE-TITLE -->", slug="terms", effective="2025-01-01",
                     summary="First version. <!-- NOTE-SUMMARY -->") + """
<!-- NOTE-BLOCK: check with outside counsel -->
# Terms <!-- NOTE-HEADING -->

Welcome<!-- NOTE-INLINE --> to the service.

- item one
<!-- NOTE-LIST -->
- item two

## Refunds

Refunds within 14 days. <!-- NOTE-CHANGED-OLD: was 30 -->

| Plan | Window |
|------|--------|
| Monthly <!-- NOTE-TABLE --> | 14 days |

Text <!--- NOTE-DASHES ---> more.

Para <!-- NOTE-MULTI
spanning lines --> end.

Gap <!-- NOTE-GAP

still the note --> end.

Code `<!-- NOTE-CODE -->` here.
"""

COMMENTED_V2 = COMMENTED_V1.replace("2025-01-01", "2025-06-01").replace("First version.", "Shorter refunds.")
COMMENTED_V2 = COMMENTED_V2.replace("Refunds within 14 days. <!-- NOTE-CHANGED-OLD: was 30 -->",
                                    "Refunds within <!-- NOTE-CHANGED-NEW: counsel said 7 --> 7 days.\n\n"
                                    "<!-- NOTE-ADDED\n\n-->")
NOTES = ("NOTE-", "outside counsel", "counsel said", "spanning lines", "still the note")


def test_no_comment_text_reaches_any_output_file(content_repo, tmp_path):
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": COMMENTED_V1})
    content_repo.commit("2025-05-01T10:00:00", **{"terms.md": COMMENTED_V2})
    out = tmp_path / "site"
    assert run("build", "--content", str(content_repo.path), "--out", str(out), "--date", "2025-07-01",
               "--base-url", "https://terms.example.com/").exit_code == 0
    files = published(out)
    assert {"terms/diff/2025-01-01..2025-06-01/index.html", "terms/history/index.html", "feed.xml",
            "versions.json"} <= set(files)
    leaks = [(path, note) for path, data in files.items() for note in NOTES if note.encode() in data]
    assert leaks == []
    page = files["terms/index.html"].decode()
    for kept in ("Welcome to the service.", "item two", "Text  more.", "Code `` here.", "end."):
        assert kept in page
    assert "<title>Terms" in page
    redline = files["terms/diff/2025-01-01..2025-06-01/index.html"].decode()
    assert "14" in redline and "7" in redline and "days." in redline
    diff = run("diff", "terms", "--content", str(content_repo.path))
    assert not [note for note in NOTES if note in diff.output]


def test_an_unclosed_comment_is_reported_and_hides_the_rest(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "terms.md").write_text(TERMS + "\nVisible.\n\nAlso <!-- NOTE-UNCLOSED\n\nmore notes.\n",
                                     encoding="utf-8")
    checked = run("check", "--content", str(folder))
    assert ("terms.md:12: error: this comment is never closed (no '-->' after it), so the rest of the "
            "document is left out of the site: close it with -->") in checked.output
    out = tmp_path / "site"
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    page = (out / "terms/index.html").read_text(encoding="utf-8")
    assert "Visible." in page and "NOTE-UNCLOSED" not in page and "more notes" not in page


def test_control_characters_in_titles_and_summaries_are_reported_and_left_out(tmp_path):
    import xml.dom.minidom

    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "terms.md").write_text('---\nslug: terms\neffective: 2025-01-01\nsummary: "Fees\\x0c '
                                     'changed."\n---\n# Terms\x01 of use\n\nText.\n', encoding="utf-8")
    checked = run("check", "--content", str(folder))
    assert "terms.md:6: error: the title holds the control character U+0001: remove it" in checked.output
    assert "terms.md:4: error: the summary holds the control character U+000C: remove it" in checked.output
    out = tmp_path / "site"
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    feed = xml.dom.minidom.parse(str(out / "feed.xml"))  # a control character would make it invalid XML
    assert "Terms of use" in feed.toxml() and "Fees changed." in feed.toxml()


def test_a_yaml_alias_bomb_is_reported_in_a_few_words(tmp_path):
    lines = ["---", "effective: 2025-01-01", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level, name in enumerate("bcdefg"):
        lines.append(f"{name}: &{name} [" + ", ".join(["*" + "abcdefg"[level]] * 9) + "]")
    lines += ["title: *g", "slug: *g", "summary: *g", "references: *g", "---", "# Terms", "", "Text."]
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "terms.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    checked = run("check", "--content", str(folder))  # 9**7 items each, if spelled out: 33 MB a message
    assert len(checked.output) < 2000, len(checked.output)
    assert ("terms.md:13: error: references must be a list of document slugs, not [[...], [...], [...], "
            "[...], [...], [...], ...]\n") in checked.output
    assert run("build", "--content", str(folder), "--out", str(tmp_path / "site")).exit_code == 0


PNG = b"\x89PNG\r\n\x1a\n"


def test_files_that_would_run_on_the_site_are_not_published(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    links = ("\n[a](evil.html) ![b](diagram.svg) [c](app.js) [d](README.md) [e](data.xml) [f](Makefile) "
             "![g](logo.PNG)\n")
    (folder / "terms.md").write_text(TERMS + links, encoding="utf-8")
    script = f"<script>alert('{SECRET}')</script>"
    for name in ("evil.html", "diagram.svg", "app.js", "README.md", "data.xml", "Makefile"):
        (folder / name).write_text(script, encoding="utf-8")
    (folder / "logo.PNG").write_bytes(PNG)
    checked = run("check", "--content", str(folder))
    for target, suffix in (("evil.html", "'.html'"), ("diagram.svg", "'.svg'"), ("app.js", "'.js'"),
                           ("data.xml", "'.xml'"), ("Makefile", "without an extension")):
        assert (f"terms.md:10: error: link to '{target}': {target} is not published: files of type {suffix} "
                "are not (images, PDF, office documents, text, audio and video are; HTML, SVG and scripts "
                "would run on the site)") in checked.output
    assert "terms.md:10: error: link to 'README.md': README.md is not one of the documents" in checked.output
    assert "logo.PNG" not in checked.output
    out = tmp_path / "site"
    assert run("build", "--content", str(folder), "--out", str(out)).exit_code == 0
    files = published(out)
    logo = f"assets/{hashlib.sha256(PNG).hexdigest()[:16]}/logo.PNG"
    assert [p for p in files if p.startswith("assets/")] == [logo]
    assert not [p for p, data in files.items() if SECRET.encode() in data]


@pytest.mark.parametrize("expression", ["{{ 1 // 0 }}", "{{ '%d' % 'x' }}", "{{ 'abc'.encode('rot13') }}"])
def test_any_error_in_a_template_override_is_one_line(tmp_path, expression):
    folder, out = content_with_templates(tmp_path, _footer__html=f"<footer>\n\n{expression}\n</footer>\n")
    line = error_line(run("build", "--content", str(folder), "--out", str(out)))
    assert line.startswith(f"Error: error building page 'index.html': template "
                           f"{folder / 'templates' / '_footer.html'}, line 3: ")


def test_a_template_override_that_includes_itself_says_so(tmp_path):
    footer = '<footer>{% include "_footer.html" %}</footer>\n'
    folder, out = content_with_templates(tmp_path, _footer__html=footer)
    line = error_line(run("build", "--content", str(folder), "--out", str(out)))
    assert line.startswith("Error: error building page 'index.html': template ")
    assert line.endswith("_footer.html, line 1: the template includes, extends or calls itself without end")


@pytest.mark.parametrize("key", ["content", "out"])
def test_a_path_with_a_nul_character_in_the_configuration_is_refused(tmp_path, monkeypatch, key):
    (tmp_path / "termsledger.toml").write_text(f'{key} = "a\\u0000b"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    line = error_line(run("build"))
    assert line == (f"Error: termsledger.toml: {key} 'a\\x00b' is not a possible path "
                    f"(it holds a NUL character)")


@pytest.mark.parametrize(("toml", "said"), [
    ("site = 5\n", "site must be a section ([site] on a line of its own, its keys on the lines after), "
                   "not 5"),
    ('materiality = "x"\n', "materiality must be a section ([materiality] on a line of its own, its keys on "
                            "the lines after), not 'x'"),
    ("include = []\n", "include lists no pattern, so no file would be a document: name some (the default "
                       'is ["*.md", "*.markdown"]), or remove the key'),  # was ['*.md', '*.markdown']
    ('[site]\nlanguage = "fr"\nlanguages = ["en", "de"]\n',
     """[site] languages ["en", "de"] must list the site's language 'fr' ([site] language)"""),
    ('content = {folder = "legal", "the files" = ["*.md"]}\n',
     'content must be a path (text), not { folder = "legal", "the files" = ["*.md"] }'),
])
def test_a_configuration_of_the_wrong_shape_says_what_it_must_be(tmp_path, monkeypatch, toml, said):
    """Values are shown as TOML writes them, not as Python does."""
    (tmp_path / "termsledger.toml").write_text(toml, encoding="utf-8")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "terms.md").write_text(TERMS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert error_line(run("check")) == f"Error: termsledger.toml: {said}"


@pytest.mark.parametrize(("toml", "said"), [
    ('out = "a"\nout = "b"\n', "out is given twice, on lines 1 and 2: remove one of the two lines"),
    ('[site]\ntitle = "A"\nbase_url = "https://terms.example.com/"\n\n# again\n  "title" = "B"\n',
     "[site] title is given twice, on lines 2 and 6: remove one of the two lines"),
    ('[site]\ntitle = "A"\n\n[materiality]\nwatch = []\n\n[site]\ncontact = "legal@example.com"\n',
     "the section [site] is given twice, on lines 1 and 7: give it once, with all its keys under it"),
    ('content = "."\ncontent.folder = "legal"\n',
     "line 2: content.folder clashes with a key or section given before it: give each key once"),
])
def test_a_key_given_twice_in_the_configuration_is_named_with_its_lines(tmp_path, monkeypatch, toml, said):
    """It was TOML's own words: 'not valid TOML: Cannot overwrite a value (at line 2, column 10)'."""
    (tmp_path / "termsledger.toml").write_text(toml, encoding="utf-8")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "terms.md").write_text(TERMS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert error_line(run("check")) == f"Error: termsledger.toml: {said}"


def test_a_build_cache_committed_with_the_content_is_not_used(content_repo, tmp_path, monkeypatch):
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS, "termsledger.toml": 'content = "."\n'})
    monkeypatch.chdir(content_repo.path)
    assert run("build", "--out", str(tmp_path / "first")).exit_code == 0
    cache = content_repo.path / ".termsledger-cache"
    db = sqlite3.connect(cache / "fragments.sqlite")
    with db:
        db.execute("UPDATE fragments SET value = replace(value, '<p>Welcome.</p>', "
                   "'<p>Welcome.</p><script>alert(1)</script>')")
    db.close()
    content_repo.commit("2024-12-02T10:00:00", message="Commit the cache")  # anyone who can push can
    committed = {p.name: p.read_bytes() for p in cache.iterdir()}
    out = tmp_path / "site"
    result = run("build", "--strict", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert not [p for p, data in published(out).items() if b"<script" in data]
    assert result.stderr == (
        "Warning: the build cache .termsledger-cache is ignored (the site is built without it): git tracks "
        "files in it, so anyone who can push could have forged it. Stop tracking it: `git rm -r --cached "
        ".termsledger-cache`, and keep it in .gitignore (`termsledger init` adds it).\n")
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == committed  # not written either


def test_a_build_cache_committed_as_a_link_is_not_written_through(content_repo, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (content_repo.path / ".termsledger-cache").symlink_to(elsewhere, target_is_directory=True)
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS, "termsledger.toml": 'content = "."\n'})
    monkeypatch.chdir(content_repo.path)
    result = run("build", "--out", str(tmp_path / "site"))
    assert result.exit_code == 0 and "Warning: the build cache .termsledger-cache is ignored" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_forged_manifest_removes_no_file_the_build_did_not_write(tmp_path, monkeypatch):
    www = tmp_path / "www"
    www.mkdir()
    (www / "other-site.html").write_text("precious", encoding="utf-8")
    folder = tmp_path / "content"
    (folder / ".termsledger-cache").mkdir(parents=True)
    (folder / "terms.md").write_text(TERMS, encoding="utf-8")
    (folder / "termsledger.toml").write_text('content = "."\n', encoding="utf-8")
    (folder / ".termsledger-cache" / "manifest.txt").write_text(f"\tx\t{www}\nother-site.html\t1 1\n",
                                                                encoding="utf-8")
    monkeypatch.chdir(folder)
    assert run("build", "--out", str(www)).exit_code == 0
    assert (www / "other-site.html").read_text(encoding="utf-8") == "precious"
    assert (www / "terms" / "index.html").is_file()


def test_a_file_changed_since_a_build_wrote_it_is_not_removed(content_repo, tmp_path):
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS, "privacy.md": TERMS.replace(
        "slug: terms", "slug: privacy")})
    out = tmp_path / "site"
    assert run("build", "--content", str(content_repo.path), "--out", str(out)).exit_code == 0
    (out / "privacy" / "index.html").write_text("edited by hand", encoding="utf-8")
    (content_repo.path / "privacy.md").unlink()
    result = run("build", "--content", str(content_repo.path), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "privacy" / "index.html").read_text(encoding="utf-8") == "edited by hand"
    assert not (out / "privacy" / "history" / "index.html").exists()  # untouched since: removed
    assert "1 left alone (changed since an earlier build)" in result.output


def test_deeply_nested_front_matter_is_reported_and_left_out(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    unreadable = ("deep.md:4: error: front matter nests lists or mappings more than 100 deep: it cannot be "
                  "read")
    for depth, line in ((50, "deep.md:4: warning: 'x' holds a value nested more than 20 levels deep or of "
                              "more than 10000 items: it is left out (termsledger does not use it)"),
                        (1000, unreadable), (200_000, unreadable)):  # YAML's reader crashed the process
        (folder / "deep.md").write_text(f"---\ntitle: D\neffective: 2025-01-01\nx: {'[' * depth}{']' * depth}"
                                        f"\n---\n# T\n\nbody\n", encoding="utf-8")
        assert line + "\n" in run("check", "--content", str(folder)).output
        assert run("build", "--content", str(folder), "--out", str(tmp_path / "site")).exit_code == 0


@pytest.mark.parametrize("out, cache, folders, files, message", [
    ("/proc/x", None, [], [], "cannot write /proc/x: No such file or directory"),
    ("/dev/null/x", None, [], [], "cannot write /dev/null/x: a file in this path is not a folder"),
    ("o", "/sys/kernel/c", [], [], "cannot write /sys/kernel/c: Operation not permitted"),
    ("o5", None, ["o5"], ["o5/terms"], "cannot write {tmp}/o5/terms: it is a file, where a folder is needed"),
    ("o6", None, ["o6/terms/index.html"], [],
     "cannot write {tmp}/o6/terms/index.html: it is a folder, where a file is needed"),
])
def test_an_output_folder_that_cannot_be_written_is_one_line(tmp_path, monkeypatch, out, cache, folders,
                                                              files, message):
    (tmp_path / "terms.md").write_text(TERMS, encoding="utf-8")
    for name in folders:
        (tmp_path / name).mkdir(parents=True)
    for name in files:
        (tmp_path / name).write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    options = ["--out", out, *(["--cache-dir", cache] if cache else [])]
    line = error_line(run("build", "--content", ".", *options))
    assert line == "Error: " + message.format(tmp=tmp_path)
    assert not list(tmp_path.rglob("*.tmp"))
