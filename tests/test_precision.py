"""Precision on news text (issue 18): names that are ordinary words match only where the
text writes them as names; vessels and aircraft need their context; a common word of
another script is not a transliterated name; emoji are no words; a real word is no typo."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.match import Matcher
from monitor.precision import LOWER_CASE_WORD, NOT_PLAIN, PLAIN_WORD, plainness, sentence
from tests.support import ROOT, watchlist_from_yaml

LIST = """
watchlist: t
entries:
  - {id: success, kind: vessel, name: Success, country: PA}
  - {id: freedom, kind: vessel, name: Freedom, context: []}
  - {id: pipe, kind: vessel, name: Stream, context: [pipeline]}
  - {id: plane, kind: aircraft, name: EP-GOM}
  - {id: mahan, kind: aircraft, name: Mahan Air 747}
  - {id: base, kind: organization, name: Al-Qa'ida, aliases: [THE Base]}
  - {id: etim, kind: organization, name: Eastern Turkistan Islamic Movement, aliases: [ETIM]}
  - {id: nasha, kind: organization, name: Nasha Rossiya, aliases: [NASHA]}
  - {id: dove, kind: organization, name: Dove}
  - {id: nabi, kind: organization, name: Nabi}
  - {id: rainbow, kind: organization, name: Rainbow}
  - {id: kamila, kind: actor, name: Kamila}
  - {id: major, kind: actor, name: John Major, aliases: [Major]}
  - {id: note, kind: actor, name: Note}
  - {id: intercontinental, kind: organization, name: Intercontinental}
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin], country: RU}
"""


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher([watchlist_from_yaml(LIST)])


def found(matcher: Matcher, text: str) -> list[tuple[str, str]]:
    return [(m.entry, m.text) for m in matcher.match(text)]


@pytest.mark.parametrize("text,expected", [
    # vessels need a vessel's context in the sentence (or the flag state, an IMO number)
    ("It was a huge success.", []),
    ("Success came late to him.", []),
    ("The tanker Success was seized off Gibraltar.", [("success", "Success")]),
    ("Panama struck Success from its register.", [("success", "Success")]),  # the flag
    ("Success (IMO 9187629) sailed on.", [("success", "Success")]),
    ("Software freedom matters.", []),  # context: [] but still an ordinary word
    ("He named the boat after Freedom in 1990.", [("freedom", "Freedom")]),
    ("The Stream tanker docked.", []),  # its context is its own: pipeline
    ("A pipeline called Stream opened.", [("pipe", "Stream")]),
    # aircraft: a tail number is context enough, the name itself included
    ("EP-GOM landed in Damascus.", [("plane", "EP-GOM")]),
    ("We watched Mahan Air 747 take off in the film.", []),
    ("The plane, Mahan Air 747, was diverted.", [("mahan", "Mahan Air 747")]),
])
def test_vessels_and_aircraft_need_context(matcher: Matcher, text: str,
                                           expected: list[tuple[str, str]]) -> None:
    assert found(matcher, text) == expected


@pytest.mark.parametrize("text,expected", [
    ("Strangely huddled at the base of the wall.", []),
    ("The base of the wall.", []),
    ("A statement from The Base said so.", [("base", "The Base")]),
    ("in any major way", []),
    ("the wrong note", []),
    ("Major said so.", []),  # a sentence's first word alone says nothing...
    ("Major said so. The party backed Major in 1992.",  # ...unless written so elsewhere
     [("major", "Major"), ("major", "Major")]),
    ("The reforms of Major were short-lived.", [("major", "Major")]),
    ("The Major League Baseball season began.", []),  # part of a longer name
    ("TRUMP HAILS MAJOR WIN AS MARKETS RALLY", []),  # capitals say nothing
    ("Trump Hails Major Win As Markets Rally", []),  # nor does Title Case
    ("Dov'è il museo? Non so dove sia.", []),  # Italian
    ("Menurut Nabi Muhammad, itu benar.", []),  # part of a longer name
    ("Their intercontinental missile flew.", []),  # an organisation's name as a word
    ("Intercontinental was fined.", [("intercontinental", "Intercontinental")]),
    ("putin speaks", [("putin", "putin")]),  # a name, not a word: case does not matter
])
def test_ordinary_words_match_only_where_written_as_names(
        matcher: Matcher, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(matcher, text) == expected


@pytest.mark.parametrize("text,expected", [
    ("Этим летом наша страна выросла.", []),  # этим -> etim, наша -> nasha: Russian words
    ("ETIM and NASHA were named.", [("etim", "ETIM"), ("nasha", "NASHA")]),
    ("Путин заявил", [("putin", "Путин")]),  # putin: frequent in Latin script too
    ("I 🌈 New York", []),  # anyascii would make the emoji "rainbow"
    ("Kamala Harris spoke.", []),  # a name of some frequency, not a misspelt Kamila
    ("Kamilla spoke.", []),  # a name of its own too
    ("Kammila spoke.", [("kamila", "Kammila")]),  # a spelling of no frequency: a typo
])
def test_other_scripts_emoji_and_typos(matcher: Matcher, text: str,
                                       expected: list[tuple[str, str]]) -> None:
    assert found(matcher, text) == expected


def test_plainness() -> None:
    names = frozenset({"china"})
    assert plainness("Success", "vessel", names) == PLAIN_WORD
    assert plainness("THE Base", "organization", names) == PLAIN_WORD
    assert plainness("NATO", "organization", names) == NOT_PLAIN  # an acronym, as listed
    assert plainness("sanctions", "topic", names) == NOT_PLAIN  # a term, as listed
    assert plainness("China", "organization", names) == NOT_PLAIN  # a country's name
    assert plainness("Tô Lâm", "actor", names) == NOT_PLAIN
    assert plainness("Putin", "actor", names) == NOT_PLAIN
    assert plainness("Intercontinental", "organization", names) == LOWER_CASE_WORD
    assert plainness("Intercontinental", "actor", names) == NOT_PLAIN


def test_sentence() -> None:
    text = "First one. Second one here! Third\nFourth."
    assert text[slice(*sentence(text, 11, 17))] == "Second one here"
    assert text[slice(*sentence(text, 28, 33))] == "Third"


CORPUS_PAGES = ROOT.parent / "shared" / "corpus" / "pages"


@pytest.mark.skipif(not (CORPUS_PAGES.is_dir() and (
    ROOT.parent / "shared" / "corpus" / "watchlists" / "ofac-sdn" / "sdn.csv").is_file()),
    reason="../shared/corpus is absent")
def test_the_sdn_list_over_real_pages_gives_few_false_mentions() -> None:
    """Dev check (bench/sdn_pages.py lists them): the whole SDN list over the 91 real
    pages; 341 mentions before issue 18, nearly all false; now 14 genuine and 2 false."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import sdn_pages  # type: ignore[import-not-found]

    matcher = Matcher([sdn_pages.sdn_watchlist(
        ROOT.parent / "shared/corpus/watchlists/ofac-sdn/sdn.csv")])
    mentions = [(name, m.text) for name, doc in sdn_pages.pages() for m in matcher.match(doc)]
    assert len(mentions) <= 25, mentions
    assert ("bbc-1", "Islamic State") in mentions and ("nytimes-1", "Osama bin Laden") in mentions


def test_fixture_paths_exist() -> None:
    assert Path(__file__).is_file()
