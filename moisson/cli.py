"""``moisson``: crawl, demo, db, stats, rome, jobs, parse, new-spider, record, normalise, export,
serve, alerts.

Exit status (the table in README.md): 0 on success, 1 when a crawled spider's run is not
healthy (so cron and systemd can alert), 2 for a usage or configuration error (an unknown
spider, a bad ``--set`` or option value, a malformed or unreachable database), 3 when
``normalise`` did not understand its text, 4 when ``serve``
cannot listen on its address; ``parse`` exits 1 when the saved page itself could not be
understood (moisson/parse.py). An error is one line on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_EMPTY_EXPORT = 3  # export: the selection is empty and the format cannot say so (LHEO)
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
# Settings an option of its own sets: ``--set`` names the option instead.
SETTING_OPTIONS = {
    "LOG_LEVEL": "--log-level",
    "MOISSON_DATABASE_URL": "--db",
    "MOISSON_REPLAY": "--replay",
    "MOISSON_RECORDINGS_DIR": "--recordings",
    "MOISSON_REFERENCE_TIME": "--reference-time",
}


class UsageError(Exception):
    """A bad argument, setting or database: one line on stderr, exit status 2."""


def _open_engine(args):
    """The catalogue's engine, without touching the schema; a bad URL is a usage error."""
    from storage.db import BadDatabaseURL, database_url, make_engine

    url = database_url(args.db)
    try:
        return make_engine(url)
    except BadDatabaseURL as exc:  # not a URL, or an unknown dialect
        raise UsageError(str(exc)) from exc
    except ImportError as exc:  # a known dialect whose driver is not installed
        raise UsageError(f"no driver for the database URL {url!r}: {exc}") from exc
    except OSError as exc:  # the SQLite file's folder cannot be made
        raise UsageError(f"cannot open the catalogue database {url}: {exc}") from exc


def _engine(args):
    from storage.db import ensure_schema

    engine = _open_engine(args)
    ensure_schema(engine)  # DatabaseUnavailable: main() reports it
    return engine


def _settings_from(assignments: list[str]) -> dict[str, str]:
    """``--set NAME=VALUE`` pairs, each checked against the type of the setting's default."""
    from scrapy.settings import BaseSettings, Settings

    from crawlers.settings import project_settings

    # Scrapy's own readers, as the crawl will read the value; bool before int (a subclass)
    readers = (
        (bool, Settings.getbool, "boolean (true/false)"),
        (int, Settings.getint, "whole number"),
        (float, Settings.getfloat, "number"),
        ((dict, BaseSettings), Settings.getdict, "JSON object"),
    )
    defaults = project_settings()
    found = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            raise UsageError(f"--set takes NAME=VALUE, not {assignment!r}")
        if name in SETTING_OPTIONS:
            raise UsageError(f"set {name} with {SETTING_OPTIONS[name]}, not --set")
        default = defaults.get(name)
        for kind, read, expected in readers:
            if isinstance(default, kind):
                try:
                    read(Settings({name: value}), name)
                except (TypeError, ValueError) as exc:
                    raise UsageError(f"--set {name}={value!r}: not a {expected}") from exc
                break
        found[name] = value
    return found


def _reference_time(value: str | None) -> str | None:
    """``--reference-time``, checked as the pipelines will read it (ISO with an offset)."""
    from pipelines.common import reference_time

    if value is not None:
        try:
            reference_time({"MOISSON_REFERENCE_TIME": value})
        except ValueError as exc:
            raise UsageError(f"--reference-time {value!r} is not an ISO time with offset") from exc
    return value


def _in_range(convert, low: float, high: float, what: str):
    """An argparse type: ``convert`` the text, then require ``low < value < high``."""

    def check(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not low < value < high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return check


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"{text!r} is not true or false")
    return text.lower() == "true"


_count = _in_range(int, 0, 2**31, "a whole number from 1 to 2147483647")
_seconds = _in_range(float, 0, float("inf"), "a positive number of seconds")


def _crawl(args, names: list[str] | None, replay: bool) -> int:
    """Crawl ``names`` (None: every spider) and report; the exit status of the command."""
    from crawlers.replay import DEFAULT_RECORDINGS
    from crawlers.settings import project_settings
    from moisson.crawl import run_crawl, spider_names
    from moisson.progress import Progress
    from storage.db import database_url

    extra = _settings_from(getattr(args, "set", None) or [])
    url = database_url(args.db)
    settings = project_settings(
        **extra,
        MOISSON_DATABASE_URL=url,
        MOISSON_REPLAY=replay or None,
        MOISSON_RECORDINGS_DIR=str(args.recordings) if args.recordings else None,
        MOISSON_REFERENCE_TIME=_reference_time(args.reference_time),
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
    spider_args = _spider_args(getattr(args, "spider_args", None) or [], names, settings)
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
    results = run_crawl(names, settings, progress, spider_args)
    status = EXIT_OK if all(r.healthy for r in results) else EXIT_FAILED
    if getattr(args, "json", False):
        print(
            json.dumps(
                {
                    "healthy": status == EXIT_OK,
                    "exit_status": status,
                    "spiders": {r.spider: r.as_json() for r in results},
                    # the catalogue's visible listings by platform once the crawl is done
                    "platforms": _listings_by_platform(args),
                },
                ensure_ascii=False,
            )
        )
    else:
        from moisson.summary import print_summary

        print_summary(results, sys.stdout)
    return status


def _listings_by_platform(args) -> dict[str, int] | None:
    """The catalogue's listings by platform; None when the catalogue cannot be read (the
    run's own verdict already says why: an unreadable catalogue is not a usage error)."""
    from storage.db import CatalogueError, DatabaseUnavailable
    from storage.queries import catalogue_stats

    try:
        return catalogue_stats(_engine(args))["by_platform"]
    except (DatabaseUnavailable, CatalogueError):
        return None


def cmd_crawl(args) -> int:
    if args.all == bool(args.spiders):
        print("moisson crawl: name spiders or give --all", file=sys.stderr)
        return EXIT_USAGE
    return _crawl(args, None if args.all else args.spiders, replay=args.replay)


def _spider_args(assignments: list[str], names: list[str], settings) -> dict[str, str]:
    """``-a NAME=VALUE`` for the one spider named, checked by making the spider with them."""
    from scrapy.spiderloader import SpiderLoader

    found = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            raise UsageError(f"-a takes NAME=VALUE, not {assignment!r}")
        found[name] = value
    if found and len(names) != 1:
        raise UsageError("-a goes with one spider named, not several or --all")
    if found:
        try:
            SpiderLoader.from_settings(settings).load(names[0])(**found)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{names[0]} -a {' -a '.join(assignments)}: {exc}") from exc
    return found


def cmd_demo(args) -> int:
    from crawlers.replay import DEFAULT_RECORDINGS, spiders_with_recordings
    from storage.db import database_url
    from storage.queries import catalogue_stats

    names = spiders_with_recordings(Path(args.recordings or DEFAULT_RECORDINGS))
    if args.jobs:
        _demo_rome(_engine(args))
    print(f"Replaying the recordings of {', '.join(names)} into {database_url(args.db)}")
    status = _crawl(args, names, replay=True)
    stats = catalogue_stats(_engine(args))
    print(
        f"Catalogue: {stats['courses']} courses, {stats['listings']} listings, "
        f"{stats['sessions']} sessions; by platform: "
        + ", ".join(f"{k} {v}" for k, v in stats["by_platform"].items())
    )
    if args.jobs:
        from storage.jobs import linked_share

        linked, visible = linked_share(_engine(args))
        print(f"Jobs: {linked} of {visible} visible courses linked to ROME job profiles")
    return status


def _demo_rome(engine) -> None:
    """The shipped ROME release, loaded before the replay (so the writer links the courses
    it stores) unless a release is already in use."""
    from storage import rome

    kept = rome.version_summary(engine)
    if kept:
        print(f"ROME: {kept['attribution']} already loaded")
        return
    print("Loading the shipped ROME 4.0 referential (about 40 s)…")
    _rome_loaded(rome.load(engine, rome.read_release()), engine)


def cmd_stats(args) -> int:
    from storage.queries import catalogue_stats
    from storage.rome import version_summary

    engine = _engine(args)
    stats = catalogue_stats(engine)
    stats["rome"] = version_summary(engine)
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
    else:
        print(
            f"courses   {stats['courses']}\nlistings  {stats['listings']}\n"
            f"sessions  {stats['sessions']}\ncrawl runs {stats['crawl_runs']}"
        )
        for name, count in stats["by_platform"].items():
            print(f"  {name:<20} {count}")
        rome = stats["rome"]
        print(f"ROME      {rome['title'] + ' — ' + rome['attribution'] if rome else 'not loaded'}")
    return EXIT_OK


def _rome_loaded(result, engine) -> int:
    from storage.rome import ATTRIBUTION, stale_links

    counts = ", ".join(f"{v} {k}" for k, v in result.counts.items())
    if not result.loaded:
        print(f"ROME version {result.number} is already in use; nothing loaded ({counts})")
        return EXIT_OK
    print(
        f"ROME version {result.number} loaded ({counts}), "
        f"replacing {result.previous or 'none'}; {ATTRIBUTION.format(number=result.number)}"
    )
    stale = stale_links(engine)
    if stale:
        print(f"{stale} course links name jobs this version lacks: `moisson jobs relink`")
    return EXIT_OK


def cmd_rome(args) -> int:
    from storage import rome

    engine = _engine(args)
    try:
        if args.action == "load":
            release = rome.read_release(args.path)
            return _rome_loaded(rome.load(engine, release, force=args.force), engine)
        if args.path:
            raise UsageError("rome update takes no PATH (--url names the zip)")
        from moisson.crawl import project_settings

        url = args.url or project_settings().get("MOISSON_ROME_URL")
        release = rome.read_release(rome.download(url, args.timeout), source=url)
        return _rome_loaded(rome.load(engine, release, force=args.force), engine)
    except rome.RomeError as exc:
        kept = rome.version_summary(engine)
        in_use = f"version {kept['number']} stays in use" if kept else "no version loaded"
        print(f"moisson rome {args.action}: {exc}; {in_use}", file=sys.stderr)
        return EXIT_FAILED


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def cmd_runs(args) -> int:
    from pipelines.common import lost_fields
    from storage.queries import recent_runs

    runs = recent_runs(_engine(args), limit=args.limit, spider=args.spider)
    for run in runs:
        run["lost"] = lost_fields(run.pop("stats") or {})
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
        if run["lost"]:
            print(f"{'':>6}lost: " + ", ".join(f"{k} {v}" for k, v in run["lost"].items()))
    return EXIT_OK


def cmd_quarantine(args) -> int:
    from storage.queries import quarantined_records

    records = quarantined_records(_engine(args), limit=args.limit)
    if args.json:
        print(json.dumps({"records": records}, ensure_ascii=False, default=_jsonable))
        return EXIT_OK
    for row in records:
        print(
            f"{row['platform']}:{row['external_id']}  run {row['crawl_run_id']}  "
            f"since {row['first_seen']:%Y-%m-%d}  {row['reason']}\n    {row['url']}"
        )
    print(f"{len(records)} records set aside")
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
        engine = _open_engine(args)
        try:
            db.downgrade(engine, args.revision or "-1")
        except db.RevisionError as exc:  # a revision alembic does not know
            raise UsageError(str(exc)) from exc
        print(f"schema at {db.current_revision(engine)}")
    elif args.action == "current":
        engine = _open_engine(args)
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
    from moisson.parse import parse_report

    try:
        report = parse_report(
            args.spider,
            Path(args.file),
            args.url,
            normalise_items=args.normalise,
            reference_time=_reference_time(args.reference_time),
        )
    except (LookupError, OSError) as exc:
        print(f"moisson parse: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in report.lines:
        print(line)
    for line in report.explanation():
        print(f"moisson parse: {line}", file=sys.stderr)
    return report.exit_status


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
    from urllib.parse import urlparse

    from crawlers.replay import DEFAULT_RECORDINGS
    from crawlers.settings import project_settings
    from moisson.record import NameTaken, RecordError, check_name, fetch, from_file, save_response

    parts = urlparse(args.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{args.url!r} is not an http(s) URL")
    folder = Path(args.recordings or DEFAULT_RECORDINGS) / args.spider
    if args.from_file and not (args.source or "").strip():
        raise UsageError("--from-file needs --source: what the file was built from")
    if args.source and not args.from_file:
        raise UsageError("--source goes with --from-file (a fetched page is captured)")
    try:
        if args.name:  # before anything is fetched
            check_name(folder, args.name, args.url)
    except NameTaken as exc:
        raise UsageError(str(exc)) from exc
    try:
        if args.from_file:
            fetched = from_file(args.from_file, args.url, args.status, args.content_type)
        else:
            fetched = fetch(args.url, project_settings().get("USER_AGENT"))
    except RecordError as exc:
        print(f"moisson record: {exc}", file=sys.stderr)
        return EXIT_FAILED
    body = save_response(folder, fetched, name=args.name, built_from=args.source)
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


def _since(text: str):
    """``--since``: a day (from midnight in Paris) or an ISO time (Paris when no offset)."""
    from datetime import datetime

    from portal.formatting import PARIS

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a day (YYYY-MM-DD) or an ISO time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


# the search filters ``moisson export`` takes, as options of the same names
EXPORT_FILTERS = ("q", "state", "level", "topic", "platform", "organisation", "free", "certificate")


def _export_filters(args):
    from storage.search import CourseFilters

    return CourseFilters(**{name: getattr(args, name) for name in EXPORT_FILTERS})


def cmd_export(args) -> int:
    """The catalogue (or a selection) in an open-data format, to a file or stdout; ``all``
    writes every format into a dated folder of ``--dir`` (the nightly dump)."""
    from portal.urls import public_base_url

    try:
        base = public_base_url(args.public_url)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if base is None:
        raise UsageError("give --public-url (or set MOISSON_PUBLIC_URL): course pages live there")
    if args.format == "all" and args.out:
        raise UsageError("export all writes a dated folder: give --dir, not --out")
    engine = _engine(args)
    try:
        return _write_export(args, engine, base)
    finally:
        engine.dispose()


def _write_export(args, engine, base: str) -> int:
    from datetime import UTC, datetime

    from portal.opendata import EmptyExport, Export
    from portal.opendata.formats import FORMATS, write_file
    from storage.export_queries import export_courses

    now = datetime.now(UTC)
    export = Export(base_url=base, generated_at=now)
    filters = _export_filters(args)

    def courses():
        return export_courses(engine, filters, now, since=args.since)

    if args.format != "all":
        fmt = FORMATS[args.format]
        try:
            if args.out:
                count = write_file(fmt, courses(), export, Path(args.out))
                print(f"{count} courses written to {args.out} ({fmt.name})", file=sys.stderr)
                return EXIT_OK
            out = sys.stdout.buffer
            for piece in fmt.write(courses(), export):
                out.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            out.flush()
        except EmptyExport as exc:  # raised before the first byte: nothing was written
            print(f"moisson export {fmt.name}: {exc}", file=sys.stderr)
            return EXIT_EMPTY_EXPORT
        return EXIT_OK
    folder = Path(args.dir) / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    status = EXIT_OK
    for fmt in FORMATS.values():
        try:
            count = write_file(fmt, courses(), export, folder / fmt.file_name)
        except EmptyExport as exc:  # the other formats are still written
            print(f"moisson export all: {fmt.name} not written: {exc}", file=sys.stderr)
            status = EXIT_EMPTY_EXPORT
            continue
        print(f"{count} courses written to {folder / fmt.file_name}", file=sys.stderr)
    return status


EXIT_CANNOT_LISTEN = 4  # serve: the address is taken (or not ours to bind)


def _serve_clock(text: str):
    """``--now`` as a clock; ValueError saying why when the portal cannot use it."""
    from datetime import UTC, datetime, timedelta

    try:
        frozen = datetime.fromisoformat(text)
    except ValueError:
        frozen = None
    if frozen is None or frozen.tzinfo is None:
        raise ValueError(f"--now {text!r} is not an ISO time with offset")
    try:  # the portal computes dates up to a few weeks either side of now: a year is ample
        frozen.astimezone(UTC) + timedelta(days=366)
        frozen.astimezone(UTC) - timedelta(days=366)
    except OverflowError:
        raise ValueError(
            f"--now {text!r} is out of range: the portal needs the year either side of it "
            "to be dates too (years 2 to 9998)"
        ) from None
    return lambda: frozen


def _listen(host: str, port: int):
    """The server's listening socket, or None after saying why it cannot be had.

    Made as asyncio makes its own (protocol TCP named): asyncio then sets ``TCP_NODELAY`` on
    each connection, without which every keep-alive response waits 40 ms for a delayed ACK.
    """
    import socket

    sock = None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
        return sock
    except OSError as exc:
        if sock is not None:
            sock.close()
        reason = exc.strerror or str(exc)
        print(
            f"moisson serve: cannot listen on {host}:{port}: {reason} "
            "(is another server running there? choose another --port)",
            file=sys.stderr,
        )
        return None


DEFAULT_CACHE_SIZE = 512


def _cache_size(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of entries (0, 512…)")
    return int(text)


SERVE_SPEC = "MOISSON_SERVE_SPEC"  # how `serve --workers N` hands its options to each worker


def _portal(spec: dict):
    """The engine and the portal app ``serve`` runs for ``spec`` (its options); ValueError or
    DatabaseUnavailable saying why it cannot."""
    from moisson.alerts import portal_alerts
    from portal.app import create_app
    from storage.readonly import open_readonly

    clock = {"clock": _serve_clock(spec["now"])} if spec.get("now") else {}
    alerts = portal_alerts(spec.get("alerts_db"))  # None unless configured (docs/ALERTS.md)
    engine = open_readonly(spec.get("db"))
    try:
        app = create_app(
            engine,
            **clock,
            public_url=spec.get("public_url"),
            hosts=spec.get("hosts", []),
            alerts=alerts,
            cache_size=spec.get("cache_size", DEFAULT_CACHE_SIZE),
        )
    except ValueError:
        engine.dispose()
        raise
    return engine, app


def portal_from_environment():
    """The app of one ``serve --workers`` process (uvicorn imports it there), from the options
    the parent checked and put in ``$MOISSON_SERVE_SPEC``."""
    return _portal(json.loads(os.environ[SERVE_SPEC]))[1]


def cmd_serve(args) -> int:
    """The portal and its API, reading the catalogue without the right to write."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from storage.db import DatabaseUnavailable
    from storage.readonly import readonly_warnings

    workers = str(args.workers).strip()
    if not workers.isdigit() or int(workers) < 1:
        print(
            f"moisson serve: --workers {args.workers!r} is not a number of processes (1, 2…)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    workers = int(workers)
    spec = {
        "db": args.db,
        "now": args.now,
        "public_url": args.public_url,
        "hosts": [h for h in (args.trusted_hosts or "").split(",") if h.strip()],
        "alerts_db": args.alerts_db,
        "cache_size": args.cache_size,
    }
    try:
        engine, app = _portal(spec)
    except (ValueError, DatabaseUnavailable) as exc:
        print(f"moisson serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for warning in readonly_warnings(engine):
        print(f"moisson serve: warning: {warning}", file=sys.stderr, flush=True)
    sock = _listen(args.host, args.port)
    if sock is None:
        engine.dispose()
        return EXIT_CANNOT_LISTEN
    port = sock.getsockname()[1]  # the one the system chose for --port 0
    print(
        f"Moisson portal on http://{args.host}:{port}/ (API: /api/v1, docs: /api/docs)",
        flush=True,
    )
    options = {
        "host": args.host,
        "port": port,
        "log_level": args.log_level,
        "proxy_headers": bool(args.forwarded_allow_ips),
        "forwarded_allow_ips": args.forwarded_allow_ips or None,
    }
    if workers == 1:
        uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])
        return EXIT_OK
    # Several processes accept on the one socket, each with its own engine (a pool is not
    # shared across processes): uvicorn's own supervisor starts, watches and stops them.
    engine.dispose()
    os.environ[SERVE_SPEC] = json.dumps(spec)
    config = uvicorn.Config(
        "moisson.cli:portal_from_environment", factory=True, workers=workers, **options
    )
    Multiprocess(config, sockets=[sock]).run()
    return EXIT_OK


CONTROL = dict.fromkeys([*range(0, 32), *range(127, 160)], " ")


def _jobs_relink(args) -> int:
    from moisson.progress import CommandProgress
    from storage.joblinks import relink_all

    engine = _engine(args)
    with CommandProgress("Liens cours → métiers", quiet=args.json) as advance:
        counts = relink_all(engine, progress=advance)
    if not counts.courses and not _rome_in_use(engine):
        raise UsageError("no ROME referential loaded: run `moisson rome load` first")
    summary = {k: v for k, v in vars(counts).items()}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"{counts.courses} courses: {counts.by_code} by their ROME codes, {counts.by_text} "
            f"by their text, {counts.without_job} without a job; {counts.links} links; "
            f"{counts.unknown_codes} unknown ROME codes kept aside"
        )
    return EXIT_OK


def _jobs_refresh_offers(args) -> int:
    """``moisson jobs refresh-offers``: the number of current offers of each linked job."""
    from moisson.crawl import project_settings
    from moisson.offers import CredentialsRefused, OffersClient, refresh
    from moisson.progress import CommandProgress

    client = OffersClient.from_settings(project_settings())
    if client is None:
        print(
            "moisson jobs refresh-offers: no France Travail credentials "
            "(FRANCE_TRAVAIL_CLIENT_ID and FRANCE_TRAVAIL_CLIENT_SECRET): nothing done"
        )
        return EXIT_OK
    engine = _engine(args)
    try:
        with CommandProgress("Offres d'emploi", quiet=args.json) as advance:
            counts = refresh(engine, client, progress=advance)
    except CredentialsRefused as exc:
        print(f"moisson jobs refresh-offers: {exc}; the cached counts stay", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(vars(counts), ensure_ascii=False))
    else:
        print(
            f"{counts.jobs} jobs with courses: {counts.stored} offer counts stored, "
            f"{counts.failed} failed (their previous count kept)"
        )
        for code, why in counts.failures.items():
            print(f"  {code}: {why}")
    # every job failing is a failed run; some failing is reported, not fatal
    return EXIT_FAILED if counts.jobs and counts.failed == counts.jobs else EXIT_OK


def _rome_in_use(engine) -> bool:
    from storage.rome import version_summary

    return version_summary(engine) is not None


@functools.cache
def _snapshot_matcher():
    from storage.jobmatch import JobMatcher
    from storage.rome import read_release

    return JobMatcher.from_release(read_release())


def cmd_jobs(args) -> int:
    """``moisson jobs TEXT``: the job profiles of a text; ``moisson jobs relink``."""
    from storage.jobmatch import MAX_TEXT

    if args.text == ["relink"]:
        return _jobs_relink(args)
    if args.text == ["refresh-offers"]:
        return _jobs_refresh_offers(args)
    text = " ".join(args.text).translate(CONTROL)
    if not text.strip():
        raise UsageError("give a text to match, e.g. moisson jobs 'développeur web'")
    if len(text) > MAX_TEXT:
        print(f"moisson jobs: only the first {MAX_TEXT} characters are read", file=sys.stderr)
    matcher = None
    if args.db or os.environ.get("MOISSON_DATABASE_URL"):
        from storage.joblinks import matcher_for

        with _engine(args).connect() as conn:
            matcher = matcher_for(conn)
    if matcher is None:  # no catalogue, or none loaded: the shipped snapshot
        matcher = _snapshot_matcher()
    (hits,) = matcher.match([(text, "")], top=args.top)
    if args.json:
        jobs = [vars(h) for h in hits]
        print(json.dumps({"jobs": jobs}, ensure_ascii=False))
    elif not hits:
        print("no job profile is close enough to this text")
    for h in [] if args.json else hits:
        print(f"{h.code}  {h.score:6.3f}  {h.label}")
        if h.skills:
            print(f"        parce que : {', '.join(h.skills)}")
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
        p.add_argument("--log-level", default="WARNING", type=str.upper, choices=LOG_LEVELS)
        p.add_argument(
            "--set",
            action="append",
            metavar="NAME=VALUE",
            help="override a Scrapy or Moisson setting for this run (repeatable)",
        )
        p.add_argument(
            "--progress-interval",
            type=_seconds,
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
    crawl.add_argument(
        "-a",
        dest="spider_args",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a spider argument, as scrapy crawl -a (e.g. -a site=PLATFORM: one site of a "
        "spider of several sites); one spider only",
    )
    with_crawl_options(crawl)
    crawl.set_defaults(func=cmd_crawl)

    demo = with_db(sub.add_parser("demo", help="replay every recording into the catalogue"))
    with_crawl_options(demo)
    demo.add_argument(
        "--jobs",
        action="store_true",
        help="load the shipped ROME referential first, so courses link to jobs (about 40 s more)",
    )
    demo.set_defaults(func=cmd_demo)

    stats = with_db(sub.add_parser("stats", help="counts of the catalogue"))
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)

    rome = with_db(sub.add_parser("rome", help="load or update ROME 4.0, the jobs referential"))
    rome.add_argument("action", choices=["load", "update"])
    rome.add_argument("path", nargs="?", help="load: the release zip or folder (default: shipped)")
    rome.add_argument("--url", help="update: the open-data zip (default: MOISSON_ROME_URL)")
    rome.add_argument("--timeout", type=_seconds, default=60.0, help="update: seconds")
    rome.add_argument("--force", action="store_true", help="load an older or the same version")
    rome.set_defaults(func=cmd_rome)

    jobs = with_db(
        sub.add_parser(
            "jobs",
            help="the ROME job profiles of a text; `jobs relink` relinks; "
            "`jobs refresh-offers` counts current job offers",
        )
    )
    jobs.add_argument("text", nargs="+", help="a course's text, `relink` or `refresh-offers`")
    jobs.add_argument("--json", action="store_true")
    jobs.add_argument("--top", type=_in_range(int, 0, 51, "a whole number from 1 to 50"), default=5)
    jobs.set_defaults(func=cmd_jobs)

    runs = with_db(sub.add_parser("runs", help="recent crawl runs and their health"))
    runs.add_argument("--json", action="store_true")
    runs.add_argument("--limit", type=_count, default=20)
    runs.add_argument("--spider")
    runs.set_defaults(func=cmd_runs)

    quarantine = with_db(
        sub.add_parser("quarantine", help="records the catalogue could not take, and why")
    )
    quarantine.add_argument("--json", action="store_true")
    quarantine.add_argument("--limit", type=int, default=50)
    quarantine.set_defaults(func=cmd_quarantine)

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
    record.add_argument(
        "--from-file", type=Path, help="a body written by hand, served as URL (nothing fetched)"
    )
    record.add_argument("--source", help="with --from-file: what the file was built from")
    record.add_argument("--status", type=int, default=200, help="with --from-file (200)")
    record.add_argument("--content-type", help="with --from-file (default: from its name)")
    record.add_argument("--recordings", type=Path, help="recordings root (default: built-in)")
    record.set_defaults(func=cmd_record)

    from moisson.normalise import FIELDS

    norm = sub.add_parser("normalise", help="one normaliser on one text, as JSON")
    norm.add_argument("field", choices=FIELDS)
    norm.add_argument("text")
    norm.add_argument("--today", help="reference date YYYY-MM-DD (default: today in Paris)")
    norm.add_argument("--platform", help="the platform whose scale the text uses (edx, …)")
    norm.set_defaults(func=cmd_normalise)

    from storage.search import LEVELS, STATES

    export = with_db(
        sub.add_parser("export", help="the catalogue in an open-data format (docs/OPENDATA.md)")
    )
    export.add_argument("format", choices=["lheo", "jsonld", "moochub", "csv", "all"])
    export.add_argument("--out", help="the file to write (default: stdout)")
    export.add_argument(
        "--dir", default="var/opendata", help="export all: where the dated folders go"
    )
    export.add_argument(
        "--since", type=_since, help="only courses changed since this day or ISO time"
    )
    export.add_argument(
        "--public-url",
        default=os.environ.get("MOISSON_PUBLIC_URL"),
        help="the portal's public base URL, for course pages (default: $MOISSON_PUBLIC_URL)",
    )
    export.add_argument("--q", help="words, as the portal's search")
    export.add_argument("--state", choices=STATES)
    export.add_argument("--level", choices=LEVELS)
    export.add_argument("--topic")
    export.add_argument("--platform")
    export.add_argument("--organisation", type=_count)
    export.add_argument("--free", type=_boolean)
    export.add_argument("--certificate", type=_boolean)
    export.set_defaults(func=cmd_export)

    serve = with_db(sub.add_parser("serve", help="the portal and its JSON API, read-only"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--workers",
        default=os.environ.get("MOISSON_SERVE_WORKERS", "1"),
        help="server processes sharing the port, one per core is a good start "
        "(default: $MOISSON_SERVE_WORKERS, else 1)",
    )
    serve.add_argument(
        "--now", help="show the catalogue as at this ISO time with offset (demos, tests)"
    )
    serve.add_argument(
        "--cache-size",
        type=_cache_size,
        default=DEFAULT_CACHE_SIZE,
        help="responses and counts kept for the minute, per process; 0 computes every "
        f"request afresh (default: {DEFAULT_CACHE_SIZE})",
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
    serve.add_argument(
        "--alerts-db",
        help="the one database the portal may write, for « Prévenez-moi » subscriptions "
        "(default: $MOISSON_ALERTS_DATABASE_URL; none: no alerts, docs/ALERTS.md)",
    )
    serve.set_defaults(func=cmd_serve)

    from moisson.alerts import cmd_alerts

    alerts = with_db(sub.add_parser("alerts", help="e-mail alerts: send digests, purge"))
    alerts.add_argument("action", choices=["send", "purge"])
    alerts.add_argument("--alerts-db", help="default: $MOISSON_ALERTS_DATABASE_URL")
    alerts.add_argument(
        "--public-url",
        default=os.environ.get("MOISSON_PUBLIC_URL"),
        help="the portal's base URL for the mails' links (default: $MOISSON_PUBLIC_URL)",
    )
    alerts.add_argument("--now", help="the run's time, ISO with offset (tests)")
    alerts.set_defaults(func=cmd_alerts)
    return parser


def main(argv: list[str] | None = None) -> int:
    from storage.db import DatabaseUnavailable, database_url, display_url, unavailable_reason

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, DatabaseUnavailable) as exc:
        message = str(exc)
    except Exception as exc:
        # the server is down or refuses us, or the file is not a database; the other
        # kinds (integrity, programming…) are bugs and keep their traceback
        reason = unavailable_reason(exc)
        if reason is None:
            raise
        url = display_url(database_url(getattr(args, "db", None)))
        message = f"cannot open the catalogue database {url}: {reason}"
    print(f"moisson {args.command}: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
