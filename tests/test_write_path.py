"""The write path's shape (issue 12): set-based statements, nothing redone for what did
not change. Structural checks on both databases; the speed itself is measured by
``python -m benchmarks.scale``, never here."""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from storage import linkage
from storage.catalogue import CatalogueWriter
from storage.models import Session
from tests.test_storage import T0, record


@contextmanager
def statements(engine):
    """Every SQL statement sent to the database meanwhile (one per cursor execution)."""
    sent: list[str] = []

    def seen(_conn, _cursor, statement, _parameters, _context, _executemany):
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _batch(start: int, size: int, title="Cours numéro {}"):
    return [(record(f"c{i}", title.format(i)), {"id": i}) for i in range(start, start + size)]


def _shape(sent: list[str]) -> Counter:
    """The statements' kinds: the SQL with its literal lists of parameters folded."""
    return Counter(re.sub(r"\([?$%][^)]*\)|\[POSTCOMPILE_\w+\]", "(…)", s) for s in sent)


def test_statements_per_batch_do_not_grow_with_its_size(engine):
    writer = CatalogueWriter(engine)
    platform = writer.platform_id("fun_mooc")
    run = writer.start_run("fun_mooc", platform, T0, replay=True)
    writer.store(run, platform, _batch(0, 5), T0)  # the index is loaded, values numbered
    counted = {}
    for size, start in ((20, 1000), (200, 2000)):
        with statements(engine) as sent:
            counts = writer.store(run, platform, _batch(start, size), T0)
        assert counts.new == size
        counted[size] = sent
    assert len(counted[200]) == len(counted[20]), _shape(counted[200]) - _shape(
        counted[20]
    ) or _shape(counted[20]) - _shape(counted[200])
    # changed listings: the same statements however many
    later = T0 + timedelta(days=1)
    changed = {}
    for size, start in ((20, 1000), (200, 2000)):
        with statements(engine) as sent:
            counts = writer.store(run, platform, _batch(start, size, "Cours révisé {}"), later)
        assert counts.changed == size
        changed[size] = sent
    assert len(changed[200]) == len(changed[20])


def test_an_unchanged_batch_recomputes_nothing(engine, monkeypatch):
    writer = CatalogueWriter(engine)
    platform = writer.platform_id("fun_mooc")
    run = writer.start_run("fun_mooc", platform, T0, replay=True)
    entries = _batch(0, 30)
    writer.store(run, platform, entries, T0)
    with engine.connect() as conn:
        sessions_before = conn.execute(select(Session.id).order_by(Session.id)).scalars().all()

    refreshed, loaded = [], []
    monkeypatch.setattr(
        CatalogueWriter, "refresh_courses", lambda self, conn, ids, when: refreshed.append(ids)
    )
    monkeypatch.setattr(
        linkage.CourseIndex, "load", classmethod(lambda cls, *a, **k: loaded.append(1))
    )
    again = CatalogueWriter(engine)  # a later crawl's writer
    with statements(engine) as sent:
        counts = again.store(run, platform, entries, T0 + timedelta(days=1))
    assert (counts.new, counts.changed, counts.unchanged) == (0, 0, 30)
    assert refreshed == [] and loaded == []  # no course refresh, no linkage
    kinds = {re.match(r"\w+", s).group(0) for s in sent}
    written = {re.match(r"(?:UPDATE|INSERT INTO|DELETE FROM) (\w+)", s) for s in sent}
    assert {m.group(1) for m in written if m} == {"listing", "quarantine"}, sent
    assert kinds <= {"SELECT", "UPDATE", "DELETE", "BEGIN", "COMMIT"}, sent
    with engine.connect() as conn:
        sessions_after = conn.execute(select(Session.id).order_by(Session.id)).scalars().all()
    assert sessions_after == sessions_before  # no session rewritten
