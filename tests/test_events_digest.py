"""A digest from a fixture day of real-looking articles (issue 17): three outlets on one
happening make one event, filed under its most specific entry (the actor, not the country
every story names), ranked first, with each outlet's own headline and clean links; an old
page found today is not news; the subject names the top entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import true

from monitor.digest import build
from monitor.extract import Extracted
from monitor.ingest import Analyser, analyse
from monitor.store import Store
from monitor.store.events import with_event_outlets
from monitor.store.models import Hit
from monitor.store.queries import hit_rows
from tests.support import watchlist_from_yaml

NOW = datetime(2024, 6, 20, 5, tzinfo=UTC)
WATCHLIST = watchlist_from_yaml("""
watchlist: desk
entries:
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin]}
  - {id: pyongyang, kind: place, name: Pyongyang}
  - {id: north-korea, kind: country, name: North Korea}
  - {id: bavaria, kind: place, name: Bavaria}
""")
# (outlet, path, title, text, hours before NOW it was published)
DAY = [
    ("BBC World", "bbc.example/news/putin-pyongyang?utm_source=rss&utm_medium=feed",
     "Putin lands in Pyongyang for rare visit",
     "Russian President Vladimir Putin has arrived in Pyongyang for his first visit to North "
     "Korea in 24 years, where he is expected to sign a strategic partnership with Kim Jong "
     "Un. The two leaders will discuss military cooperation and sanctions.", 20),
    ("Local Wire", "localwire.example/world/putin-north-korea",
     "Russia's Putin arrives in North Korea | Local Wire",
     "Vladimir Putin touched down in Pyongyang late on Tuesday, where Kim Jong Un greeted him "
     "at the airport. Moscow and Pyongyang are set to sign a partnership agreement covering "
     "military cooperation, state media said.", 18),
    ("Al Jazeera", "aljazeera.example/news/kim-welcomes-putin",
     "Kim Jong Un welcomes Putin in Pyongyang",
     "North Korean leader Kim Jong Un hugged Vladimir Putin on the tarmac in Pyongyang as the "
     "Russian president began a state visit; the partnership pact covers military aid.", 16),
    ("Seoul Daily", "seouldaily.example/nk-missile",
     "North Korea fires ballistic missile into the sea",
     "North Korea launched a short-range ballistic missile off its east coast on Thursday, "
     "the South's joint chiefs of staff said; the projectile flew 600 kilometres.", 5),
    ("Munich Post", "munichpost.example/floods",
     "Floods hit Bavaria",
     "Heavy rain flooded towns in Bavaria on Sunday; firefighters evacuated hundreds of "
     "residents as rivers burst their banks near Augsburg.", 8),
    ("Archive Times", "archive.example/2017/putin-kim",  # an old page, found today
     "Putin and Kim: a history",
     "In 2017 Vladimir Putin said North Korea would rather eat grass than give up its nuclear "
     "programme, speaking in Xiamen.", 24 * 365 * 7),
]


def store_day(store: Store) -> None:
    analyser = Analyser.create([WATCHLIST])
    for outlet, path, title, text, hours in DAY:
        feed, _ = store.add_feed(f"https://{path.split('/')[0]}/rss", NOW, name=outlet)
        extracted = Extracted(text=text, title=title, author=None,
                              published=NOW - timedelta(hours=hours), language="en",
                              canonical_url=None, source="page")
        store.add_article(analyse(analyser, extracted, url=f"https://{path}", feed_id=feed.id,
                                  item=None, key=None, page=None), NOW - timedelta(hours=1))


def test_a_fixture_day_makes_a_digest_an_analyst_reads_in_two_minutes(store: Store) -> None:
    store_day(store)
    rows = with_event_outlets(store, hit_rows(store, where=[Hit.notify == true()], marks=True))
    digest = build("daily", "digest", "k", (NOW - timedelta(days=1), NOW), "UTC", rows)
    events = digest.stories
    assert len(events) == 3  # Putin in Pyongyang (three outlets), the missile, the floods
    assert "Archive Times" not in {s.outlet for e in events for s in e.sources}  # not news
    first = events[0]  # most outlets: ranked first
    assert first.title in {"Putin lands in Pyongyang for rare visit",
                           "Russia's Putin arrives in North Korea",
                           "Kim Jong Un welcomes Putin in Pyongyang"}
    assert first.outlets == ("BBC World", "Local Wire", "Al Jazeera")
    assert [s.title for s in first.sources] == ["Putin lands in Pyongyang for rare visit",
                                                "Russia's Putin arrives in North Korea",
                                                "Kim Jong Un welcomes Putin in Pyongyang"]
    assert all("utm_" not in (s.url or "") for s in first.sources)
    assert first.sources[0].url == "https://bbc.example/news/putin-pyongyang"
    assert first.score > events[1].score >= events[2].score
    # filed under the actor, though North Korea is named by more events of the day
    sections = {(e.entry, s.title) for e in digest.entries for s in e.stories}
    assert ("putin", first.title) in sections
    assert ("north-korea", "North Korea fires ballistic missile into the sea") in sections
    assert ("bavaria", "Floods hit Bavaria") in sections
    assert [e.entry for e in digest.entries] == ["putin", "north-korea", "bavaria"]
    assert [w.entry for w in first.why][:1] == ["putin"]
    assert digest.subject == "monitor daily — Vladimir Putin, North Korea, Bavaria: 3 events"
