"""`monitor search QUERY`: the stored articles a query matches, best first.

The query language is the rules' (monitor.query); the database's full-text index finds the
candidates, the exact evaluation keeps the matches (monitor.store.search).  A query the
index cannot serve (only NOT, a one-letter wildcard, only lang:/country:/feed:) is refused
with the reason, exit 2, rather than read every article.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from monitor.cli.core import _config, _opened, _print_rows, parse_since
from monitor.errors import MonitorError, UsageError
from monitor.query import EntryIndex, QueryError, parse_query, search_plan
from monitor.query.nodes import EntryRef, KindRef, walk
from monitor.watchlist import Watchlist, load_watchlists


def _watchlists(path: str) -> list[Watchlist]:
    """The configured watchlists (for @entries and kind:); none if they cannot be read,
    which only a query naming entries notices (as unknown entries)."""
    try:
        return load_watchlists(path)
    except MonitorError:
        return []


def _limit(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: a number of results, at least 1")
    return number


def cmd_search(args: argparse.Namespace) -> int:
    from monitor.store.search import Filters, search

    config = _config(args)
    try:
        query = parse_query(args.query)
    except QueryError as exc:
        raise UsageError(f"query: {exc}") from None
    watchlists = _watchlists(config.watchlists)
    try:
        plan = search_plan(query, EntryIndex.from_watchlists(watchlists))
    except QueryError as exc:
        raise UsageError(f"query: {exc}") from None
    mentions = None
    if any(isinstance(n, EntryRef | KindRef) for n in walk(query.root)):
        from monitor.matchcache import matcher_for

        mentions = matcher_for(watchlists).match
    with _opened(config) as store:
        feed_id = None
        if args.feed:
            feed = store.feed(args.feed)
            if feed is None:
                raise UsageError(f"--feed {args.feed!r}: no such feed (`monitor feeds list` "
                                 "shows their ids)")
            feed_id = feed.id
        filters = Filters(parse_since(args.since), parse_since(args.until, "--until"),
                          feed_id, args.lang, args.watchlist)
        outcome = search(store, query, plan, filters, args.limit, mentions)
    rows: list[dict[str, Any]] = []
    for found in outcome.found:
        rows.append({**found.row, "score": round(found.score, 6),
                     "highlights": [list(h) for h in found.highlights],
                     "snippet": found.snippet,
                     "snippet_marks": [list(m) for m in found.snippet_marks]})
    if args.json:
        _print_rows(rows, args, ())
    else:
        _print_text(rows)
    if not outcome.exhausted:
        print(f"monitor: the first {outcome.candidates} candidates were read; narrow the "
              "query (or --since, --feed) to see further", file=sys.stderr)
    return 0


def _print_text(rows: list[dict[str, Any]]) -> None:
    """One block per article: score, date, title, URL, the snippet with [matches]."""
    from monitor.display import safe

    if not rows:
        print("no articles match")
    for row in rows:
        snippet = row["snippet"]
        marked, at = [], 0
        for start, end in row["snippet_marks"]:
            if start >= at:
                marked += [snippet[at:start], "[", snippet[start:end], "]"]
                at = end
        marked.append(snippet[at:])
        print(safe(f"{row['score']:.3f}  {row['published'] or '-'}  {row['title'] or '-'}"))
        print(safe(f"  {row['url']}  (story {row['story_id']})"))
        print(safe(f"  {''.join(marked)}"))


def add_search_commands(commands: Any) -> None:
    s = commands.add_parser(
        "search", help="stored articles matching a query, best first",
        description="QUERY is in the rules' language: words, \"phrases\", prefix*, @entry, "
        "kind:x, AND, OR, NOT, ( ), a NEAR/n b, SENTENCE( ), PARAGRAPH( ), title:, lang:, "
        "country:, feed: (see README, Rules and search).")
    s.add_argument("query", metavar="QUERY")
    s.add_argument("--since", help="articles published from this date (or age: 30d)")
    s.add_argument("--until", help="articles published before this date")
    s.add_argument("--watchlist", help="only stories with a hit of this watchlist")
    s.add_argument("--feed", metavar="ID|URL", help="only articles from this feed")
    s.add_argument("--lang", help="only articles in this language (en also takes en-GB)")
    s.add_argument("--limit", type=_limit, default=20, metavar="N",
                   help="at most N articles (default 20)")
    s.add_argument("--json", action="store_true",
                   help="one JSON object per article: as `articles --json`, with score, "
                   "highlights, snippet")
    s.set_defaults(func=cmd_search)
