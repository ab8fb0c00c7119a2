"""E-mail alerts: subscriptions, their outbox, and the one engine that may write them.

The portal reads the catalogue through a read-only engine (``storage.readonly``). A
subscription is a write, so alerts get a second, small engine, opened only when an operator
configures it (``MOISSON_ALERTS_DATABASE_URL``), that may write the two alert tables and
nothing else: on SQLite an authorizer refuses any write to another table; on PostgreSQL a
role granted only those two tables (docs/ALERTS.md) does, and ``alerts_writable_tables``
says when the connected role can write the catalogue too.

What is stored is only what sending needs: the address, the search (a query string) or the
followed course, the hash of the confirmation token and the unsubscription key (every mail's
link carries it, signed), when the subscription was made, confirmed and last mailed, and
what was last announced or already there (catalogue facts, so nothing is announced twice):
a followed course's session keys, a search's matching course ids. The outbox holds each
mail from composition until the SMTP server accepted it.

Outbox states: ``pending`` (composed, to send) → ``sending`` (claimed by a run) → ``sent``
or ``failed``. A digest row and the subscriptions' new "last mailed" time are written in one
transaction, so a run killed while composing leaves either both or neither; a run killed
while sending leaves a ``sending`` row that the next run sends again (docs/ALERTS.md).
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import URL, make_url

from storage.db import DatabaseUnavailable
from storage.models import Base, BigId, JSONType, Listing, Platform, Session, UTCDateTime

ENV_VAR = "MOISSON_ALERTS_DATABASE_URL"
REVISION = "0010_alerts"
TABLES = ("alert_subscription", "alert_outbox")
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
CONFIRM, DIGEST = "confirm", "digest"

subscription = Table(
    "alert_subscription",
    Base.metadata,
    Column("id", BigId, primary_key=True),
    Column("address", String(320), nullable=False),
    Column("search", Text),
    Column("course_id", BigId),
    Column("confirm_hash", String(64)),
    Column("unsubscribe_key", String(64), nullable=False),
    Column("seen", JSONType),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("last_mailed_at", UTCDateTime),
    CheckConstraint("(search IS NULL) <> (course_id IS NULL)", name="search_or_course"),
    Index("ix_alert_subscription_address", "address"),
    Index("ix_alert_subscription_confirmed_at_created_at", "confirmed_at", "created_at"),
)
outbox = Table(
    "alert_outbox",
    Base.metadata,
    Column("id", BigId, primary_key=True),
    Column("address", String(320), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("day", String(10)),
    Column("message", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    UniqueConstraint("address", "kind", "day"),
    Index("ix_alert_outbox_state", "state", "id"),
)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, so a copy of the database cannot act."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- the writable engine ----------------------------------------------------------------------


def alerts_url(explicit: str | None = None) -> str | None:
    """The alerts' database URL: ``--alerts-db``, else ``$MOISSON_ALERTS_DATABASE_URL``;
    None when alerts are not configured (the portal then stays read-only, forms hidden)."""
    import os

    return explicit or os.environ.get(ENV_VAR) or None


def _sqlite_authorizer(action, table, *_rest):
    writes = (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)
    if action in writes and table not in TABLES:
        return sqlite3.SQLITE_DENY
    if action in (
        sqlite3.SQLITE_CREATE_TABLE,
        sqlite3.SQLITE_DROP_TABLE,
        sqlite3.SQLITE_ALTER_TABLE,
    ):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def open_alerts_engine(url: str) -> Engine:
    """An engine that may write the alert tables only, on a catalogue migrated to hold them.

    Fails with ``DatabaseUnavailable`` saying what to do when the database is missing or
    its schema lacks the alert tables.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise DatabaseUnavailable("alerts are kept in the catalogue's file, not in memory")
        file = Path(parsed.database)
        if not file.exists():
            raise DatabaseUnavailable(f"no catalogue at {file} for the alerts")
        engine = create_engine(
            URL.create(
                "sqlite+pysqlite",
                database=f"file:{quote(str(file.resolve()))}",
                query={"mode": "rw", "uri": "true"},
            ),
            connect_args={"check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _guard(connection, _record):
            connection.execute("PRAGMA busy_timeout = 30000")
            connection.set_authorizer(_sqlite_authorizer)

    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
    try:
        with engine.connect() as conn:
            conn.execute(select(func.count()).select_from(subscription).where(false()))
    except Exception as exc:  # unreachable, or a schema from before the alerts
        engine.dispose()
        raise DatabaseUnavailable(
            f"cannot keep alerts in {parsed.render_as_string()}: {exc}; "
            f"its schema must be at {REVISION} or later (`moisson db upgrade`)"
        ) from exc
    return engine


def alerts_writable_tables(engine: Engine) -> list[str]:
    """Catalogue tables the alerts' PostgreSQL role may write: it should be none."""
    if engine.dialect.name != "postgresql":
        return []
    from storage.readonly import postgres_writable_tables

    return postgres_writable_tables(engine)


# -- subscriptions -----------------------------------------------------------------------------


def recent_subscriptions(engine: Engine, address: str, since: datetime) -> int:
    """How many subscriptions ``address`` made since ``since`` (the per-address limit)."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(subscription)
            .where(subscription.c.address == address, subscription.c.created_at >= since)
        ).scalar_one()


def subscribe(
    engine: Engine,
    address: str,
    now: datetime,
    confirm_token_hash: str,
    unsubscribe_key: str,
    message_for,
    search: str | None = None,
    course_id: int | None = None,
) -> int:
    """A new unconfirmed subscription and its confirmation mail in the outbox, in one
    transaction. ``message_for(subscription_id)`` writes the mail (it carries the id)."""
    with engine.begin() as conn:
        sub_id = conn.execute(
            insert(subscription)
            .values(
                address=address,
                search=search,
                course_id=course_id,
                confirm_hash=confirm_token_hash,
                unsubscribe_key=unsubscribe_key,
                created_at=now,
            )
            .returning(subscription.c.id)
        ).scalar_one()
        conn.execute(
            insert(outbox).values(
                address=address,
                kind=CONFIRM,
                message=message_for(sub_id),
                state=PENDING,
                created_at=now,
            )
        )
    return sub_id


def confirm(
    engine: Engine,
    subscription_id: int,
    confirm_token_hash: str,
    now: datetime,
    search_matches=None,
) -> bool:
    """Confirm once: the stored hash must match and is then cleared, so the link cannot be
    used again. What is there already is marked seen, so only what comes is news: the
    course's sessions, or the courses the search selects now (``search_matches(search)``,
    their ids)."""
    with engine.begin() as conn:
        row = conn.execute(
            select(subscription.c.course_id, subscription.c.search).where(
                subscription.c.id == subscription_id,
                subscription.c.confirm_hash == confirm_token_hash,
                subscription.c.confirmed_at.is_(None),
            )
        ).first()
        if row is None:
            return False
        if row.course_id is not None:
            seen = _session_keys(conn, row.course_id)
        else:
            seen = search_matches(row.search or "") if search_matches else None
        done = conn.execute(
            update(subscription)
            .where(
                subscription.c.id == subscription_id,
                subscription.c.confirm_hash == confirm_token_hash,
            )
            .values(confirm_hash=None, confirmed_at=now, last_mailed_at=now, seen=seen)
        ).rowcount
    return done == 1


def unsubscribe(engine: Engine, subscription_id: int, unsubscribe_key: str) -> bool:
    """Delete the address: every subscription of it and every outbox row of it."""
    with engine.begin() as conn:
        address = conn.execute(
            select(subscription.c.address).where(
                subscription.c.id == subscription_id,
                subscription.c.unsubscribe_key == unsubscribe_key,
            )
        ).scalar()
        if address is None:
            return False
        conn.execute(delete(subscription).where(subscription.c.address == address))
        conn.execute(delete(outbox).where(outbox.c.address == address))
    return True


def purge_unconfirmed(engine: Engine, now: datetime, after: timedelta) -> int:
    """Remove subscriptions never confirmed within ``after``, with their waiting mails."""
    limit = now - after
    with engine.begin() as conn:
        stale = conn.execute(
            select(subscription.c.id, subscription.c.address).where(
                subscription.c.confirmed_at.is_(None), subscription.c.created_at < limit
            )
        ).all()
        if not stale:
            return 0
        conn.execute(delete(subscription).where(subscription.c.id.in_([r.id for r in stale])))
        addresses = {r.address for r in stale}
        still = set(
            conn.execute(
                select(subscription.c.address).where(subscription.c.address.in_(addresses))
            ).scalars()
        )
        conn.execute(delete(outbox).where(outbox.c.address.in_(addresses - still)))
    return len(stale)


def confirmed_by_address(engine: Engine) -> dict[str, list[dict]]:
    """Every confirmed subscription, grouped by address."""
    out: dict[str, list[dict]] = {}
    with engine.connect() as conn:
        for row in conn.execute(
            select(subscription)
            .where(subscription.c.confirmed_at.is_not(None))
            .order_by(subscription.c.address, subscription.c.id)
        ).mappings():
            out.setdefault(row["address"], []).append(dict(row))
    return out


def digest_sent_on(engine: Engine, address: str, day: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                select(outbox.c.id).where(
                    outbox.c.address == address, outbox.c.kind == DIGEST, outbox.c.day == day
                )
            ).first()
            is not None
        )


def queue_digest(
    engine: Engine,
    address: str,
    day: str,
    message: str,
    now: datetime,
    seen: dict[int, list[str]],
) -> bool:
    """The day's digest of ``address`` in the outbox and its subscriptions' "last mailed"
    moved to ``now``, together; False when that day's digest exists already."""
    with engine.begin() as conn:
        if conn.execute(
            select(outbox.c.id).where(
                outbox.c.address == address, outbox.c.kind == DIGEST, outbox.c.day == day
            )
        ).first():
            return False
        conn.execute(
            insert(outbox).values(
                address=address,
                kind=DIGEST,
                day=day,
                message=message,
                state=PENDING,
                created_at=now,
            )
        )
        conn.execute(
            update(subscription)
            .where(subscription.c.address == address, subscription.c.confirmed_at.is_not(None))
            .values(last_mailed_at=now)
        )
        for sub_id, keys in seen.items():
            conn.execute(update(subscription).where(subscription.c.id == sub_id).values(seen=keys))
    return True


def mark_mailed(engine: Engine, address: str, now: datetime, seen: dict[int, list[str]]) -> None:
    """Nothing new for ``address``: no mail; only what was seen is remembered."""
    with engine.begin() as conn:
        for sub_id, keys in seen.items():
            conn.execute(update(subscription).where(subscription.c.id == sub_id).values(seen=keys))


# -- the outbox ----------------------------------------------------------------------------------


def requeue_interrupted(engine: Engine, now: datetime, grace: timedelta) -> int:
    """``sending`` rows left by a run that died: pending again. Digests are only sent by
    ``moisson alerts send`` (one run at a time); a confirmation may be in the hands of the
    portal this very second, so only one older than ``grace`` is taken back."""
    interrupted = (outbox.c.state == SENDING) & (
        (outbox.c.kind == DIGEST) | (outbox.c.created_at < now - grace)
    )
    with engine.begin() as conn:
        return conn.execute(update(outbox).where(interrupted).values(state=PENDING)).rowcount


def pending_ids(engine: Engine, kind: str | None = None) -> list[int]:
    query = select(outbox.c.id).where(outbox.c.state == PENDING).order_by(outbox.c.id)
    if kind:
        query = query.where(outbox.c.kind == kind)
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def claim(engine: Engine, outbox_id: int) -> dict | None:
    """Take a pending mail for sending (``pending`` → ``sending``, committed before the SMTP
    conversation); None if another hand took it or it is gone."""
    with engine.begin() as conn:
        done = conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id, outbox.c.state == PENDING)
            .values(state=SENDING, attempts=outbox.c.attempts + 1)
        ).rowcount
        if done != 1:
            return None
        row = conn.execute(select(outbox).where(outbox.c.id == outbox_id)).mappings().one()
    return dict(row)


def finish(
    engine: Engine, outbox_id: int, state: str, now: datetime, error: str | None = None
) -> None:
    """A claimed mail sent (its text is then dropped), failed for good, or pending again."""
    values = {"state": state, "error": error}
    if state == SENT:
        values.update(sent_at=now, message="")
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(**values))


def outbox_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state)).all()
        )


def forget_sent(engine: Engine, before: datetime) -> int:
    """Sent rows are kept a day (one digest per day); older ones go."""
    with engine.begin() as conn:
        return conn.execute(
            delete(outbox).where(outbox.c.state == SENT, outbox.c.sent_at < before)
        ).rowcount


# -- what is new for a followed course ------------------------------------------------------------


def session_key(listing_id: int, key: str) -> str:
    return f"{listing_id}:{key}"


def _session_keys(conn: Connection, course_id: int) -> list[str]:
    rows = conn.execute(
        select(Session.listing_id, Session.key)
        .join(Listing, Listing.id == Session.listing_id)
        .where(Listing.course_id == course_id, Listing.hidden.is_(False))
    ).all()
    return sorted(session_key(r.listing_id, r.key) for r in rows)


def course_sessions(engine: Engine, course_id: int) -> list[dict]:
    """The visible sessions of a course with their keys, soonest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Session.listing_id,
                Session.key,
                Session.start,
                Session.end,
                Session.enrolment_start,
                Session.enrolment_end,
                Listing.url,
                func.coalesce(Platform.label, Platform.name).label("platform_label"),
            )
            .join(Listing, Listing.id == Session.listing_id)
            .join(Platform, Platform.id == Listing.platform_id)
            .where(Listing.course_id == course_id, Listing.hidden.is_(False))
            .order_by(Session.start.is_(None), Session.start, Session.id)
        ).mappings()
        return [{**row, "key": session_key(row["listing_id"], row["key"])} for row in rows]
