"""``moisson crawl``: several spiders in one process, progress, summary, --json, exit status."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys

from tests.conftest import REFERENCE_TIME, ROOT
from tests.mockserver import Fault, RichieAndCatalogueSite
from tests.test_ops_faults import FAST, PAGE

MOCK_SPIDERS = {**FAST, "SPIDER_MODULES": "tests.mockserver.spiders"}


def moisson(*args, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "moisson.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env=env,
    )


def settings_args(site, **extra) -> list[str]:
    values = {**MOCK_SPIDERS, "MOISSON_TEST_SITE_URL": site.url, **extra}
    return [arg for name, value in values.items() for arg in ("--set", f"{name}={value}")]


def test_all_spiders_run_together_and_one_unhealthy_spider_fails_the_night(tmp_path):
    db = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    with RichieAndCatalogueSite() as site:
        site.inject(PAGE.format(20), *[Fault.answer(503)] * 3)
        result = moisson(
            "crawl", "--all", "--json", "--db", db, "--reference-time", REFERENCE_TIME,
            "--progress-interval", "0.2", *settings_args(site),
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["healthy"] is False and summary["exit_status"] == 1
    assert set(summary["spiders"]) == {"mock_catalogue", "mock_richie"}
    catalogue, richie = summary["spiders"]["mock_catalogue"], summary["spiders"]["mock_richie"]
    assert catalogue["healthy"] is True, catalogue
    assert (catalogue["items"], catalogue["new"], catalogue["errors"]) == (300, 300, 0)
    assert richie["healthy"] is False
    assert richie["faults"]["page failed: http_503"] == 1
    assert richie["dropped"] == {"not_french": 1}
    for report in (catalogue, richie):
        assert report["duration_seconds"] > 0 and report["crawl_run_id"] is not None
    # not a terminal: plain progress lines, one per spider when it closes
    assert "moisson: mock_catalogue closed (finished): 312 requests" in result.stderr
    assert "moisson: mock_richie closed (finished)" in result.stderr


def test_summary_table_and_exit_status_0(tmp_path):
    db = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    result = moisson(
        "crawl", "fun_mooc", "--replay", "--db", db, "--reference-time", REFERENCE_TIME
    )
    assert result.returncode == 0, result.stderr
    header, row, *details = result.stdout.splitlines()
    assert header.split() == [
        "spider", "health", "items", "new", "changed", "missing", "errors", "duration",
    ]  # fmt: skip
    assert row.split()[:7] == ["fun_mooc", "healthy", "26", "26", "0", "0", "0"]
    assert details == ["fun_mooc: dropped: not_french 1"]


def test_unhealthy_summary_says_why(tmp_path):
    db = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    common = ["crawl", "fun_mooc", "--replay", "--db", db, "--reference-time", REFERENCE_TIME]
    assert moisson(*common).returncode == 0
    result = moisson(*common, "--set", "CLOSESPIDER_ITEMCOUNT=3")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1].split()[:2] == ["fun_mooc", "UNHEALTHY"]
    assert "fun_mooc: finish reason: closespider_itemcount" in lines
    assert any(
        line.startswith("fun_mooc: not healthy: finish reason is 'closespider_itemcount'")
        for line in lines
    )


def test_usage_and_configuration_errors_exit_2(tmp_path):
    db = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    cases = [
        (["crawl", "--db", db], "name spiders or give --all"),
        (["crawl", "fun_mooc", "--all", "--db", db], "name spiders or give --all"),
        (["crawl", "nope", "--db", db], "unknown spider"),
        (["crawl", "fun_mooc", "--db", db, "--set", "NOEQUALS"], "--set takes NAME=VALUE"),
        (["crawl", "--all", "--db", db, "--set", "SPIDER_MODULES=no.such"], "cannot load"),
    ]
    for args, message in cases:
        result = moisson(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr
    bad_flag = moisson("crawl", "--no-such-flag")
    assert bad_flag.returncode == 2


def test_a_terminal_gets_live_bars_and_a_table(tmp_path):
    db = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-m", "moisson.cli", "crawl", "fun_mooc", "--replay", "--db", db,
         "--reference-time", REFERENCE_TIME],
        stdout=follower, stderr=follower, cwd=ROOT, env=env,
    )  # fmt: skip
    os.close(follower)
    screen = b""
    while True:
        ready, _w, _x = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        screen += chunk
    assert process.wait(timeout=60) == 0
    os.close(leader)
    text = screen.decode("utf-8", "replace")
    assert "━" in text  # rich's progress bar
    assert "27/27" in text  # items (26 stored, 1 dropped) of richie's total_count
    assert "moisson crawl" in text and "healthy" in text  # the table's title and health


def test_one_site_of_a_spider_of_several_with_dash_a(tmp_path):
    """``-a site=PLATFORM`` crawls one configured site; a healthy run of one site marks
    nothing missing on the spider's other sites, and is judged against the last run of that
    site alone, not against a run of every site (which stored twice as many)."""
    db = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    base = ["crawl", "openedx", "--replay", "--db", db, "--reference-time", REFERENCE_TIME]
    every = moisson(*base, "--quiet", "--json")
    assert every.returncode == 0, every.stderr
    assert json.loads(every.stdout)["spiders"]["openedx"]["items"] == 6
    first = moisson(*base, "-a", "site=fun_lms", "--quiet")
    assert first.returncode == 0, first.stderr
    second = moisson(*base, "-a", "site=edulib_lms", "--quiet", "--json")
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["spiders"]["openedx"]["healthy"], summary["spiders"]["openedx"]["reasons"]
    assert summary["spiders"]["openedx"]["items"] == 3
    assert summary["spiders"]["openedx"]["missing"] == 0  # fun_lms was not read: not missing
    assert summary["platforms"] == {"edulib_lms": 3, "fun_lms": 3}
    two = ["crawl", "openedx", "fun_mooc", *base[2:]]
    for args, message in [
        ([*base, "-a", "site=nope"], "no site named 'nope'"),
        ([*base, "-a", "site"], "-a takes NAME=VALUE"),
        ([*two, "-a", "site=fun_lms"], "-a goes with one spider named"),
    ]:
        refused = moisson(*args)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
