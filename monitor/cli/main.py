"""Command line: `monitor <command>`.  User mistakes exit 2 with a message, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from monitor import __version__
from monitor.cli.trends import add_trends_commands
from monitor.display import json_line, safe, shown
from monitor.errors import MonitorError, UsageError
from monitor.match import Mention
from monitor.watchlist import Watchlist, check_watchlists, rule_problems, shared_aliases

if TYPE_CHECKING:
    from monitor.match import Mention  # the matcher loads in cmd_match (`trends` needs none)

# Commands that need neither the store nor the network: `monitor match` and `watchlist`
# start without importing them (SQLAlchemy, the pipeline: a second on a small machine).
_PURE_COMMANDS = ("match", "watchlist")


def _read_sources(files: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(name, text) for each file, or for stdin when no file is named."""
    if not files:
        yield "-", sys.stdin.read()
        return
    for name in files:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{name}: cannot be read: {exc.strerror or exc}") from exc
        try:
            yield name, data.decode("utf-8-sig")
        except UnicodeDecodeError:
            print(f"monitor: {name}: not UTF-8, read as Windows-1252", file=sys.stderr)
            yield name, data.decode("cp1252", errors="replace")


def _mention_json(source: str, m: Mention) -> str:
    return json_line({
        "source": source, "watchlist": m.watchlist, "entry": m.entry, "kind": m.kind,
        "name": m.name, "text": m.text, "start": m.start, "end": m.end, "score": m.score,
        "alias": m.alias, "ambiguous": m.ambiguous,
    })


def _print_table(rows: list[tuple[str, Mention]], out: TextIO) -> None:
    if not rows:
        print("no mentions", file=out)
        return
    header = ("SOURCE", "ENTRY", "KIND", "TEXT", "OFFSETS", "SCORE")
    table = [header] + [
        (safe(src), f"{m.watchlist}/{m.entry}", m.kind, " ".join(safe(m.text).split()),
         f"{m.start}-{m.end}", f"{m.score:g}")
        for src, m in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(),
              file=out)


def cmd_match(args: argparse.Namespace) -> int:
    from monitor import matchcache

    watchlists, matcher = matchcache.load(args.watchlist)
    rows: list[tuple[str, Mention]] = []
    for source, text in _read_sources(args.files):
        if args.explain:
            _explain_rules(watchlists, source, text, matcher.match(text), args.json)
            continue
        for mention in matcher.match(text):
            if args.json:
                print(_mention_json(source, mention))
            else:
                rows.append((source, mention))
    if not args.json and not args.explain:
        _print_table(rows, sys.stdout)
    return 0


def _explain_rules(watchlists: Sequence[Watchlist], source: str, text: str,
                   mentions: Sequence[Mention], as_json: bool) -> None:
    """Each rule of the watchlists over one text: whether it holds, and which clause
    matched where (offsets into the text)."""
    from monitor.query import Document, parse_query

    rules = [(w.name, r) for w in watchlists for r in w.rules]
    if not rules and not as_json:
        print(f"{safe(source)}: the watchlists have no rules")
    doc = Document(text, mentions=mentions)
    for watchlist, rule in rules:
        explained = parse_query(rule.query).explain(doc)
        if as_json:
            print(json_line({"source": source, "watchlist": watchlist, "rule": rule.id,
                             "name": rule.name, "matched": explained.matched,
                             "explanation": explained.to_dict()}))
            continue
        verdict = "matches" if explained.matched else "does not match"
        print(safe(f"{source}: rule {watchlist}/{rule.id} ({rule.name}) {verdict}"))
        for line in explained.lines(text, 1):
            print(safe(line))


def cmd_watchlist_check(args: argparse.Namespace) -> int:
    status = 0
    for path in args.paths:
        loaded, problems = check_watchlists(path)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            status = 2
            continue
        warnings = [w for watchlist in loaded for w in shared_aliases(watchlist)]
        rule_warnings = rule_problems(loaded)[1]
        for warning in warnings + rule_warnings:
            print(warning, file=sys.stderr)
        entries = sum(len(w.entries) for w in loaded)
        rules = sum(len(w.rules) for w in loaded)
        print(f"{path}: ok ({len(loaded)} watchlist{'s' * (len(loaded) != 1)}, "
              f"{entries} entries" + (f", {rules} rule{'s' * (rules != 1)}" if rules else "")
              + (f", {len(warnings)} shared aliases" if warnings else "")
              + (f", {len(rule_warnings)} rule warnings" if rule_warnings else "") + ")")
    return status


def cmd_watchlist_derive(args: argparse.Namespace) -> int:
    from monitor.derive import derive, to_yaml

    sources = list(_read_sources(args.files))
    text = to_yaml(derive(t for _, t in sources), args.name, [s for s, _ in sources])
    if args.output:
        _write_output(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_watchlist_import(args: argparse.Namespace) -> int:
    from monitor.importers import import_list, to_yaml
    from monitor.watchlist import parse_watchlist

    imported = import_list(args.format, args.path)
    name = args.name or Path(args.path).stem.replace("_", "-")
    text = to_yaml(imported, name, args.program or (), args.type or ())
    if "\n  - {" not in text:
        raise UsageError(f"{args.path}: no entries" + (
            " of the --program/--type given" if args.program or args.type else ""))
    watchlist, problems = parse_watchlist(text, args.output or "-")
    if watchlist is None:  # a bug of the importer: the source's data is never the reason
        raise UsageError("the imported list is not a valid watchlist:\n" +
                         "\n".join(f"  {p}" for p in problems[:20]))
    if args.output:
        _write_output(args.output, text)
        print(f"wrote {args.output}: {len(watchlist.entries)} entries", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _write_output(path: str, text: str) -> None:
    """Write a file the user named; a path that cannot be written is their mistake."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot be written: {exc.strerror or exc}") from exc


def _command(argv: Sequence[str]) -> str | None:
    """The command named in argv (its first word that is no option or option value)."""
    words = iter(argv)
    for word in words:
        if word in ("--config", "-c"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(pure_only: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor", description="Media monitoring: watch news for the names that matter.")
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    parser.add_argument("--config", "-c", metavar="PATH",
                        help="configuration file (default: $MONITOR_CONFIG, else ./monitor.yaml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    match = commands.add_parser("match", help="find watchlist mentions in text files or stdin")
    match.add_argument("--watchlist", "-w", default="watchlists",
                       help="watchlist file or folder (default: watchlists)")
    match.add_argument("--json", action="store_true", help="one JSON object per mention")
    match.add_argument("--explain", action="store_true",
                       help="for each rule of the watchlists: which clause matched where")
    match.add_argument("files", nargs="*", metavar="FILE", help="text files (default: stdin)")
    match.set_defaults(func=cmd_match)

    watchlist = commands.add_parser("watchlist", help="check, derive or import watchlists")
    wl_commands = watchlist.add_subparsers(dest="watchlist_command", metavar="ACTION",
                                           required=True)
    check = wl_commands.add_parser("check", help="validate watchlist files, report every problem")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.set_defaults(func=cmd_watchlist_check)
    derive = wl_commands.add_parser("derive", help="propose a watchlist (YAML) from text")
    derive.add_argument("files", nargs="*", metavar="FILE", help="text files (default: stdin)")
    derive.add_argument("--name", default="derived", help="the watchlist's name")
    derive.add_argument("--output", "-o", help="write to this file instead of stdout")
    derive.set_defaults(func=cmd_watchlist_derive)
    imp = wl_commands.add_parser(
        "import", help="write a watchlist (YAML) from a sanctions or other list",
        description="Formats: ofac-csv (sdn.csv with alt.csv beside it, or the consolidated "
        "cons_prim.csv), un-xml (UN Security Council consolidated list), ftm (OpenSanctions "
        "FollowTheMoney JSON lines), csv (columns name, aliases, kind, country).")
    imp.add_argument("format", choices=("ofac-csv", "un-xml", "ftm", "csv"))
    imp.add_argument("path", metavar="PATH")
    imp.add_argument("--name", help="the watchlist's name (default: the file's name)")
    imp.add_argument("--program", action="append", metavar="P",
                     help="only entries of this sanctions program (repeatable)")
    imp.add_argument("--type", action="append", metavar="T",
                     help="only entries of this type: individual/actor, entity/organization, "
                     "vessel, aircraft (repeatable)")
    imp.add_argument("--output", "-o", help="write to this file instead of stdout")
    imp.set_defaults(func=cmd_watchlist_import)
    add_trends_commands(commands)  # reads the store, yet starts without the pipeline
    if pure_only:
        return parser
    from monitor.cli.core import add_commands
    from monitor.cli.digests import add_digest_commands
    from monitor.cli.events import add_events_commands
    from monitor.cli.ops import add_ops_commands
    from monitor.cli.search import add_search_commands
    from monitor.cli.web import add_web_commands

    add_commands(commands)
    add_digest_commands(commands)
    add_events_commands(commands)
    add_ops_commands(commands)
    add_web_commands(commands)
    add_search_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_command(sys.argv[1:] if argv is None else argv)
                          in (*_PURE_COMMANDS, "trends"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except MonitorError as exc:
        message = "\n".join(shown(line) for line in str(exc).splitlines())  # URLs masked
        print(f"monitor: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("monitor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, or an environment problem no check foresaw
        if os.environ.get("MONITOR_DEBUG"):
            raise
        print(f"monitor: unexpected error: {type(exc).__name__}: {exc} (this is probably a "
              "bug: run again with MONITOR_DEBUG=1 for the traceback, and report it)",
              file=sys.stderr)
        return 1
