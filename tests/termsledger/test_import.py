"""``termsledger consent import``: decisions a product already holds, recorded at their time and
marked as imported, all or nothing; on each storage engine."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from support.engines import planner_sizes
from support.ledger import content, example, version

from consent import InvalidImport, Ledger
from consent.imports import ANALYZE_FROM
from termsledger.cli import cli

LINES = 100_000


@pytest.fixture
def ledger_path(where):
    path = where("ledger.db")
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
    return path


def run(*args, code=0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output + result.stderr
    return result


def line(n: int) -> str:
    """An acceptance of the Terms of 2024 (no longer in force), at its time, with evidence."""
    return json.dumps({"subject": f"legacy/{n}", "document": "terms", "version": "2024-01-01",
                       "at": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T10:{n % 60:02d}:00Z",
                       "channel": "web", "evidence": {"ip": f"198.51.100.{n % 250}"}})


def test_a_large_file_with_bad_lines_in_the_middle(ledger_path, tmp_path):
    lines = [line(n) for n in range(LINES)]
    lines[50_000] = '{"subject": "legacy/x", "document": "terms"'  # cut short
    lines[50_001] = json.dumps({"subject": "legacy/y", "document": "terms", "version": "2024-01-01",
                                "at": "2999-01-01T00:00:00Z"})
    lines[70_000] = json.dumps({"subject": "legacy/z", "document": "terms", "version": "1999-01-01",
                                "at": "2024-01-02"})
    path = tmp_path / "legacy.jsonl"
    path.write_text("\n".join(lines) + "\n")
    refused = run("consent", "import", path, "--ledger", ledger_path, code=1)
    assert refused.stderr.splitlines() == [
        f"{path}:50001: not valid JSON (unexpected end of data: line 1 column 44 (char 43))",
        f"{path}:50002: at '2999-01-01T00:00:00Z' is in the future: an import records decisions "
        f"already made, at their original time",
        f"{path}:70001: version '1999-01-01' of 'terms' is not published; its published versions "
        f"are: 2024-01-01, 2025-01-01, 2026-01-01, 2099-01-01",
        f"Error: nothing imported from {path}: 3 bad lines (above); fix them, or record the "
        f"others with --skip-bad"]
    with Ledger(ledger_path) as ledger:
        assert ledger.verify().events == 0
    done = json.loads(run("consent", "import", path, "--skip-bad", "--ledger", ledger_path).stdout)
    assert (done["lines"], done["recorded"], done["events"]) == (LINES, LINES - 3, 2 * (LINES - 3))
    assert [bad["line"] for bad in done["bad"]] == [50_001, 50_002, 70_001]
    with Ledger(ledger_path) as ledger:
        assert ledger.verify().ok and ledger.verify().events == 2 * (LINES - 3)
        first = ledger.history("legacy/0")
        assert [(e.at, e.version, e.channel, e.imported, e.evidence) for e in first] == [
            ("2024-01-01T10:00:00.000000+00:00", "2024-01-01", "import:web", True,
             {"ip": "198.51.100.0"}),
            ("2024-01-01T10:00:00.000000+00:00", "2024-01-01", "import:web", True, None)]
        assert {s.status for s in ledger.statuses(
            [f"legacy/{n}" for n in range(0, LINES, 997)], "terms")} == {"reaccept"}
        assert ledger.statuses(["legacy/50000"], "terms")[0].status == "never"


def test_an_import_keeps_the_latest_decision_and_the_marker_cannot_be_forged(ledger_path):
    with Ledger(ledger_path) as ledger:
        ledger.record("ana", "terms")  # today
        ledger.import_records([{"subject": "ana", "document": "terms", "version": "2024-01-01",
                                "at": "2024-05-01", "action": "withdrawn"}])
        assert ledger.status("ana", "terms").status != "withdrawn"  # the import is older
        assert [e.imported for e in ledger.history("ana")] == [False, False, True]
        with pytest.raises(Exception, match="channel 'import:web' is reserved for imports"):
            ledger.record("ana", "terms", channel="import:web")
        assert ledger.verify().ok


@pytest.mark.parametrize("item,message", [
    ("[1]", "must be a JSON object, not [1]"),
    ('{"subject": "a", "document": "terms", "version": "2024-01-01"}',
     "at is missing (the original time of the decision, ISO-8601)"),
    ('{"subject": "a", "document": "terms", "version": "2024-01-01", "at": "2024-02-01", '
     '"subjet": "b"}', "unknown field 'subjet'; the fields are: subject, document, version"),
    ('{"subject": "a", "document": "terms", "version": ["2024-01-01"], "at": "2024-02-01"}',
     "version must be text, not ['2024-01-01']"),
    ('{"subject": "a", "document": "terms", "version": "2024-01-01", "at": "yesterday"}',
     "at must be an ISO-8601 date and time, not 'yesterday'"),
    ('{"subject": "a", "document": "terms", "version": "2024-01-01", "at": "2024-02-01", '
     '"evidence": "ip"}', "evidence must be a JSON object, not str"),
    ('{"subject": "a", "document": "terms", "sha256": "00", "at": "2024-02-01"}',
     "sha256 '00' is neither any text of terms 2024-01-01"),
    (b'{"subject": "\xff", "document": "terms", "version": "2024-01-01", "at": "2024-02-01"}',
     "not valid JSON (str is not valid UTF-8"),
    ('{"subject": "a", "document": "terms", "version": "2024-01-01", "at": "2024-02-01", '
     '"evidence": ' + '{"a": ' * 900 + "1.5" + "}" * 900 + "}", "not valid JSON (nested too deeply)"),
])
def test_each_bad_line_is_named(ledger_path, item, message):
    with Ledger(ledger_path) as ledger:
        with pytest.raises(InvalidImport, match="nothing imported: 1 line cannot be recorded: "
                                                "line 2: ") as refused:
            ledger.import_records([b"", item])
        assert refused.value.count == 1 and refused.value.bad[0].line == 2
        assert message in refused.value.bad[0].message
        assert ledger.verify().events == 0


def test_a_version_named_by_the_hash_of_a_text_of_it(where):
    with Ledger(where("ledger.db"), create=True) as ledger:
        ledger.publish(content(version("terms", "2024-01-01"), version("terms", "2025-01-01")))
        sha = ledger.catalog()[0].versions[0].content_sha256
        done = ledger.import_records([json.dumps({"subject": "b", "document": "terms",
                                                  "sha256": sha, "at": "2024-06-01"})])
        assert done.recorded == 1 and ledger.history("b")[0].version == "2024-01-01"


def test_numbers_in_evidence_are_kept_exactly(ledger_path):
    big = 140683770075447671390208
    with Ledger(ledger_path) as ledger:
        ledger.import_records([json.dumps({
            "subject": "n", "document": "terms", "version": "2024-01-01", "at": "2024-06-01",
            "evidence": {"order": big, "ratio": 0.1, "nested": [{"id": -big}]}})])
        assert ledger.history("n")[0].evidence == {"order": big, "ratio": 0.1,
                                                   "nested": [{"id": -big}]}


def test_a_large_import_into_postgresql_leaves_the_planner_the_sizes_of_its_tables(postgres, tmp_path):
    """Without statistics, until autovacuum gets to them, PostgreSQL plans the queries of a
    ledger filled by a large import as for empty tables (as after a copy: see
    ``test_a_copy_into_postgresql_leaves_the_planner_the_sizes_of_its_tables``)."""
    url = postgres.location()
    with Ledger(url, create=True) as ledger:
        ledger.publish(example())
    path = tmp_path / "legacy.jsonl"
    path.write_text("".join(line(n) + "\n" for n in range(ANALYZE_FROM // 2)))  # with privacy
    assert json.loads(run("consent", "import", path, "--ledger", url).output)["events"] == ANALYZE_FROM
    known, counted = planner_sizes(url, ("events", "personal", "subjects", "status"))
    assert len(known) == 4 and min(counted.values()) == ANALYZE_FROM // 2
    assert known == counted  # reltuples is -1 for a table never analyzed


@pytest.mark.parametrize("at,message", [
    ("0001-01-01T00:00:00+05:00", "at '0001-01-01T00:00:00+05:00' is before year 1 in UTC"),
    ("9999-12-31T23:00:00-05:00", "at '9999-12-31T23:00:00-05:00' is after year 9999 in UTC"),
])
def test_a_time_outside_the_years_of_the_calendar_in_utc_is_a_bad_line(ledger_path, tmp_path, at,
                                                                          message):
    path = tmp_path / "l.jsonl"
    path.write_text(json.dumps({"subject": "a", "document": "terms", "version": "2026-01-01",
                                "at": at}) + "\n")
    refused = run("consent", "import", path, "--ledger", ledger_path, code=1)
    assert refused.stderr.splitlines()[0] == f"{path}:1: {message}"
    done = run("consent", "import", path, "--skip-bad", "--ledger", ledger_path)
    assert json.loads(done.stdout)["bad"] == [{"line": 1, "message": message}]


@pytest.mark.parametrize("text,key", [
    ('{"subject":"a","subject":"b","document":"terms","version":"2026-01-01",'
     '"at":"2026-02-01T10:00:00Z"}', "subject"),
    ('{"subject" : "a", "document" : "terms", "version" : "2026-01-01", "subject"\t: "b", '
     '"at":"2026-02-01T10:00:00Z"}', "subject"),
    ('{"subject":"a","document":"terms","version":"2026-01-01","at":"2026-02-01T10:00:00Z",'
     '"evidence":{"ip":"192.0.2.1","ip":"192.0.2.2","big":123456789012345678901234567890}}', "ip"),
])
def test_a_key_given_twice_is_a_bad_line(ledger_path, tmp_path, text, key):
    path = tmp_path / "l.jsonl"
    good = json.dumps({"subject": "c", "document": "terms", "version": "2026-01-01",
                       "at": "2026-02-01T10:00:00Z", "evidence": {"note": 'a ":" b'}})
    path.write_text(f"{good}\n{text}\n")
    refused = run("consent", "import", path, "--ledger", ledger_path, code=1)
    assert refused.stderr.splitlines()[0] == f"{path}:2: duplicate key {key!r}"
    with Ledger(ledger_path) as ledger:
        assert ledger.verify().events == 0


@pytest.mark.parametrize("engine", ["sqlite"])  # the same on each engine
def test_a_line_nested_too_deeply_to_show_is_a_bad_line(ledger_path, tmp_path):
    """A list 1,000 levels deep was shown with repr(), beyond Python's recursion limit: a
    RecursionError's traceback."""
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 1000 + "]" * 1000 + "\n")
    refused = run("consent", "import", path, "--ledger", ledger_path, code=1)
    assert refused.stderr.splitlines()[0] == f"{path}:1: must be a JSON object, not [[[[[[[...]]]]]]]"


def deep_list(levels: int) -> list:
    deep: list = []
    for _ in range(levels):
        deep = [deep]
    return deep


@pytest.mark.parametrize("engine", ["sqlite"])  # the same on each engine
@pytest.mark.parametrize("value,shown", [
    (float("inf"), "must be a JSON object, not Infinity (a number that is not finite)"),
    (float("nan"), "must be a JSON object, not NaN (a number that is not finite)"),
    ([float("-inf")], "must be a JSON object, not [-Infinity]"),
    (deep_list(5000), "must be a JSON object, not [[[[[[[...]]]]]]]"),
    ({"subject": deep_list(5000), "document": "terms", "version": "2026-01-01",
      "at": "2026-02-01T10:00:00Z"}, "subject must be text, not [[[[[[[...]]]]]]]"),
], ids=["inf", "nan", "in a list", "deep", "deep subject"])
def test_a_line_is_shown_as_it_is_read(ledger_path, value, shown):
    """orjson showed a number that is not finite as null ('must be a JSON object, not null'),
    and repr() failed on a list nested deeper than Python's recursion limit."""
    with Ledger(ledger_path) as ledger:
        with pytest.raises(InvalidImport) as refused:
            ledger.import_records([value])
    assert refused.value.bad[0].message.startswith(shown)
