"""Metadata over the real corpus: feed dates, page languages, and what detection costs.

    python bench/metadata.py [--corpus ../shared/corpus] [--pages-list]

Reads ../shared/corpus (skips with a message when it is absent) and prints:

* feeds: how many of the feeds have a date on every item (and which do not);
* pages: the stored language of each page next to its declared one (--pages-list), and
  how many were detected rather than taken from the declaration;
* cost: language detection per page next to extraction alone (trafilatura and the
  metadata), measured in the same run, as a ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor import extract  # noqa: E402
from monitor.sources.rss import parse_feed  # noqa: E402


def feeds(folder: Path) -> None:
    paths = sorted(p for p in folder.iterdir() if p.suffix in (".xml", ".rss", ".atom"))
    full, partial = 0, []
    for path in paths:
        items = parse_feed(path.read_bytes(), f"https://feeds.example/{path.name}").items
        dated = sum(i.published is not None for i in items)
        if items and dated == len(items):
            full += 1
        else:
            partial.append(f"{path.name} ({dated}/{len(items)})")
    print(f"feeds: {full} of {len(paths)} have a date on every item")
    for name in partial:
        print(f"  not every item dated: {name}")


def _detector() -> Callable[[str], object] | None:
    try:
        from monitor.language import detect_language
    except ImportError:  # a checkout from before language detection: no cost to show
        return None
    return detect_language


def pages(folder: Path, listing: bool) -> None:
    paths = sorted(folder.glob("*.html"))
    detect = _detector()
    changed, spent_extract, spent_detect = 0, 0.0, 0.0
    for path in paths:
        page = extract.decode_page(path.read_bytes(), None)
        url = f"https://pages.example/{path.stem}"
        declared = extract.page_metadata(page, url, search_date=False).language
        started = time.perf_counter()
        got = extract.extract_page(page, url, search_date=False)
        spent_extract += time.perf_counter() - started
        stored = got.language if got else None
        if detect is not None and got is not None:
            started = time.perf_counter()
            detect(got.text)
            spent_detect += time.perf_counter() - started
        changed += stored != declared
        if listing:
            print(f"  {path.stem:30} declared={declared!s:6} stored={stored!s:6}")
    print(f"pages: {len(paths)}, stored language differs from the declared one on {changed}")
    if detect is not None and paths:
        print(f"cost: extraction {1000 * spent_extract / len(paths):.1f} ms/page, language "
              f"detection {1000 * spent_detect / len(paths):.2f} ms/page "
              f"({spent_detect / spent_extract:.1%} of extraction, in the same run)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--pages-list", action="store_true")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"skipped: the corpus is not at {args.corpus} (see ../shared/corpus/README.md)")
        return 0
    feeds(args.corpus / "feeds")
    pages(args.corpus / "pages", args.pages_list)
    return 0


if __name__ == "__main__":
    sys.exit(main())
