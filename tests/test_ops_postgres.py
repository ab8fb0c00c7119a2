"""PostgreSQL in production: the crawler role migrates and writes, the portal role only reads.

The roles are made for the test (unique names, dropped after) as docs/OPERATIONS.md
says, on the test server of ``MOISSON_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from tests.conftest import REFERENCE_TIME, ROOT, _postgres_url_or_skip


@pytest.fixture
def roles():
    base = _postgres_url_or_skip()
    tag = uuid.uuid4().hex[:10]
    crawler, portal, schema = f"moisson_crawler_{tag}", f"moisson_portal_{tag}", f"t_{tag}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {crawler} LOGIN"))
        conn.execute(text(f"CREATE ROLE {portal} LOGIN"))
        conn.execute(text(f"CREATE SCHEMA {schema} AUTHORIZATION {crawler}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {portal}"))
        conn.execute(
            text(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {crawler} IN SCHEMA {schema} "
                f"GRANT SELECT ON TABLES TO {portal}"
            )
        )

    def url_for(role: str) -> str:
        url = make_url(base).set(username=role)
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    yield url_for(crawler), url_for(portal)
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        for role in (crawler, portal):
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
    admin.dispose()


def moisson(*args):
    return subprocess.run(
        [sys.executable, "-m", "moisson.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.postgres
def test_crawler_writes_and_portal_reads_only(roles):
    crawler_url, portal_url = roles
    upgrade = moisson("db", "upgrade", "--db", crawler_url)
    assert upgrade.returncode == 0, upgrade.stderr
    crawl = moisson(
        "crawl", "fun_mooc", "--replay", "--db", crawler_url, "--reference-time", REFERENCE_TIME
    )
    assert crawl.returncode == 0, crawl.stderr

    portal = create_engine(portal_url)
    with portal.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM listing")).scalar_one() == 26
        assert conn.execute(text("SELECT healthy FROM crawl_run")).scalar_one() is True
    with portal.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("UPDATE listing SET hidden = true"))
    with portal.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("CREATE TABLE intruder (id int)"))
    portal.dispose()
