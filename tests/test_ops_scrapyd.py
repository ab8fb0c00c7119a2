"""scrapyd: a real scrapyd on loopback runs a spider as a job into the PostgreSQL catalogue.

The scrapyd host runs the installed moisson package (``pip install``), named as project
``moisson`` by the ``scrapy.cfg`` of scrapyd's directory (docs/OPERATIONS.md says why not
eggs). The job is scheduled through scrapyd's HTTP API in replay mode, switched on by a
setting alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import ensure_schema, make_engine
from storage.models import CrawlRun, Listing
from tests.conftest import REFERENCE_TIME
from tests.mockserver import free_port

SCRAPYD_CONF = """\
[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
poll_interval = 0.5
max_proc = 1
logs_dir = {root}/logs
eggs_dir = {root}/eggs
dbs_dir = {root}/dbs
items_dir =
"""
# Where scrapyd runs, a scrapy.cfg names the installed project (as in docs/OPERATIONS.md);
# its deploy target is what scrapyd-client talks to.
SCRAPY_CFG = """\
[settings]
moisson = crawlers.settings

[deploy:local]
url = http://127.0.0.1:{port}
project = moisson
"""


def call(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(f"{base}/{endpoint}", data=body, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path):
    port = free_port()
    (tmp_path / "scrapyd.conf").write_text(SCRAPYD_CONF.format(port=port, root=tmp_path))
    (tmp_path / "scrapy.cfg").write_text(SCRAPY_CFG.format(port=port))
    executable = Path(sys.executable).with_name("scrapyd")
    with (tmp_path / "scrapyd.err").open("w") as errors:
        process = subprocess.Popen(
            [str(executable)], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=errors
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            call(base, "daemonstatus.json")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"scrapyd did not start: {(tmp_path / 'scrapyd.err').read_text()}")
            time.sleep(0.2)
    yield base, tmp_path
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.postgres
def test_scrapyd_job_writes_the_postgres_catalogue(scrapyd, postgres_url):
    base, root = scrapyd
    engine = make_engine(postgres_url)
    ensure_schema(engine)  # `moisson db upgrade`, as before any deployment
    assert "fun_mooc" in call(base, "listspiders.json?project=moisson")["spiders"]
    client = subprocess.run(
        [str(Path(sys.executable).with_name("scrapyd-client")), "spiders", "-t", "local",
         "-p", "moisson"],
        cwd=root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert client.returncode == 0, client.stderr
    assert "fun_mooc" in client.stdout

    scheduled = call(
        base,
        "schedule.json",
        [
            ("project", "moisson"),
            ("spider", "fun_mooc"),
            ("setting", "MOISSON_REPLAY=1"),
            ("setting", f"MOISSON_DATABASE_URL={postgres_url}"),
            ("setting", f"MOISSON_REFERENCE_TIME={REFERENCE_TIME}"),
        ],
    )
    assert scheduled["status"] == "ok", scheduled
    job = scheduled["jobid"]
    deadline = time.monotonic() + 90
    while True:
        jobs = call(base, "listjobs.json?project=moisson")
        finished = [j for j in jobs["finished"] if j["id"] == job]
        if finished:
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.5)

    log = next((root / "logs").rglob(f"{job}.log")).read_text()
    assert "run 1 of fun_mooc is healthy" in log
    assert "replay/served" in log  # recordings, not the network
    with engine.connect() as conn:
        (run,) = conn.execute(select(CrawlRun)).all()
        listings = conn.execute(select(func.count(Listing.id))).scalar_one()
    engine.dispose()
    assert (run.spider, run.finish_reason, run.replay, run.healthy) == (
        "fun_mooc",
        "finished",
        True,
        True,
    )
    assert listings == run.items_stored == 26
