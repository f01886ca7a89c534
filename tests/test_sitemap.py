"""Sitemaps as a source (monitor/sources/sitemap.py): news, plain, text, gzipped and index
documents parsed as values, hostile and broken ones included, and an index followed one
level through a fake fetch."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.dedupe import item_key
from monitor.sources.base import FeedItem, Fetched
from monitor.sources.sitemap import (
    MAX_CHILDREN,
    ParsedSitemap,
    child_sitemaps,
    follow_index,
    inflate,
    parse_sitemap,
)
from tests.support import examples

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'

# As Google's documentation shows a news sitemap, with a stylesheet and an image extension
# (their <loc> and titles must not be taken for the article's).
NEWS_SITEMAP = f"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="//news.example/news-sitemap.xsl"?>
<urlset {SM} {NEWS} xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://news.example/world/2026/05/04/putin-kim-pyongyang.html</loc>
    <news:news>
      <news:publication>
        <news:name>The Example Times</news:name>
        <news:language>en</news:language>
      </news:publication>
      <news:publication_date>2026-05-04T09:30:00+03:00</news:publication_date>
      <news:title>Putin &amp; Kim sign a &lt;treaty&gt; in Pyongyang</news:title>
      <news:keywords>Russia, North Korea, treaty, Russia</news:keywords>
    </news:news>
    <image:image><image:loc>https://cdn.news.example/kim.jpg</image:loc>
      <image:title>Not the headline</image:title></image:image>
  </url>
  <url>
    <loc>https://news.example/world/2026/05/03/hanoi-visit.html</loc>
    <news:news>
      <news:publication><news:name>The Example Times</news:name>
        <news:language>zh-cn</news:language></news:publication>
      <news:publication_date>2026-05-03</news:publication_date>
      <news:title>Tô Lâm receives a delegation</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://news.example/world/2026/05/04/zelensky.html</loc>
    <news:news>
      <news:publication><news:name>The Example Times</news:name>
        <news:language>en</news:language></news:publication>
      <news:publication_date>2026-05-04T11:00:00Z</news:publication_date>
      <news:title>Zelensky asks for air defence</news:title>
    </news:news>
  </url>
</urlset>
""".encode()


def urlset(*entries: str, namespaces: str = SM) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset {namespaces}>'
            + "".join(entries) + "</urlset>").encode()


def url(loc: str, lastmod: str | None = None) -> str:
    return f"<url><loc>{loc}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") \
        + "</url>"


def index(*children: tuple[str, str | None]) -> bytes:
    return (f'<?xml version="1.0"?><sitemapindex {SM}>' + "".join(
        f"<sitemap><loc>{loc}</loc>" + (f"<lastmod>{mod}</lastmod>" if mod else "")
        + "</sitemap>" for loc, mod in children) + "</sitemapindex>").encode()


def links(parsed: ParsedSitemap) -> list[str]:
    return [entry.url for entry in parsed.entries]


# --- news and plain sitemaps ------------------------------------------------------------------


def test_a_news_sitemap_gives_items_newest_first_with_titles_dates_and_languages() -> None:
    parsed = parse_sitemap(NEWS_SITEMAP, "https://news.example/news-sitemap.xml", now=NOW)
    assert parsed.kind == "urlset" and parsed.problem is None and parsed.news
    assert parsed.title == "The Example Times"
    assert [e.url.rsplit("/", 1)[1] for e in parsed.entries] == [
        "zelensky.html", "putin-kim-pyongyang.html", "hanoi-visit.html"]
    putin = parsed.entries[1]
    assert putin.title == "Putin & Kim sign a <treaty> in Pyongyang"  # text, not markup
    assert putin.published == datetime(2026, 5, 4, 6, 30, tzinfo=UTC)  # +03:00 as UTC
    assert putin.language == "en" and putin.keywords == ("Russia", "North Korea", "treaty")
    assert parsed.entries[2].language == "zh"
    assert parsed.entries[2].published == datetime(2026, 5, 3, tzinfo=UTC)  # a date alone
    item = parsed.items[1]  # what the pipeline takes: a feed item keyed by its URL
    assert isinstance(item, FeedItem) and item.guid is None and item.content == ""
    assert item.link == putin.url and item.title == putin.title
    assert item_key(item.guid, item.link, item.title, item.summary) == (
        "url:https://news.example/world/2026/05/04/putin-kim-pyongyang.html")


def test_an_entry_keeps_its_key_when_its_title_changes() -> None:
    """A news sitemap rewrites a headline: the URL is the identity, so it is not new."""
    before = parse_sitemap(NEWS_SITEMAP, now=NOW).items[0]
    after = parse_sitemap(NEWS_SITEMAP.replace(b"Zelensky asks", b"Zelenskyy asks"),
                          now=NOW).items[0]
    assert before.title != after.title
    assert item_key(before.guid, before.link, before.title, before.summary) == item_key(
        after.guid, after.link, after.title, after.summary)


def test_a_plain_sitemap_reads_w3c_dates_and_keeps_undated_urls_last() -> None:
    body = urlset(
        url("https://agency.example/undated-1"),
        url("https://agency.example/year", "2025"),
        url("https://agency.example/month", "2026-02"),
        url("https://agency.example/day", "2026-04-30"),
        url("https://agency.example/minute", "2026-05-01T10:15+02:00"),
        url("https://agency.example/fraction", "2026-05-02T08:00:00.123456789Z"),
        url("https://agency.example/rfc822", "Sat, 02 May 2026 10:00:00 GMT"),
        url("https://agency.example/garbage", "last Tuesday-ish"),
        url("https://agency.example/undated-2"),
    )
    parsed = parse_sitemap(body, "https://agency.example/sitemap.xml", now=NOW)
    assert parsed.problem is None and not parsed.news and parsed.title is None
    assert [u.rsplit("/", 1)[1] for u in links(parsed)] == [
        "rfc822", "fraction", "minute", "day", "month", "year",
        "undated-1", "garbage", "undated-2"]
    when = {e.url.rsplit("/", 1)[1]: e.published for e in parsed.entries}
    assert when["minute"] == datetime(2026, 5, 1, 8, 15, tzinfo=UTC)
    assert when["month"] == datetime(2026, 2, 1, tzinfo=UTC)
    assert when["year"] == datetime(2025, 1, 1, tzinfo=UTC)
    assert all(w is None or w.tzinfo is UTC for w in when.values())
    assert all(e.title == "" for e in parsed.entries)  # the page fetch gives the title


def test_future_dates_are_clamped_to_now() -> None:
    body = urlset(url("https://x.example/a", "2999-01-01T00:00:00Z"),
                  url("https://x.example/b", (NOW + timedelta(hours=3)).isoformat()))
    parsed = parse_sitemap(body, now=NOW)
    assert [e.published for e in parsed.entries] == [NOW, NOW]


def test_links_are_absolute_http_only_and_cleaned() -> None:
    body = urlset(
        url("/relative/one", "2026-05-01"),
        url("  https://x.example/spaced \t"),
        url("https://x.example/tab\tinside"),
        url("javascript:alert(document.cookie)"),
        url("file:///etc/passwd"),
        url("mailto:desk@x.example"),
        url("data:text/html,hi"),
        url("http://[::1"),  # a broken IPv6 host
        url("https://x.example:99999/bad-port"),
        url("https://x.example/with&amp;entity?a=1&amp;b=2"),
        url("https://x.example/relative/one"),  # the same URL again: once
        "<url><lastmod>2026-05-01</lastmod></url>",  # no <loc>
    )
    parsed = parse_sitemap(body, "https://x.example/sitemaps/news.xml", now=NOW)
    assert links(parsed) == ["https://x.example/relative/one", "https://x.example/spaced",
                             "https://x.example/tabinside",
                             "https://x.example/with&entity?a=1&b=2"]
    assert parsed.problem == "7 URLs skipped: not http(s)"


def test_control_characters_in_a_url_drop_it() -> None:
    parsed = parse_sitemap(urlset(url("https://x.example/a&#1;b"), url("https://x.example/ok")),
                           now=NOW)
    assert links(parsed) == ["https://x.example/ok"]


def test_a_sitemap_without_the_namespace_or_with_undeclared_prefixes_is_read() -> None:
    body = (b"<urlset><url><loc>https://x.example/a</loc><news:news><news:title>Undeclared"
            b"</news:title><news:publication_date>2026-05-01</news:publication_date>"
            b"</news:news></url></urlset>")
    parsed = parse_sitemap(body, now=NOW)
    assert links(parsed) == ["https://x.example/a"] and parsed.entries[0].title == "Undeclared"
    assert parsed.entries[0].news and "Namespace prefix news" in str(parsed.problem)


def test_an_empty_urlset_is_no_problem() -> None:
    parsed = parse_sitemap(urlset(namespaces=f"{SM} {NEWS}"), now=NOW)
    assert parsed.kind == "urlset" and parsed.entries == [] and parsed.problem is None


def test_a_text_sitemap_is_one_url_a_line() -> None:
    body = b"\xef\xbb\xbfhttps://x.example/1\r\n\r\nhttps://x.example/2\nnot a url\n/rel\n"
    parsed = parse_sitemap(body, "https://x.example/sitemap.txt", now=NOW)
    assert parsed.kind == "text" and links(parsed) == ["https://x.example/1",
                                                       "https://x.example/2"]
    assert parsed.problem == "2 URLs skipped: not http(s)"


# --- bounds ---------------------------------------------------------------------------------


def test_a_50000_url_sitemap_keeps_the_newest_max_items() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    body = urlset(*(url(f"https://big.example/a/{i}", (start + timedelta(minutes=i))
                        .isoformat()) for i in range(50_000)))
    parsed = parse_sitemap(body, now=NOW, max_items=100)
    assert len(parsed.entries) == 100
    assert links(parsed)[0] == "https://big.example/a/49999"
    assert links(parsed)[-1] == "https://big.example/a/49900"
    assert parsed.problem == ("the sitemap lists 50,000 URLs; only the newest 100 are read "
                              "(fetch.max_items)")


def test_gzipped_sitemaps_are_read_and_inflated_within_a_cap() -> None:
    parsed = parse_sitemap(gzip.compress(NEWS_SITEMAP), "https://news.example/s.xml.gz",
                           now=NOW)
    assert parsed.problem is None and len(parsed.entries) == 3
    two_members = gzip.compress(NEWS_SITEMAP[:500]) + gzip.compress(NEWS_SITEMAP[500:])
    assert links(parse_sitemap(two_members, now=NOW)) == links(parsed)
    bomb = gzip.compress(b"<urlset>" + b" " * 20_000_000 + b"</urlset>")
    assert len(bomb) < 100_000
    body, problem = inflate(bomb, 1_000_000)
    assert len(body) == 1_000_000
    assert problem == "larger than 1,000,000 bytes unzipped; only the first 1,000,000 are read"
    assert parse_sitemap(bomb, now=NOW, max_bytes=1_000_000).kind == "urlset"


def test_a_cut_or_corrupt_gzip_keeps_what_it_held() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    body = urlset(*(url(f"https://x.example/{i}", (start + timedelta(hours=i)).isoformat())
                    for i in range(2000)))
    packed = gzip.compress(body)
    cut = parse_sitemap(packed[: len(packed) // 2], now=NOW, max_items=5000)
    assert 0 < len(cut.entries) < 2000
    assert str(cut.problem).startswith("the gzip stream is cut short; malformed")
    corrupt = packed[:20] + b"\0" * 50 + packed[70:]
    assert "the gzip stream is corrupt" in str(parse_sitemap(corrupt, now=NOW).problem)


# --- broken and hostile documents -----------------------------------------------------------


def test_a_truncated_sitemap_keeps_the_entries_before_the_cut_and_drops_the_cut_one() -> None:
    body = urlset(*(url(f"https://x.example/article-{i}", f"2026-05-0{i}") for i in range(1, 4)))
    cut = body[: body.index(b"article-3") + len(b"article-")]  # ".../article-" : a wrong URL
    parsed = parse_sitemap(cut, now=NOW)
    assert links(parsed) == ["https://x.example/article-2", "https://x.example/article-1"]
    assert str(parsed.problem).startswith("malformed, recovered what could be: line 1")


def test_damage_in_the_middle_drops_only_the_damaged_entry() -> None:
    body = urlset(url("https://x.example/1"), url("https://x.example/2</lc>"),
                  url("https://x.example/3"), url("https://x.example/4"))
    parsed = parse_sitemap(body, now=NOW)
    assert links(parsed) == ["https://x.example/1", "https://x.example/3",
                             "https://x.example/4"]
    assert "Opening and ending tag mismatch" in str(parsed.problem)


def test_unescaped_ampersands_in_query_strings_are_read_as_meant() -> None:
    body = urlset(url("https://x.example/a?id=1&page=2"), url("https://x.example/b?x=1&amp;y=2"),
                  url("https://x.example/c?q=R&D&#38;more"))
    parsed = parse_sitemap(body, now=NOW)
    assert links(parsed) == ["https://x.example/a?id=1&page=2", "https://x.example/b?x=1&y=2",
                             "https://x.example/c?q=R&D&more"]
    assert "a bare '&', read as '&amp;'" in str(parsed.problem)


def test_what_is_not_a_sitemap_says_what_it_is() -> None:
    cases = {
        b"": "the body is empty",
        b"  \n ": "the body is empty",
        b"<html><body><p>Sitemap</p></body></html>": "its root element is <html>",
        b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>': "its root element is <rss>",
        b"\x00\x01\x02garbage": "no XML element found",
        b'{"urls": ["https://x.example/"]}': "no XML element found",
    }
    for body, why in cases.items():
        parsed = parse_sitemap(body, now=NOW)
        assert parsed.kind is None and parsed.entries == [], body
        assert str(parsed.problem).startswith(f"not a sitemap: {why}"), (body, parsed.problem)


def test_entities_are_never_expanded_billion_laughs_and_xxe(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-FILE-CONTENT")
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY l0 "lol">{laughs}]>'
            f'<urlset {SM} {NEWS}><url><loc>https://x.example/&l9;</loc></url>'
            f"<url><loc>https://x.example/ok</loc><news:news><news:title>Kim &l9;"
            f"</news:title></news:news></url><url><loc>https://x.example/plain</loc></url>"
            "</urlset>").encode()
    parsed = parse_sitemap(bomb, now=NOW)
    assert links(parsed) == ["https://x.example/plain"]  # nothing expanded, nothing lost else
    assert str(parsed.problem).startswith("malformed, recovered what could be: line 1")
    assert str(parsed.problem).endswith("; 2 damaged entries dropped")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file://{secret}">'
           f'<!ENTITY % p SYSTEM "file://{secret}"> %p;]><urlset {SM} {NEWS}>'
           f"<url><loc>https://x.example/a?&x;</loc></url><url><loc>https://x.example/b</loc>"
           f"<news:news><news:title>&x;</news:title></news:news></url></urlset>").encode()
    parsed = parse_sitemap(xxe, now=NOW)
    assert "TOPSECRET" not in repr(parsed)
    assert links(parsed) == ["https://x.example/b"] and parsed.entries[0].title == ""
    external = (f'<?xml version="1.0"?><!DOCTYPE urlset SYSTEM "file://{secret}">'
                f"<urlset {SM}><url><loc>https://x.example/c</loc></url></urlset>").encode()
    assert "TOPSECRET" not in repr(parse_sitemap(external, now=NOW))


def test_an_internal_entity_in_a_loc_drops_the_url_rather_than_guess_it() -> None:
    body = (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY site "https://x.example">]>'
            f"<urlset {SM} {NEWS}><url><loc>&site;/a</loc></url><url><loc>https://x.example/b"
            "</loc><news:news><news:title>B &site;</news:title></news:news></url></urlset>"
            ).encode()
    parsed = parse_sitemap(body, now=NOW)
    assert links(parsed) == ["https://x.example/b"] and parsed.entries[0].title == "B"
    assert parsed.problem == "1 URLs skipped: an entity reference, never expanded"


def test_deep_nesting_is_refused_not_recursed() -> None:
    body = b"<urlset><url><loc>https://x.example/a</loc></url>" + b"<x>" * 100_000 + \
        b"</x>" * 100_000 + b"</urlset>"
    parsed = parse_sitemap(body, now=NOW)
    assert links(parsed) == ["https://x.example/a"] and parsed.problem


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=2000) | st.builds(
    lambda head, cut, noise: (head[:cut] + noise),
    st.sampled_from([NEWS_SITEMAP, index(("https://x.example/s1.xml", "2026-01-01"))]),
    st.integers(0, 3000), st.binary(max_size=50)))
def test_any_bytes_give_a_value_with_only_http_links(body: bytes) -> None:
    parsed = parse_sitemap(body, "https://base.example/sitemap.xml", now=NOW, max_items=50)
    assert len(parsed.entries) <= 50
    assert parsed.kind is not None or parsed.problem
    for entry in parsed.entries:
        assert entry.url.startswith(("http://", "https://"))
        assert not any(c < " " for c in entry.url)
        assert entry.published is None or entry.published <= NOW
    for ref in parsed.sitemaps:
        assert ref.url.startswith(("http://", "https://"))


# --- indexes --------------------------------------------------------------------------------


THREE = index(("/sitemaps/2026-03.xml", "2026-03-31T23:00:00+00:00"),
              ("/sitemaps/undated.xml", None),
              ("/sitemaps/2026-05.xml", "2026-05-04T10:00:00Z"),
              ("javascript:void(0)", "2026-05-05"),
              ("/sitemaps/2026-04.xml", "2026-04-30"))


def test_an_index_lists_its_children_newest_first_undated_last() -> None:
    parsed = parse_sitemap(THREE, "https://news.example/sitemap_index.xml", now=NOW)
    assert parsed.kind == "index" and parsed.entries == []
    assert child_sitemaps(parsed) == [f"https://news.example/sitemaps/{name}.xml" for name in
                                      ("2026-05", "2026-04", "2026-03", "undated")]
    assert child_sitemaps(parsed, 2) == ["https://news.example/sitemaps/2026-05.xml",
                                         "https://news.example/sitemaps/2026-04.xml"]
    assert parsed.problem == "1 URLs skipped: not http(s)"


class FakeWeb:
    """Fetched bodies by URL; every fetch recorded."""

    def __init__(self, pages: dict[str, Fetched | bytes]) -> None:
        self.pages, self.asked = pages, list[str]()

    async def __call__(self, url: str) -> Fetched:
        self.asked.append(url)
        page = self.pages.get(url)
        if page is None:
            return Fetched(404, url, "text/html", b"not found", "HTTP 404")
        return page if isinstance(page, Fetched) else Fetched(200, url, "application/xml", page)


def month(name: str, count: int, day: int) -> bytes:
    return urlset(*(url(f"https://news.example/{name}/{i}",
                        f"2026-{name[-2:]}-{day:02d}T{i % 24:02d}:00:00Z")
                    for i in range(count)))


def follow(parsed: ParsedSitemap, web: FakeWeb, **kwargs: int) -> ParsedSitemap:
    return asyncio.run(follow_index(parsed, web, now=NOW, **kwargs))


def test_an_index_is_followed_newest_child_first_until_max_items() -> None:
    base = "https://news.example/sitemaps/"
    web = FakeWeb({base + "2026-05.xml": month("2026-05", 30, 3),
                   base + "2026-04.xml": month("2026-04", 30, 2),
                   base + "2026-03.xml": month("2026-03", 30, 1)})
    parsed = parse_sitemap(THREE, "https://news.example/sitemap_index.xml", now=NOW)
    result = follow(parsed, web, max_items=50)
    assert web.asked == [base + "2026-05.xml", base + "2026-04.xml"]  # 50 reached: stop
    assert len(result.entries) == 50
    assert {u.split("/")[3] for u in links(result)} == {"2026-05", "2026-04"}
    assert links(result)[0].startswith("https://news.example/2026-05/")
    assert [e.published for e in result.entries] == sorted(
        (e.published for e in result.entries if e.published), reverse=True)
    assert result.problem == "1 URLs skipped: not http(s)"


def test_following_an_index_is_bounded_by_max_children_and_goes_one_level() -> None:
    base = "https://news.example/sitemaps/"
    nested = index(("https://news.example/deeper.xml", "2026-05-04"))
    web = FakeWeb({base + "2026-05.xml": nested,
                   base + "2026-04.xml": Fetched(None, base + "2026-04.xml", None, b"",
                                                 "timed out after 20s"),
                   base + "2026-03.xml": month("2026-03", 3, 1)})
    parsed = parse_sitemap(THREE, "https://news.example/sitemap_index.xml", now=NOW)
    result = follow(parsed, web, max_children=3)
    assert web.asked == [base + "2026-05.xml", base + "2026-04.xml", base + "2026-03.xml"]
    assert "https://news.example/deeper.xml" not in web.asked
    assert len(result.entries) == 3
    assert f"{base}2026-05.xml: a sitemap index inside an index is not followed" in str(
        result.problem)
    assert f"{base}2026-04.xml: timed out after 20s" in str(result.problem)
    assert MAX_CHILDREN >= 3


def test_an_index_whose_children_all_fail_is_a_failure() -> None:
    web = FakeWeb({"https://news.example/sitemaps/2026-05.xml": b"<html>oops</html>"})
    parsed = parse_sitemap(THREE, "https://news.example/sitemap_index.xml", now=NOW)
    result = follow(parsed, web, max_children=2)
    assert result.entries == []
    assert str(result.problem).startswith("no child sitemap could be read; ")
    assert "2026-04.xml: HTTP 404" in str(result.problem)
    assert "not a sitemap: its root element is <html>" in str(result.problem)


def test_children_that_repeat_urls_count_them_once() -> None:
    same = month("2026-05", 10, 3)
    web = FakeWeb({"https://news.example/sitemaps/2026-05.xml": same,
                   "https://news.example/sitemaps/2026-04.xml": same})
    parsed = parse_sitemap(THREE, "https://news.example/sitemap_index.xml", now=NOW)
    result = follow(parsed, web, max_items=15, max_children=2)
    assert len(result.entries) == 10 and len(set(links(result))) == 10


def test_a_urlset_is_its_own_result() -> None:
    parsed = parse_sitemap(NEWS_SITEMAP, now=NOW)
    web = FakeWeb({})
    assert follow(parsed, web) is parsed and web.asked == []
