"""The morning report of a crawl: one row per spider, then what went wrong and why."""

from __future__ import annotations

from typing import TextIO

COLUMNS = ("spider", "health", "items", "new", "changed", "missing", "errors", "duration")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def rows(results) -> list[tuple[str, ...]]:
    return [
        (
            r.spider,
            "healthy" if r.healthy else "UNHEALTHY",
            str(r.items),
            str(r.new),
            str(r.changed),
            str(r.missing),
            str(r.errors),
            _duration(r.duration_seconds),
        )
        for r in results
    ]


def details(result) -> list[str]:
    lines = []
    if result.dropped:
        dropped = ", ".join(f"{k} {v}" for k, v in result.dropped.items())
        lines.append(f"dropped: {dropped}")
    if result.lost:
        lines.append("lost: " + ", ".join(f"{k} {v}" for k, v in result.lost.items()))
    unchanged = getattr(result, "incremental", None) or {}
    if any(unchanged.values()):
        lines.append(
            f"incremental: {unchanged.get('conditional', 0)} conditional requests, "
            f"{unchanged.get('not_modified', 0)} not modified (304), "
            f"{unchanged.get('skipped_lastmod', 0)} skipped (sitemap lastmod), "
            f"{unchanged.get('skipped_modified', 0)} skipped (API modified), "
            "all seen unchanged"
            + (
                f"; {unchanged['bad_change_date']} unreadable change dates"
                if unchanged.get("bad_change_date")
                else ""
            )
        )
    if result.faults:
        lines.append("faults: " + ", ".join(f"{k} {v}" for k, v in result.faults.items()))
    if result.finish_reason != "finished":
        lines.append(f"finish reason: {result.finish_reason}")
    lines += [f"not healthy: {reason}" for reason in result.reasons]
    return lines


def print_summary(results, stream: TextIO) -> None:
    if stream.isatty():
        _print_rich(results, stream)
        return
    table = [COLUMNS, *rows(results)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    for row in table:
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip(), file=stream)
    for result in results:
        for text in details(result):
            print(f"{result.spider}: {text}", file=stream)


def _print_rich(results, stream: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="moisson crawl")
    for i, name in enumerate(COLUMNS):
        table.add_column(name, justify="left" if i < 2 else "right")
    for result, row in zip(results, rows(results), strict=True):
        style = None if result.healthy else "bold red"
        table.add_row(*row, style=style)
    console = Console(file=stream)
    console.print(table)
    for result in results:
        for text in details(result):
            console.print(f"[bold]{result.spider}[/bold]: {text}", highlight=False, markup=True)
