"""A dev check of precision on news text: the whole OFAC SDN list (imported with
`monitor watchlist import`) over the real pages of ../shared/corpus/pages, every mention
printed with the words around it, for a person to judge genuine or false.

    python bench/sdn_pages.py [--list FILE] [--json]

The text is extracted as the pipeline does (monitor.extract, title + text).  Skips with a
message when the corpus is absent.  Not a benchmark of speed: it times nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.extract import extract_page  # noqa: E402
from monitor.importers import import_list, to_yaml  # noqa: E402
from monitor.ingest import document  # noqa: E402
from monitor.match import Matcher  # noqa: E402
from monitor.watchlist import Watchlist, parse_watchlist  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"


def sdn_watchlist(path: Path) -> Watchlist:
    text = to_yaml(import_list("ofac-csv", path), "ofac-sdn")
    watchlist, problems = parse_watchlist(text, str(path))
    assert watchlist is not None, problems[:5]
    return watchlist


def pages() -> list[tuple[str, str]]:
    out = []
    for page in sorted((CORPUS / "pages").glob("*.html")):
        extracted = extract_page(page.read_text(encoding="utf-8", errors="replace"),
                                 f"https://example.test/{page.stem}", search_date=False)
        if extracted is not None:
            out.append((page.stem, document(extracted.title, extracted.text)[0]))
    return out


def feed_items() -> list[tuple[str, str]]:
    """The items of the corpus's feeds, as the pipeline matches them when it has no page."""
    from monitor.extract import from_feed
    from monitor.sources.rss import parse_feed

    out = []
    for path in sorted((CORPUS / "feeds").glob("*.xml")):
        try:
            parsed = parse_feed(path.read_bytes(), f"https://example.test/{path.name}")
        except Exception:
            continue
        for i, item in enumerate(parsed.items):
            extracted = from_feed(item.title, item.summary, item.content, None, None)
            out.append((f"{path.stem}#{i}", document(extracted.title, extracted.text)[0]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", type=Path, default=CORPUS / "watchlists/ofac-sdn/sdn.csv")
    parser.add_argument("--json", action="store_true", help="one JSON object per mention")
    parser.add_argument("--feeds", action="store_true",
                        help="the feeds' items too (../shared/corpus/feeds)")
    args = parser.parse_args()
    if not args.list.is_file() or not (CORPUS / "pages").is_dir():
        print(f"skipped: {args.list} or {CORPUS / 'pages'} is absent")
        return
    matcher = Matcher([sdn_watchlist(args.list)])
    docs = pages() + (feed_items() if args.feeds else [])
    kinds: Counter[str] = Counter()
    for name, doc in docs:
        for m in matcher.match(doc):
            kinds[m.kind] += 1
            around = " ".join(doc[max(0, m.start - 60):m.end + 60].split())
            if args.json:
                print(json.dumps({"page": name, "entry": m.entry, "kind": m.kind,
                                  "text": m.text, "alias": m.alias, "score": m.score,
                                  "ambiguous": m.ambiguous, "around": around},
                                 ensure_ascii=False))
            else:
                print(f"{name:<28} {m.kind:<12} {m.text!r:<28} {m.entry:<40} {m.score:5.1f}  "
                      f"…{around}…")
    print(f"{sum(kinds.values())} mentions in {len(docs)} pages: {dict(kinds)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
