"""extract.py: pages to text and metadata, feed content as the fallback, snippets."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from monitor.extract import decode_page, extract_page, page_metadata
from tests.support import article_html

PARAGRAPHS = [
    "Russian President Vladimir Putin arrived in Pyongyang early on Wednesday for a visit "
    "that both governments said would deepen their partnership.",
    "Kim Jong Un greeted him at the airport, and the two leaders signed a comprehensive "
    "strategic partnership treaty later in the day, state media reported.",
    "Washington and Seoul said they were watching closely, and officials in Tokyo warned "
    "of new sanctions if arms transfers continued.",
]


def head(*tags: str, lang: str = "en") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">{"".join(tags)}'
            "<title>Putin in Pyongyang - Example News</title></head><body><p>x</p></body></html>")


def test_open_graph_and_article_tags() -> None:
    meta = page_metadata(head(
        '<meta property="og:title" content="Putin arrives in Pyongyang">',
        '<meta name="author" content="By Jane Smith">',
        '<meta property="article:published_time" content="2024-06-19T01:00:00+09:00">',
        '<link rel="canonical" href="/world/putin-pyongyang">'), "https://news.example/x?a=1")
    assert meta.title == "Putin arrives in Pyongyang"
    assert meta.author == "Jane Smith"
    assert meta.published == datetime(2024, 6, 18, 16, 0, tzinfo=UTC)
    assert meta.language == "en"
    assert meta.canonical_url == "https://news.example/world/putin-pyongyang"


def test_json_ld_article_wins_and_lists_every_author() -> None:
    data = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "name": "page"},
        {"@type": "NewsArticle", "headline": "Putin and Kim sign a pact",
         "datePublished": "2024-06-19T10:30:00Z",
         "author": [{"@type": "Person", "name": "Ann Lee"}, {"name": "Bo Chan"}, "Ann Lee"]},
    ]}
    meta = page_metadata(head(
        '<meta property="og:title" content="Other title">',
        '<meta name="author" content="https://news.example/staff/ann">',
        f'<script type="application/ld+json">{json.dumps(data)}</script>'), "https://n.example/")
    assert meta.title == "Putin and Kim sign a pact"
    assert meta.author == "Ann Lee; Bo Chan"
    assert meta.published == datetime(2024, 6, 19, 10, 30, tzinfo=UTC)


def test_broken_json_ld_and_author_urls_are_ignored() -> None:
    meta = page_metadata(head(
        '<script type="application/ld+json">{"@type": "NewsArticle", broken</script>',
        '<meta property="article:author" content="https://facebook.com/someone">'),
        "https://n.example/")
    assert meta.title == "Putin in Pyongyang - Example News"  # the <title> is the last resort
    assert meta.author is None


def test_date_from_time_tag_then_url_then_htmldate() -> None:
    time_tag = head().replace("<p>x</p>", '<time datetime="2024-06-20">June 20</time>')
    assert page_metadata(time_tag, "https://n.example/a").published == \
        datetime(2024, 6, 20, tzinfo=UTC)
    assert page_metadata(head(), "https://n.example/2024/06/21/putin").published == \
        datetime(2024, 6, 21, tzinfo=UTC)
    in_text = head().replace("<p>x</p>", '<div class="date">Published 22 June 2024</div>')
    assert page_metadata(in_text, "https://n.example/a").published == \
        datetime(2024, 6, 22, tzinfo=UTC)
    # the caller already has a date (the feed item's): no search through the page
    assert page_metadata(in_text, "https://n.example/a", search_date=False).published is None


def test_dates_in_newsroom_formats() -> None:
    for value, expected in [
        ("Wed, 19 Jun 2024 01:00:00 GMT", datetime(2024, 6, 19, 1, 0, tzinfo=UTC)),
        ("20240619", datetime(2024, 6, 19, tzinfo=UTC)),
        ("20240619T013000", datetime(2024, 6, 19, 1, 30, tzinfo=UTC)),
        ("2024-06-19T01:00:00Z", datetime(2024, 6, 19, 1, 0, tzinfo=UTC)),
    ]:
        meta = page_metadata(head(f'<meta name="pdate" content="nonsense">'
                                  f'<meta name="date" content="{value}">'), "https://n.example/")
        assert meta.published == expected, value


def test_language_from_locale_when_html_has_none() -> None:
    page = head('<meta property="og:locale" content="vi_VN">', lang="").replace(' lang=""', "")
    assert page_metadata(page, "https://n.example/").language == "vi"


def test_extract_page_text_and_metadata() -> None:
    page = decode_page(article_html("Putin arrives in Pyongyang", PARAGRAPHS,
                                     canonical="https://news.example/a"), None)
    extracted = extract_page(page, "https://news.example/a?utm_source=x")
    assert extracted is not None
    assert extracted.source == "page"
    assert "comprehensive strategic partnership treaty" in extracted.text
    assert "Comentarios" not in extracted.text and "Home | World" not in extracted.text
    assert extracted.title == "Putin arrives in Pyongyang"
    assert extracted.canonical_url == "https://news.example/a"
    assert extracted.language == "en"


def test_extract_page_without_article_text_is_none() -> None:
    assert extract_page(decode_page(article_html("Index", ["Too short."]), None),
                        "https://n.example/") is None
    assert extract_page("", "https://n.example/") is None
    assert extract_page("<html><body>\x00\x01</body></html>", "https://n.example/") is None


def test_decode_page_charsets() -> None:
    text = "Путин в Пхеньяне"
    assert decode_page(text.encode("cp1251"), "text/html; charset=windows-1251") == text
    meta = f'<meta charset="koi8-r"><p>{text}</p>'.encode("koi8-r")
    assert text in decode_page(meta, "text/html")
    assert decode_page("Hà Nội".encode(), "text/html; charset=no-such-charset") == "Hà Nội"


def test_a_charset_that_lies_does_not_garble_the_text() -> None:
    text = "Tô Lâm met Putin in Hà Nội"
    # The header says latin-1 over UTF-8 bytes (a CMS default nobody changed).
    assert decode_page(text.encode(), "text/html; charset=iso-8859-1") == text
    assert decode_page(f'<meta charset="windows-1252">{text}'.encode(), None).endswith(text)
    # The header says UTF-8 over windows-1252 bytes: the legacy default, not U+FFFD.
    assert decode_page("Zelensky’s café".encode("cp1252"), "text/html; charset=utf-8") == \
        "Zelensky’s café"
    # A byte-order mark wins over everything.
    assert decode_page("Путин".encode("utf-16"), "text/html; charset=utf-8") == "Путин"
    assert decode_page(b"\xef\xbb\xbfPutin", "text/html; charset=iso-8859-1") == "Putin"
    assert decode_page(b"", None) == ""


def ld(data: dict[str, object]) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def test_character_references_in_json_ld_and_meta_text_are_decoded_once() -> None:
    meta = page_metadata(head(ld({
        "@type": "NewsArticle",
        "headline": "Putin will &quot;zerst&ouml;ren&quot; &#8216;alles&#8217;",
        "author": [{"name": "Ann &amp; Bo Lee"}, "Jos&eacute; Ruiz"]})), "https://n.example/")
    assert meta.title == "Putin will \"zerstören\" ‘alles’"
    assert meta.author == "Ann & Bo Lee; José Ruiz"
    # Once, not until none is left; text that only looks like a reference stays.
    for written, shown in [("AT&amp;T", "AT&T"), ("AT&T &copy 2024", "AT&T &copy 2024"),
                           ("the &amp;amp; entity", "the &amp; entity")]:
        page = head(ld({"@type": "NewsArticle", "headline": written}))
        assert page_metadata(page, "https://n.example/").title == shown, written
    # An attribute escaped twice (the parser decodes one level, we decode the other).
    double = head('<meta property="og:title" content="Kim&amp;#039;s &amp;quot;pact&amp;quot;">',
                  '<meta name="author" content="M&amp;uuml;ller">')
    meta = page_metadata(double, "https://n.example/")
    assert (meta.title, meta.author) == ('Kim\'s "pact"', "Müller")


def test_metadata_after_a_long_head_is_read() -> None:
    # A CNBC page: 965 KB of inline scripts before its metadata and </head>.
    scripts = "<script>var config = {'a': 'abcdefghij'};</script>\n" * 20_000
    page = head(scripts, '<meta property="og:title" content="Late title">',
                '<meta property="article:published_time" content="2023-04-28T19:20:36+02:00">',
                ld({"@type": "NewsArticle", "author": {"name": "Ann Lee"}}))
    assert page.index("</head>") > 900_000
    meta = page_metadata(page, "https://n.example/a", search_date=False)
    assert meta.title == "Late title" and meta.author == "Ann Lee"
    assert meta.published == datetime(2023, 4, 28, 17, 20, 36, tzinfo=UTC)
    # A "<body" in a script of the head does not end it.
    page = page.replace("<script>", "<script>document.write('<body>');", 1)
    assert page_metadata(page, "https://n.example/a").title == "Late title"
    # No </head> at all: the head ends where the body starts.
    no_end = head(scripts, '<meta property="og:title" content="Late title">').replace(
        "</head><body>", '<body><meta name="author" content="Not an author">')
    meta = page_metadata(no_end, "https://n.example/a", search_date=False)
    assert (meta.title, meta.author) == ("Late title", None)


def published(*tags: str) -> datetime | None:
    return page_metadata(head(*tags), "https://n.example/", search_date=False).published


def test_a_time_that_states_its_offset_wins() -> None:
    at_1720_utc = datetime(2023, 4, 28, 17, 20, 36, tzinfo=UTC)
    naive = ld({"@type": "NewsArticle", "datePublished": "2023-04-28T19:20:36"})
    stated = '<meta property="article:published_time" content="2023-04-28T19:20:36+02:00">'
    assert published(naive, stated) == at_1720_utc
    # The same instant written as UTC without saying so, or only the day: the same.
    assert published(ld({"@type": "NewsArticle", "datePublished": "2023-04-28T17:20:36"}),
                     stated) == at_1720_utc
    assert published(ld({"@type": "NewsArticle", "datePublished": "2023-04-28"}),
                     stated) == at_1720_utc
    # A zone named by its abbreviation.
    assert published('<meta name="date" content="Fri Apr 28 19:20:36 CEST 2023">') == \
        at_1720_utc


def test_a_naive_time_takes_the_offset_the_page_states_elsewhere() -> None:
    naive = ld({"@type": "NewsArticle", "datePublished": "2023-04-28T19:20:36",
                "dateModified": "2023-04-29T08:00:00+02:00"})
    assert published(naive) == datetime(2023, 4, 28, 17, 20, 36, tzinfo=UTC)
    # Two offsets that disagree: no way to tell, UTC as before.
    disagree = ld({"@type": "NewsArticle", "datePublished": "2023-04-28T19:20:36",
                   "dateModified": "2023-04-29T08:00:00+02:00"})
    other = '<meta property="article:modified_time" content="2023-04-29T08:00:00-05:00">'
    assert published(disagree, other) == datetime(2023, 4, 28, 19, 20, 36, tzinfo=UTC)
    # A time with an offset that tells another time is not the publication's, but its
    # offset is the site's.
    later = '<meta name="date" content="2023-05-02T10:00:00+09:00">'
    assert published(ld({"@type": "NewsArticle", "datePublished": "2023-04-28T19:20:36"}),
                     later) == datetime(2023, 4, 28, 10, 20, 36, tzinfo=UTC)
