"""Feed parsing, the polling schedule and OPML (pure functions)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import UsageError
from monitor.extract import from_feed, strip_html
from monitor.feeds import (
    MAX_BACKOFF,
    OpmlFeed,
    next_poll,
    parse_opml,
    read_opml,
    to_opml,
)
from monitor.snippets import snippet
from monitor.sources.rss import ParsedFeed, parse_feed
from tests.support import examples, rss

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"


def test_rss_items() -> None:
    feed = parse_feed(rss([{"title": "Putin in Pyongyang", "link": "http://e.org/1",
                            "guid": "g1", "pubDate": "Wed, 19 Jun 2024 01:00:00 GMT",
                            "description": "<p>Summary</p>"}]))
    item = feed.items[0]
    assert (item.guid, item.link, item.title) == ("g1", "http://e.org/1", "Putin in Pyongyang")
    assert item.published == datetime(2024, 6, 19, 1, 0, tzinfo=UTC)
    assert feed.problem is None


def test_atom_with_content() -> None:
    body = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
    <entry><id>urn:1</id><title>T</title><link href="http://e.org/a"/>
    <updated>2024-06-19T01:00:00Z</updated><summary>short</summary>
    <content type="html">&lt;p&gt;the full text&lt;/p&gt;</content></entry></feed>"""
    item = parse_feed(body).items[0]
    assert item.content == "<p>the full text</p>" and item.link == "http://e.org/a"


def test_not_a_feed_is_a_problem_not_an_exception() -> None:
    parsed = parse_feed(b"<html><body>Service unavailable</body></html>")
    assert parsed.items == [] and parsed.problem


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/feeds is absent")
def test_every_real_feed_parses_without_raising() -> None:
    paths = sorted(CORPUS.glob("*.xml"))
    with_items = sum(bool(parse_feed(p.read_bytes(), p.name).items) for p in paths)
    assert with_items >= 0.8 * len(paths)


def test_schedule_interval_jitter_backoff_and_retry_after() -> None:
    rng = random.Random(1)
    normal = next_poll(NOW, 900, rng=rng) - NOW
    assert timedelta(seconds=900) <= normal <= timedelta(seconds=990)
    delays = [next_poll(NOW, 900, errors, rng=rng) - NOW for errors in (1, 2, 3, 4)]
    assert delays[0] < delays[1] < delays[2] < delays[3]
    assert next_poll(NOW, 900, 50, rng=rng) - NOW <= timedelta(seconds=MAX_BACKOFF * 1.1)
    assert next_poll(NOW, 900, 1, retry_after=7200, rng=rng) - NOW >= timedelta(hours=2)


def test_opml_round_trip() -> None:
    feeds = [OpmlFeed("https://e.org/rss", "E & Co <World>", ("wire", "asia")),
             OpmlFeed("https://f.org/atom", None, ())]
    back = parse_opml(to_opml(feeds).encode(), "x.opml")
    assert [f.url for f in back] == [f.url for f in feeds]
    assert back[0].name == "E & Co <World>"


def test_opml_folders_become_tags() -> None:
    data = b"""<opml version="1.0"><head/><body><outline text="Asia">
      <outline text="NK News" type="rss" xmlUrl="https://www.nknews.org/feed/"/>
    </outline><outline text="BBC" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    </body></opml>"""
    feeds = parse_opml(data, "f.opml")
    assert feeds[0] == OpmlFeed("https://www.nknews.org/feed/", "NK News", ("Asia",))
    assert feeds[1].tags == ()


def test_bad_opml_names_the_file_and_line() -> None:
    with pytest.raises(UsageError, match=r"f.opml:2: not valid OPML"):
        parse_opml(b"<opml>\n<body><outline></body></opml>", "f.opml")


def test_feed_text_fallback_strips_html() -> None:
    assert strip_html("<p>Putin <b>arrived</b>&nbsp;in&amp;Hanoi</p><script>x()</script>") \
        == "Putin arrived in&Hanoi"
    extracted = from_feed("Title", "<p>short</p>", "<p>the longer full content</p>", None, None)
    assert extracted.text == "Title\n\nthe longer full content" and extracted.source == "feed"


def test_snippet_is_the_sentence_around_the_mention() -> None:
    text = "First sentence here. Then Vladimir Putin arrived in Hanoi. Another one follows."
    start = text.index("Vladimir")
    assert snippet(text, start, start + 14) == "Then Vladimir Putin arrived in Hanoi."

FIELD = st.text(max_size=60) | st.sampled_from([
    "<script>alert(1)</script>", "javascript:alert(1)", "/relative/path", "http://[::1",
    "http://a:99999/", "&amp;amp;", "Sat, 01 Jan 2999 00:00:00 GMT", "", " ", "\x00"])


def _check(parsed: ParsedFeed) -> None:
    for item in parsed.items:
        assert item.link is None or item.link.startswith(("http://", "https://"))
        assert item.link is None or all(" " < c != "\x7f" for c in item.link)
        assert "\n" not in item.title and item.title == item.title.strip()
        assert "<script" not in item.title.lower()
        assert item.published is None or item.published <= NOW


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_a_parsed_feed_never_an_exception(body: bytes) -> None:
    _check(parse_feed(body, "https://feeds.example.org/rss", now=NOW))


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional={
    "title": FIELD, "link": FIELD, "guid": FIELD, "description": FIELD, "pubDate": FIELD,
    "author": FIELD}), max_size=5))
def test_any_entry_fields_are_normalised(items: list[dict[str, str]]) -> None:
    clean = [{k: "".join(c for c in v if c.isprintable() or c in "\n\t") for k, v in i.items()}
             for i in items]
    parsed = parse_feed(rss(clean), "https://feeds.example.org/world/rss", now=NOW)
    _check(parsed)
    assert len(parsed.items) == len(items)


def test_what_fuzzing_found_in_feeds() -> None:
    # feedparser raised UnicodeDecodeError on a non-UTF-8 byte in the declared encoding.
    crash = b'<?xml \xe6version="1.0" encoding="uLo\xa7\x94ml"?><feed xmlns="x"></feed>'
    assert parse_feed(crash).problem == "not a feed: the parser failed: UnicodeDecodeError"
    # A link behind control characters came through with them.
    body = rss([{"title": "t", "link": "\x05\x00http://example.org/a", "guid": "1"}])
    body = body.replace(b"&#5;", b"\x05").replace(b"&#0;", b"\x00")
    assert all(i.link in (None, "http://example.org/a") for i in parse_feed(body).items)


def test_opml_reports_each_skipped_outline_with_its_line_and_reason() -> None:
    data = b"""<?xml version="1.0"?>
<opml version="2.0"><head/><body>
  <outline text="Good" xmlUrl="https://e.org/rss"/>
  <outline text="Script" xmlUrl="javascript:alert(1)"/>
  <outline text="Asia">
    <outline text="Local" xmlUrl="file:///etc/passwd"/>
    <outline text="Empty" xmlUrl=""/>
  </outline>
  <outline text="Just a note"/>
</body></opml>"""
    feeds, skipped = read_opml(data, "f.opml")
    assert feeds == [OpmlFeed("https://e.org/rss", "Good", ())]
    assert [str(p) for p in skipped] == [
        "f.opml:4: outline 'Script' skipped: 'javascript:alert(1)' is not an http:// or "
        "https:// URL",
        "f.opml:6: outline 'Local' skipped: 'file:///etc/passwd' is not an http:// or "
        "https:// URL",
        "f.opml:7: outline 'Empty' skipped: no feed URL (empty xmlUrl)",
        "f.opml:9: outline 'Just a note' skipped: no feed URL (xmlUrl)",
    ]
    assert parse_opml(data, "f.opml") == feeds


def test_a_feed_proxys_original_link_wins_over_its_redirect() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"
      xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"
      xmlns:pheedo="http://www.pheedo.com/namespace/pheedo"><channel><title>t</title>
    <item><title>a</title><link>http://feeds.feedburner.com/~r/wire/~3/abc/story</link>
      <feedburner:origLink>https://news.example/story?id=1&amp;x=2</feedburner:origLink></item>
    <item><title>b</title><link>http://ads.pheedo.com/click/1</link>
      <pheedo:origLink>/p/2</pheedo:origLink></item>
    <item><title>c</title><link>https://news.example/c</link>
      <feedburner:origLink>javascript:alert(1)</feedburner:origLink></item>
    </channel></rss>"""
    links = [i.link for i in parse_feed(body, "https://news.example/rss").items]
    assert links == ["https://news.example/story?id=1&x=2", "https://news.example/p/2",
                     "https://news.example/c"]  # an unusable original keeps the <link>


def test_items_carry_the_language_they_or_their_feed_declare() -> None:
    def declaring(language: str) -> bytes:
        return rss([{"title": "t", "link": "https://news.example/1"}]).replace(
            b"<channel>", f"<channel><language>{language}</language>".encode())

    parsed = parse_feed(declaring("pt-BR"))
    assert parsed.language == "pt" and parsed.items[0].language == "pt"
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
    <title>A</title><entry xml:lang="de"><id>urn:1</id><title>T</title>
    <link href="http://e.org/a"/><updated>2024-06-19T01:00:00Z</updated></entry></feed>"""
    assert parse_feed(atom).items[0].language == "de"
    assert parse_feed(declaring("utf-8")).language is None


def dated_feed(dates: list[str], language: str | None = None,
               titles: list[str] | None = None) -> bytes:
    body = rss([{"title": (titles or [f"item {n}" for n in range(len(dates))])[n],
                 "link": f"https://news.example/{n}", "pubDate": date}
                for n, date in enumerate(dates)])
    if language is not None:
        body = body.replace(b"<channel>", f"<channel><language>{language}</language>".encode())
    return body


def test_localised_and_free_form_feed_dates_are_read() -> None:
    def first(body: bytes, **kwargs: str) -> datetime | None:
        return parse_feed(body, "https://news.example/rss", now=NOW, **kwargs).items[0].published

    assert first(dated_feed(["Seg, 24 Set 2018 19:42:40 -0300"], "pt-BR")) == \
        datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)
    assert first(dated_feed(["mer, 16 nov 2022 00:38:15 +0100"], "IT-it")) == \
        datetime(2022, 11, 15, 23, 38, 15, tzinfo=UTC)
    assert first(dated_feed(["Friday, January 29, 2021 04:42 PM"], "hi")) == \
        datetime(2021, 1, 29, 16, 42, tzinfo=UTC)
    assert first(dated_feed(["Fri Apr 28 19:20:36 CEST 2023"])) == \
        datetime(2023, 4, 28, 17, 20, 36, tzinfo=UTC)
    # No <language>: the configured one, else the language the titles are written in.
    assert first(dated_feed(["Seg, 24 Set 2018 19:42:40 -0300"]), language="pt") == \
        datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)
    titles = ["Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de segundo turno",
              "Promotoria abre inquérito para apurar suspeita de improbidade no Sebrae",
              "Governo anuncia novas medidas para conter a alta dos preços dos alimentos"]
    body = dated_feed(["Seg, 24 Set 2018 19:42:40 -0300", "Ter, 25 Set 2018 08:00:00 -0300",
                       "Qua, 26 Set 2018 09:30:00 -0300"], titles=titles)
    assert [i.published for i in parse_feed(body, now=NOW).items] == [
        datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC), datetime(2018, 9, 25, 11, 0, tzinfo=UTC),
        datetime(2018, 9, 26, 12, 30, tzinfo=UTC)]
    # Relative and partial dates have nothing to anchor them: no date rather than a guess.
    for vague in ("yesterday", "3 days ago", "June 2021", "soon"):
        assert first(dated_feed([vague], "en")) is None, vague


def test_unreadable_feed_dates_stop_costing_after_a_few(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.sources.rss

    calls: list[str] = []
    real = monitor.sources.rss.parse_date

    def counting(value: str | None, languages: tuple[str, ...] = ("en",)) -> datetime | None:
        calls.append(value or "")
        return real(value, languages)

    monkeypatch.setattr(monitor.sources.rss, "parse_date", counting)
    parsed = parse_feed(dated_feed(["when the cows come home"] * 50, "en"), now=NOW)
    assert all(i.published is None for i in parsed.items) and len(parsed.items) == 50
    assert len(calls) == monitor.sources.rss.MAX_UNREADABLE_DATES

