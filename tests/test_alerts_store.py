"""The alert tables on both backends, and the PostgreSQL role that may write only them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from storage import alerts as store
from storage.db import ensure_schema, make_engine
from tests.conftest import _postgres_url_or_skip

NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)
GRACE = timedelta(minutes=10)


def test_subscription_outbox_and_unsubscription(engine, db_url):
    alerts = store.open_alerts_engine(db_url)
    sub = store.subscribe(
        alerts, "a@example.org", NOW, "hash", "key", lambda i: f"mail {i}", search=""
    )
    assert store.outbox_counts(alerts) == {store.PENDING: 1}
    assert store.recent_subscriptions(alerts, "a@example.org", NOW - timedelta(days=1)) == 1
    assert not store.confirm(alerts, sub, "wrong", NOW)
    assert store.confirm(alerts, sub, "hash", NOW)
    assert not store.confirm(alerts, sub, "hash", NOW)  # once

    (mail,) = store.pending_ids(alerts)
    claimed = store.claim(alerts, mail)
    assert claimed["message"] == f"mail {sub}" and claimed["attempts"] == 1
    assert store.claim(alerts, mail) is None  # not twice
    # a confirmation the portal may be sending now is left to it; an older one was cut short
    assert store.requeue_interrupted(alerts, NOW + timedelta(minutes=5), GRACE) == 0
    assert store.requeue_interrupted(alerts, NOW + timedelta(minutes=11), GRACE) == 1
    store.claim(alerts, mail)
    store.finish(alerts, mail, store.SENT, NOW)

    day = "2026-11-15"
    assert store.queue_digest(alerts, "a@example.org", day, "digest", NOW, {})
    assert not store.queue_digest(alerts, "a@example.org", day, "again", NOW, {})
    assert store.digest_sent_on(alerts, "a@example.org", day)
    (row,) = store.confirmed_by_address(alerts)["a@example.org"]
    assert row["last_mailed_at"] == NOW

    assert store.forget_sent(alerts, NOW) == 0  # kept a while: today's digest counts
    assert store.forget_sent(alerts, NOW + timedelta(days=1)) == 1
    assert not store.unsubscribe(alerts, sub, "guess")
    assert store.unsubscribe(alerts, sub, "key")
    assert store.confirmed_by_address(alerts) == {}
    assert store.outbox_counts(alerts) == {}  # the waiting digest went with the address
    alerts.dispose()


@pytest.fixture
def alerts_role():
    """A catalogue owned by one role and an alerts role granted as docs/ALERTS.md says."""
    base = _postgres_url_or_skip()
    tag = uuid.uuid4().hex[:10]
    owner, role, schema = f"moisson_owner_{tag}", f"moisson_alerts_{tag}", f"t_{tag}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {owner} LOGIN"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"CREATE SCHEMA {schema} AUTHORIZATION {owner}"))

    def url_for(name: str) -> str:
        url = make_url(base).set(username=name)
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    catalogue = make_engine(url_for(owner))
    ensure_schema(catalogue)
    catalogue.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}"))
        conn.execute(
            text(
                f"GRANT INSERT, UPDATE, DELETE ON {schema}.alert_subscription, "
                f"{schema}.alert_outbox TO {role}"
            )
        )
        conn.execute(
            text(
                f"GRANT USAGE ON SEQUENCE {schema}.alert_subscription_id_seq, "
                f"{schema}.alert_outbox_id_seq TO {role}"
            )
        )
    yield url_for(role)
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        for name in (role, owner):
            conn.execute(text(f"DROP OWNED BY {name}"))
            conn.execute(text(f"DROP ROLE {name}"))
    admin.dispose()


@pytest.mark.postgres
def test_the_alerts_role_writes_alerts_and_not_the_catalogue(alerts_role):
    alerts = store.open_alerts_engine(alerts_role)
    assert store.alerts_writable_tables(alerts) == []
    sub = store.subscribe(alerts, "b@example.org", NOW, "h", "k", lambda i: "mail", search="")
    assert store.confirm(alerts, sub, "h", NOW)
    with pytest.raises(ProgrammingError, match="permission denied"), alerts.begin() as conn:
        conn.execute(text("UPDATE course SET title = 'pris'"))
    alerts.dispose()
