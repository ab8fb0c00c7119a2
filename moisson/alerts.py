"""``moisson alerts send|purge`` and the portal's alerts configuration (docs/ALERTS.md).

Alerts are on when ``MOISSON_ALERTS_DATABASE_URL`` (``--alerts-db``) and
``MOISSON_ALERTS_SECRET`` are set; sending also needs ``MOISSON_SMTP_HOST`` and the portal's
public URL (``MOISSON_PUBLIC_URL``), since a mail's links cannot come from a request.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta

SECRET_VAR = "MOISSON_ALERTS_SECRET"


def portal_alerts(alerts_db: str | None):
    """The portal's ``Alerts`` when configured, else None; ValueError saying what is missing
    when only part of it is (a URL without a secret)."""
    from portal.alerts import Alerts
    from portal.mailing import AlertsUnavailable, Links, SmtpSettings
    from storage.alerts import alerts_url, alerts_writable_tables, open_alerts_engine

    url = alerts_url(alerts_db)
    if url is None:
        return None
    try:
        links = Links(os.environ.get(SECRET_VAR, ""))
        smtp = SmtpSettings.from_environment()
    except AlertsUnavailable as exc:
        raise ValueError(f"alerts: {exc}") from None
    engine = open_alerts_engine(url)
    writable = alerts_writable_tables(engine)
    if writable:  # the role, not this code, is what keeps the catalogue safe (docs/ALERTS.md)
        print(
            f"moisson: warning: the alerts' role can write the catalogue ({', '.join(writable)}): "
            "grant it only the alert tables (docs/ALERTS.md)",
            file=sys.stderr,
            flush=True,
        )
    return Alerts(engine=engine, links=links, smtp=smtp)


def cmd_alerts(args) -> int:
    from portal.app import create_app
    from portal.mailing import (
        UNCONFIRMED_KEPT,
        AlertsUnavailable,
        SmtpSettings,
        compose_digests,
        send_outbox,
    )
    from storage import alerts as store
    from storage.readonly import open_readonly

    now = datetime.fromisoformat(args.now).astimezone(UTC) if args.now else datetime.now(UTC)
    try:
        alerts = portal_alerts(args.alerts_db)
    except ValueError as exc:
        print(f"moisson alerts: {exc}", file=sys.stderr)
        return 2
    if alerts is None:
        print(
            f"moisson alerts: no alerts database: set {store.ENV_VAR} or --alerts-db",
            file=sys.stderr,
        )
        return 2
    if args.action == "purge":
        removed = store.purge_unconfirmed(alerts.engine, now, UNCONFIRMED_KEPT)
        forgotten = store.forget_sent(alerts.engine, now - timedelta(days=2))
        print(f"{removed} unconfirmed subscriptions removed, {forgotten} sent mails forgotten")
        return 0
    try:
        smtp = alerts.smtp or SmtpSettings.from_environment()
    except AlertsUnavailable as exc:
        print(f"moisson alerts: {exc}", file=sys.stderr)
        return 2
    if smtp is None or not args.public_url:
        print(
            "moisson alerts send: needs MOISSON_SMTP_HOST and the portal's public URL "
            "(--public-url or MOISSON_PUBLIC_URL) for the mails' links",
            file=sys.stderr,
        )
        return 2
    catalogue = open_readonly(args.db)
    app = create_app(catalogue, public_url=args.public_url)

    def url(name: str, **params) -> str:
        return app.state.public_url + str(app.url_path_for(name, **params))

    requeued = store.requeue_interrupted(alerts.engine, now, timedelta(minutes=10))
    queued = compose_digests(alerts.engine, catalogue, alerts.links, smtp.sender, now, url)
    counts = send_outbox(alerts.engine, smtp, now)
    print(
        f"{queued} digests composed, {requeued} interrupted mails resumed; "
        f"sent {counts['sent']}, failed {counts['failed']}, waiting {counts['pending']}",
        flush=True,
    )
    return 0 if counts["pending"] == 0 else 1
