"""``moisson``: crawl, demo, db, stats, parse, new-spider, record, normalise, serve.

Exit status: 0 on success, 1 when a crawled spider's run is not healthy (so cron and
systemd can alert), 2 for a usage or configuration error (an unknown spider, a bad
``--set``, an unreachable database), 3 when ``normalise`` did not understand its text.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _engine(args):
    from storage.db import DatabaseUnavailable, ensure_schema, make_engine

    engine = make_engine(args.db)
    try:
        ensure_schema(engine)
    except DatabaseUnavailable as exc:
        print(f"moisson: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from exc
    return engine


def _crawl(args, names: list[str] | None, replay: bool) -> int:
    """Crawl ``names`` (None: every spider) and report; the exit status of the command."""
    from crawlers.replay import DEFAULT_RECORDINGS
    from moisson.crawl import project_settings, run_crawl, spider_names
    from moisson.progress import Progress
    from storage.db import database_url

    extra = {}
    for assignment in getattr(args, "set", None) or []:
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            print(f"moisson: --set takes NAME=VALUE, not {assignment!r}", file=sys.stderr)
            return EXIT_USAGE
        extra[name] = value
    url = database_url(args.db)
    settings = project_settings(
        **extra,
        MOISSON_DATABASE_URL=url,
        MOISSON_REPLAY=replay or None,
        MOISSON_RECORDINGS_DIR=str(args.recordings) if args.recordings else None,
        MOISSON_REFERENCE_TIME=args.reference_time,
        LOG_LEVEL=args.log_level,
    )
    try:
        known = spider_names(settings)
    except (ImportError, ValueError) as exc:
        print(f"moisson: cannot load the spiders: {exc}", file=sys.stderr)
        return EXIT_USAGE
    names = known if names is None else names
    unknown = sorted(set(names) - set(known))
    if unknown:
        print(
            f"moisson: unknown spider(s) {', '.join(unknown)}; known: {', '.join(known)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    engine = _engine(args)  # fails early and clearly if the catalogue is unreachable
    engine.dispose()
    if replay:
        root = Path(args.recordings or DEFAULT_RECORDINGS)
        missing = [n for n in names if not (root / n / "index.json").exists()]
        if missing:
            print(f"moisson: no recordings for {', '.join(missing)} in {root}", file=sys.stderr)
            return EXIT_USAGE
        from crawlers.replay import RecordingError, load_index

        try:
            for name in names:
                load_index(root / name)
        except RecordingError as exc:
            print(f"moisson: {exc}", file=sys.stderr)
            return EXIT_USAGE
    progress = None
    if not getattr(args, "quiet", False):
        progress = Progress(sys.stderr, interval=getattr(args, "progress_interval", 60.0))
    results = run_crawl(names, settings, progress)
    status = EXIT_OK if all(r.healthy for r in results) else EXIT_FAILED
    if getattr(args, "json", False):
        print(
            json.dumps(
                {
                    "healthy": status == EXIT_OK,
                    "exit_status": status,
                    "spiders": {r.spider: r.as_json() for r in results},
                },
                ensure_ascii=False,
            )
        )
    else:
        from moisson.summary import print_summary

        print_summary(results, sys.stdout)
    return status


def cmd_crawl(args) -> int:
    if args.all == bool(args.spiders):
        print("moisson crawl: name spiders or give --all", file=sys.stderr)
        return EXIT_USAGE
    return _crawl(args, None if args.all else args.spiders, replay=args.replay)


def cmd_demo(args) -> int:
    from crawlers.replay import DEFAULT_RECORDINGS, spiders_with_recordings
    from storage.db import database_url
    from storage.queries import catalogue_stats

    names = spiders_with_recordings(Path(args.recordings or DEFAULT_RECORDINGS))
    print(f"Replaying the recordings of {', '.join(names)} into {database_url(args.db)}")
    status = _crawl(args, names, replay=True)
    stats = catalogue_stats(_engine(args))
    print(
        f"Catalogue: {stats['courses']} courses, {stats['listings']} listings, "
        f"{stats['sessions']} sessions; by platform: "
        + ", ".join(f"{k} {v}" for k, v in stats["by_platform"].items())
    )
    return status


def cmd_stats(args) -> int:
    from storage.queries import catalogue_stats

    stats = catalogue_stats(_engine(args))
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
    else:
        print(
            f"courses   {stats['courses']}\nlistings  {stats['listings']}\n"
            f"sessions  {stats['sessions']}\ncrawl runs {stats['crawl_runs']}"
        )
        for name, count in stats["by_platform"].items():
            print(f"  {name:<20} {count}")
    return EXIT_OK


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def cmd_runs(args) -> int:
    from storage.queries import recent_runs

    runs = recent_runs(_engine(args), limit=args.limit, spider=args.spider)
    if args.json:
        print(json.dumps({"runs": runs}, ensure_ascii=False, default=_jsonable))
        return EXIT_OK
    print(
        f"{'run':>5} {'spider':<20} {'started (UTC)':<17} {'finish':<22} {'stored':>6} "
        f"{'new':>5} {'chg':>4} {'err':>4}  health"
    )
    for run in runs:
        health = {True: "healthy", False: "UNHEALTHY", None: "unknown (unfinished?)"}[
            run["healthy"]
        ]
        reasons = "; ".join(run["health_reasons"] or [])
        started = run["started_at"].strftime("%Y-%m-%d %H:%M")
        print(
            f"{run['id']:>5} {run['spider']:<20} {started:<17} "
            f"{run['finish_reason'] or '-':<22} {run['items_stored']:>6} "
            f"{run['listings_new']:>5} {run['listings_changed']:>4} {run['errors']:>4}  "
            f"{health}{': ' + reasons if reasons else ''}"
        )
    return EXIT_OK


def cmd_history(args) -> int:
    from storage.queries import find_listing, listing_history

    engine = _engine(args)
    listing = find_listing(engine, args.listing)
    if listing is None:
        print(
            f"moisson history: no listing {args.listing!r} (give an id or platform:external_id)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    changes = listing_history(engine, listing["id"])
    if args.json:
        print(
            json.dumps(
                {"listing": listing, "changes": changes}, ensure_ascii=False, default=_jsonable
            )
        )
        return EXIT_OK
    print(f"{listing['platform']}:{listing['external_id']}  {listing['title']}\n{listing['url']}")
    print(
        f"first seen {listing['first_seen']:%Y-%m-%d}, last seen {listing['last_seen']:%Y-%m-%d}"
        + (
            f", missing since {listing['missing_since']:%Y-%m-%d} ({listing['missing_runs']} runs)"
            if listing["missing_since"]
            else ""
        )
        + (", hidden" if listing["hidden"] else "")
        + f"; course {listing['course_id']} ({listing['link_method']})"
    )
    for change in changes:
        what = "first seen" if change["old_hash"] is None else ", ".join(change["changed_fields"])
        print(f"  {change['changed_at']:%Y-%m-%d %H:%M}  run {change['crawl_run_id']}  {what}")
    return EXIT_OK


def cmd_db(args) -> int:
    from storage import db

    if args.action == "upgrade":
        engine = _engine(args)
        print(f"schema at {db.current_revision(engine)} (head {db.head_revision()})")
    elif args.action == "downgrade":
        engine = db.make_engine(args.db)
        db.downgrade(engine, args.revision or "-1")
        print(f"schema at {db.current_revision(engine)}")
    elif args.action == "current":
        engine = db.make_engine(args.db)
        print(f"{db.current_revision(engine)} (head {db.head_revision()})")
    elif args.action == "reindex":
        from datetime import UTC, datetime

        from storage import readindex

        engine = _engine(args)
        with engine.begin() as conn:
            courses = readindex.rebuild(conn, datetime.now(UTC))
        print(f"read index rebuilt from {courses} courses")
    elif args.action == "check":
        from datetime import UTC, datetime

        from storage import readindex

        engine = _engine(args)
        with engine.connect() as conn:
            problems = readindex.check(conn, [datetime.now(UTC)])
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} differences: run `moisson db reindex`")
            return EXIT_FAILED
        print("read index agrees with the catalogue")
    return EXIT_OK


def cmd_parse(args) -> int:
    from moisson.parse import parse_saved_response

    try:
        lines = parse_saved_response(
            args.spider,
            Path(args.file),
            args.url,
            normalise_items=args.normalise,
            reference_time=args.reference_time,
        )
    except (LookupError, OSError) as exc:
        print(f"moisson parse: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in lines:
        print(line)
    return EXIT_OK


def cmd_new_spider(args) -> int:
    from moisson.scaffold import ScaffoldError, new_spider

    root = Path(args.root) if args.root else Path(__file__).resolve().parent.parent
    try:
        written = new_spider(root, args.name, args.url, args.base)
    except ScaffoldError as exc:
        print(f"moisson new-spider: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for path in written:
        print(f"wrote {path}")
    print(f"next: moisson record {args.name} URL, then real assertions (docs/ADD_A_PLATFORM.md)")
    return EXIT_OK


def cmd_record(args) -> int:
    from crawlers.replay import DEFAULT_RECORDINGS
    from moisson.crawl import project_settings
    from moisson.record import RecordError, fetch, save_response

    folder = Path(args.recordings or DEFAULT_RECORDINGS) / args.spider
    try:
        fetched = fetch(args.url, project_settings().get("USER_AGENT"))
    except RecordError as exc:
        print(f"moisson record: {exc}", file=sys.stderr)
        return EXIT_FAILED
    body = save_response(folder, fetched, name=args.name)
    print(f"{fetched.status} {fetched.url} -> {body} ({len(fetched.body)} bytes)")
    return EXIT_OK


def cmd_normalise(args) -> int:
    from datetime import date

    from moisson.normalise import exit_status, normalise_text

    try:
        today = date.fromisoformat(args.today) if args.today else None
    except ValueError:
        print(f"moisson normalise: --today must be YYYY-MM-DD, not {args.today!r}", file=sys.stderr)
        return EXIT_USAGE
    result = normalise_text(args.field, args.text, today, args.platform)
    print(json.dumps(result, ensure_ascii=False))
    return exit_status(result)


def cmd_serve(args) -> int:
    """The portal and its API, reading the catalogue without the right to write."""
    import uvicorn

    from portal.app import create_app
    from storage.db import DatabaseUnavailable
    from storage.readonly import open_readonly

    clock = {}
    if args.now:
        from datetime import datetime

        try:
            frozen = datetime.fromisoformat(args.now)
        except ValueError:
            frozen = None
        if frozen is None or frozen.tzinfo is None:
            print(
                f"moisson serve: --now {args.now!r} is not an ISO time with offset", file=sys.stderr
            )
            return EXIT_USAGE
        clock = {"clock": lambda: frozen}
    try:
        engine = open_readonly(args.db)
    except DatabaseUnavailable as exc:
        print(f"moisson serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    hosts = [h for h in (args.trusted_hosts or "").split(",") if h.strip()]
    try:
        app = create_app(engine, **clock, public_url=args.public_url, hosts=hosts)
    except ValueError as exc:
        print(f"moisson serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Moisson portal on http://{args.host}:{args.port}/ (API: /api/v1, docs: /api/docs)")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=bool(args.forwarded_allow_ips),
        forwarded_allow_ips=args.forwarded_allow_ips or None,
    )
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moisson", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p):
        p.add_argument(
            "--db",
            help="database URL (default: $MOISSON_DATABASE_URL, "
            "then sqlite:///var/catalogue.sqlite3)",
        )
        return p

    def with_crawl_options(p):
        p.add_argument("--recordings", type=Path, help="recordings root (default: built-in)")
        p.add_argument("--reference-time", help="the crawl's 'now', ISO with offset (tests)")
        p.add_argument("--log-level", default="WARNING")
        p.add_argument(
            "--set",
            action="append",
            metavar="NAME=VALUE",
            help="override a Scrapy or Moisson setting for this run (repeatable)",
        )
        p.add_argument(
            "--progress-interval",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help="seconds between progress lines when stderr is not a terminal",
        )
        p.add_argument("--quiet", action="store_true", help="no progress, only the summary")

    crawl = with_db(sub.add_parser("crawl", help="crawl platforms into the catalogue"))
    crawl.add_argument("spiders", nargs="*")
    crawl.add_argument("--all", action="store_true", help="every spider")
    crawl.add_argument("--replay", action="store_true", help="serve recordings, no network")
    crawl.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    with_crawl_options(crawl)
    crawl.set_defaults(func=cmd_crawl)

    demo = with_db(sub.add_parser("demo", help="replay every recording into the catalogue"))
    with_crawl_options(demo)
    demo.set_defaults(func=cmd_demo)

    stats = with_db(sub.add_parser("stats", help="counts of the catalogue"))
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)

    runs = with_db(sub.add_parser("runs", help="recent crawl runs and their health"))
    runs.add_argument("--json", action="store_true")
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--spider")
    runs.set_defaults(func=cmd_runs)

    history = with_db(sub.add_parser("history", help="a listing's recorded changes"))
    history.add_argument("listing", help="listing id or platform:external_id")
    history.add_argument("--json", action="store_true")
    history.set_defaults(func=cmd_history)

    dbp = with_db(
        sub.add_parser(
            "db",
            help="schema migrations; reindex / check the portal's read index (docs/PORTAL.md)",
        )
    )
    dbp.add_argument("action", choices=["upgrade", "downgrade", "current", "reindex", "check"])
    dbp.add_argument("revision", nargs="?")
    dbp.set_defaults(func=cmd_db)

    parse = sub.add_parser("parse", help="run a spider's callback on a saved response")
    parse.add_argument("spider")
    parse.add_argument("file")
    parse.add_argument("--url", required=True)
    parse.add_argument("--normalise", action="store_true", help="apply the pipelines too")
    parse.add_argument("--reference-time")
    parse.set_defaults(func=cmd_parse)

    new = sub.add_parser("new-spider", help="write a new platform's spider, test, recordings")
    new.add_argument("name")
    new.add_argument("url", help="the sitemap, API page or list page the spider starts from")
    new.add_argument(
        "--base", default="schema_org", choices=["richie", "schema_org", "json_api", "html"]
    )
    new.add_argument("--root", help="project root to write into (default: this project)")
    new.set_defaults(func=cmd_new_spider)

    record = sub.add_parser("record", help="save a live response into a spider's recordings")
    record.add_argument("spider")
    record.add_argument("url")
    record.add_argument("--name", help="body file name (default: from the URL)")
    record.add_argument("--recordings", type=Path, help="recordings root (default: built-in)")
    record.set_defaults(func=cmd_record)

    from moisson.normalise import FIELDS

    norm = sub.add_parser("normalise", help="one normaliser on one text, as JSON")
    norm.add_argument("field", choices=FIELDS)
    norm.add_argument("text")
    norm.add_argument("--today", help="reference date YYYY-MM-DD (default: today in Paris)")
    norm.add_argument("--platform", help="the platform whose scale the text uses (edx, …)")
    norm.set_defaults(func=cmd_normalise)

    serve = with_db(sub.add_parser("serve", help="the portal and its JSON API, read-only"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--now", help="show the catalogue as at this ISO time with offset (demos, tests)"
    )
    serve.add_argument(
        "--public-url",
        default=os.environ.get("MOISSON_PUBLIC_URL"),
        help="base of every absolute URL, e.g. https://cours.example.fr "
        "(default: $MOISSON_PUBLIC_URL; without it, the request's Host header)",
    )
    serve.add_argument(
        "--trusted-hosts",
        default=os.environ.get("MOISSON_TRUSTED_HOSTS"),
        help="comma-separated Host headers answered besides the public URL's host; "
        "others get 400 (default: $MOISSON_TRUSTED_HOSTS)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("MOISSON_FORWARDED_ALLOW_IPS"),
        help="comma-separated proxy addresses whose X-Forwarded-For/-Proto are honoured "
        "(default: $MOISSON_FORWARDED_ALLOW_IPS; none)",
    )
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
