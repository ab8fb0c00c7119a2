"""Every command's bad arguments: one clear line on stderr and the documented exit status.

The exit statuses are README.md's table: 2 for a usage or configuration error, which
includes a malformed or unreachable database. No case may print a traceback.
"""

from __future__ import annotations

import pytest

from tests.conftest import moisson

UNREACHABLE = "postgresql+psycopg://postgres:secret@127.0.0.1:1/x"  # nothing listens on port 1


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_errors")
    (folder / "not-a-database.sqlite3").write_text("this is not SQLite\n")
    return folder


def crawl(db, *args):
    return ["crawl", "fun_mooc", "--replay", "--quiet", "--db", f"sqlite:///{db / 'c.db'}", *args]


CASES = {
    "set LOG_LEVEL": (
        lambda db: crawl(db, "--set", "LOG_LEVEL=NOPE"),
        "set LOG_LEVEL with --log-level, not --set",
    ),
    "set the database": (
        lambda db: crawl(db, "--set", "MOISSON_DATABASE_URL=nonsense://"),
        "set MOISSON_DATABASE_URL with --db, not --set",
    ),
    "set a whole number": (
        lambda db: crawl(db, "--set", "CONCURRENT_REQUESTS=abc"),
        "--set CONCURRENT_REQUESTS='abc': not a whole number",
    ),
    "set a number": (
        lambda db: crawl(db, "--set", "DOWNLOAD_DELAY=soon"),
        "--set DOWNLOAD_DELAY='soon': not a number",
    ),
    "set a boolean": (
        lambda db: crawl(db, "--set", "AUTOTHROTTLE_ENABLED=maybe"),
        "--set AUTOTHROTTLE_ENABLED='maybe': not a boolean",
    ),
    "set a mapping": (
        lambda db: crawl(db, "--set", "ITEM_PIPELINES=[1]"),
        "--set ITEM_PIPELINES='[1]': not a JSON object",
    ),
    "set a Moisson whole number": (
        lambda db: crawl(db, "--set", "MOISSON_MAX_PAGES=many"),
        "--set MOISSON_MAX_PAGES='many': not a whole number",
    ),
    "log level": (lambda db: crawl(db, "--log-level", "LOUD"), "argument --log-level"),
    "reference time": (
        lambda db: crawl(db, "--reference-time", "garbage"),
        "--reference-time 'garbage' is not an ISO time with offset",
    ),
    "reference time without offset": (
        lambda db: crawl(db, "--reference-time", "2026-11-27T02:30"),
        "is not an ISO time with offset",
    ),
    "progress interval": (
        lambda db: crawl(db, "--progress-interval", "-1"),
        "argument --progress-interval",
    ),
    "database URL of no dialect": (
        lambda db: ["stats", "--db", "nonsense://"],
        "'nonsense://' is not a database URL",
    ),
    "database URL that is not one": (
        lambda db: ["crawl", "fun_mooc", "--replay", "--db", "garbage"],
        "'garbage' is not a database URL",
    ),
    "database server unreachable": (
        lambda db: ["db", "current", "--db", UNREACHABLE],
        "cannot open the catalogue database postgresql+psycopg://postgres:***@127.0.0.1:1/x",
    ),
    "database server unreachable, upgrade": (
        lambda db: ["db", "upgrade", "--db", UNREACHABLE],
        "cannot open the catalogue database",
    ),
    "a file that is not a database": (
        lambda db: ["runs", "--db", f"sqlite:///{db / 'not-a-database.sqlite3'}"],
        "file is not a database",
    ),
    "a SQLite folder that cannot exist": (
        lambda db: ["db", "current", "--db", f"sqlite:///{db / 'not-a-database.sqlite3'}/x.db"],
        "cannot open the catalogue database",
    ),
    "unknown revision": (
        lambda db: ["db", "downgrade", "nonsense", "--db", f"sqlite:///{db / 'd.db'}"],
        "Can't locate revision identified by 'nonsense'",
    ),
    "huge listing id": (
        lambda db: ["history", "99999999999999999999999", "--db", f"sqlite:///{db / 'h.db'}"],
        "no listing '99999999999999999999999'",
    ),
    "huge runs limit": (
        lambda db: [
            "runs",
            "--limit",
            "99999999999999999999999",
            "--db",
            f"sqlite:///{db / 'h.db'}",
        ],
        "argument --limit",
    ),
    "negative runs limit": (
        lambda db: ["runs", "--limit", "-3", "--db", f"sqlite:///{db / 'h.db'}"],
        "argument --limit",
    ),
    "parse reference time": (
        lambda db: ["parse", "fun_mooc", __file__, "--url", "https://x/", "--reference-time", "x"],
        "--reference-time 'x' is not an ISO time with offset",
    ),
    "record a URL that is not one": (
        lambda db: ["record", "fun_mooc", "notaurl", "--recordings", str(db / "rec")],
        "'notaurl' is not an http(s) URL",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_arguments_are_one_clear_line_and_exit_2(db, case):
    args, message = case
    result = moisson(*args(db), timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.rstrip("\n").splitlines()[-1]
    assert last.startswith(f"moisson {args(db)[0]}"), result.stderr
    assert message in last, result.stderr
    if "error: argument" not in last:  # argparse prints its usage first, we print one line
        assert result.stderr.count("\n") == 1, result.stderr
    assert "secret" not in result.stderr
    assert result.stdout == ""
