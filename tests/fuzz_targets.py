"""Coverage-guided fuzzing (atheris) of what reads untrusted input.

    python tests/fuzz_targets.py TARGET [CORPUS_DIR] [libFuzzer options, e.g. -runs=5000]

Targets: feed (parse_feed on any bytes), url (canonical_url, idempotent), match (the seed matcher on
any text: offsets inside it, surface == text[start:end]), fold (the C folding against the
pure-Python one: the same haystack and offsets), watchlist (any YAML text: a
watchlist or problems), config (any YAML text: a Config or a ConfigError).  Anything else
raised is a crash, which atheris reports with the input that caused it.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports(include=["monitor", "feedparser", "yaml"]):
    from monitor.config import ConfigError, parse_config
    from monitor.dedupe import canonical_url
    from monitor.match import Matcher
    from monitor.normalize import SPEEDUPS, fold_text, fold_text_python
    from monitor.sources.rss import parse_feed
    from monitor.watchlist import load_watchlists, parse_watchlist

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def feed(data: bytes) -> None:
    for item in parse_feed(data, "https://feeds.example.org/rss", now=NOW).items:
        assert item.link is None or item.link.startswith(("http://", "https://"))


def url(data: bytes) -> None:
    once = canonical_url(atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(200))
    assert canonical_url(once) == once


_matcher: list[Matcher] = []


def match(data: bytes) -> None:
    if not _matcher:
        _matcher.append(Matcher(load_watchlists(ROOT / "watchlists")))
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(400)
    for mention in _matcher[0].match(text):
        assert 0 <= mention.start < mention.end <= len(text)
        assert text[mention.start:mention.end] == mention.text


def fold(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(400)
    got, expected = fold_text(text), fold_text_python(text)
    assert SPEEDUPS and got.hay == expected.hay
    for start, end in ((m.start(), m.end()) for m in re.finditer(r"[^ ]+", got.hay)):
        assert got.span(start, end) == expected.span(start, end)


def watchlist(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(400)
    found, problems = parse_watchlist(text, "w.yaml")
    assert found is not None or problems


def config(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(400)
    with contextlib.suppress(ConfigError):
        parse_config(text, "/nonexistent/monitor.yaml", env={})


TARGETS: dict[str, Callable[[bytes], None]] = {
    "feed": feed, "url": url, "match": match, "fold": fold, "watchlist": watchlist,
    "config": config}


if __name__ == "__main__":
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()
