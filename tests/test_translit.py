"""Names across scripts and languages (issue 18, item 5): other conventions' spellings,
inflected forms through the text language's stemmer, other orders, patronymics."""

from __future__ import annotations

import pytest

from monitor.inflect import guess_language, stem
from monitor.match import Matcher
from monitor.normalize import fold
from monitor.translit import orders, spellings, to_cyrillic, variants
from monitor.watchlist import Entry, Watchlist
from tests.support import ROOT, watchlist_from_yaml

PUTIN = Watchlist("t", (Entry("putin", "actor", "Vladimir Putin", ("Putin",), "RU"),))
SPELLINGS = ROOT / "tests" / "data" / "putin_spellings.tsv"


@pytest.fixture(scope="module")
def putin() -> Matcher:
    return Matcher([PUTIN])


def spellings_of_putin() -> list[tuple[str, str]]:
    rows = [line.rstrip("\n").split("\t") for line in SPELLINGS.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    return [(lang, text) for lang, text in rows]


def test_most_spellings_of_putin_are_found_with_one_latin_alias(putin: Matcher) -> None:
    """94 spellings (scripts, conventions, orders, inflections): 51 found before issue 18,
    82 now; the misses are in scripts without vowels or spaces (Arabic, Hebrew, Chinese,
    Japanese, Korean, Thai), which need native aliases, and Czech Putinovi alone."""
    rows = spellings_of_putin()
    found = [(lang, text) for lang, text in rows
             if any(m.entry == "putin" for m in putin.match(text))]
    missed = sorted(set(rows) - set(found))
    assert len(found) / len(rows) >= 0.85, missed
    needs_native = {"ar", "fa", "he", "ja", "ko", "ps", "ta", "th", "ur", "yi", "zh"}
    assert {lang for lang, _ in missed} <= needs_native | {"cs"}, missed


@pytest.mark.parametrize("text,surface", [
    ("Vladimir Poutine a dit", "Vladimir Poutine"),
    ("Poetin zei", "Poetin"),
    ("Putyin szerint", "Putyin"),
    ("Ο Πούτιν είπε", "Πούτιν"),
    ("Պուտինը", None),  # an Armenian case ending: not found (no Armenian stemmer is used)
    ("Պուտին", "Պուտին"),
    ("პუტინი", "პუტინი"),
    ("Пуцін сказаў", "Пуцін"),
    ("Wladimir Putin sagte", "Wladimir Putin"),
    ("Władimir Putin powiedział", "Władimir Putin"),
])
def test_other_conventions_spellings(putin: Matcher, text: str, surface: str | None) -> None:
    found = [m.text for m in putin.match(text)]
    assert found == ([surface] if surface else [])


@pytest.mark.parametrize("text,surface", [
    ("Встреча с Путиным прошла в Кремле.", "Путиным"),
    ("Указ Путина вступил в силу.", "Путина"),
    ("Зустріч з Путіним", "Путіним"),
    ("Spotkanie z Putinem odbyło się w Moskwie.", "Putinem"),
    ("Premier zadzwonił do Putina w piątek.", "Putina"),
    ("Vladimiras Putinas pareiškė, kad karas tęsis.", "Putinas"),  # the surname only
    ("Vladimirs Putins paziņoja, ka karš turpināsies.", "Putins"),
    ("Setkání s Putinem se konalo v Moskvě.", "Putinem"),
    ("Putins Krieg gegen die Ukraine geht weiter.", "Putins"),
])
def test_inflected_forms_in_their_language(putin: Matcher, text: str, surface: str) -> None:
    found = putin.match(text)
    assert [m.text for m in found] == [surface]
    assert found[0].score == 100.0


def test_inflected_country_names_and_demonyms() -> None:
    wl = watchlist_from_yaml("""
watchlist: t
entries:
  - {id: ru, kind: country, name: Russia, country: RU}
  - {id: ua, kind: country, name: Ukraine, country: UA}
""")
    m = Matcher([wl])
    assert [(x.entry, x.text) for x in m.match("Санкции против России и Украины.")] == [
        ("ru", "России"), ("ua", "Украины")]
    for text in ("Russian troops and Ukrainian grain", "the Russians said", "Russians"):
        assert m.match(text) == [], text


def test_a_name_alone_in_an_unknown_language_is_a_guess() -> None:
    matcher = Matcher([PUTIN])
    [m] = matcher.match("Putinas")
    assert m.text == "Putinas" and 80 <= m.score < 100
    strict = Matcher([Watchlist("t", (Entry("putin", "actor", "Vladimir Putin", ("Putin",),
                                            "RU", fuzzy=None),))])
    assert strict.match("Putinas") == []
    assert [x.text for x in strict.match("Vladimiras Putinas pareiškė, kad karas tęsis.")] == [
        "Putinas"]


def test_guess_language() -> None:
    assert guess_language(" spotkanie z putinem odbylo sie w moskwie i nie tylko ") == "pl"
    assert guess_language(" the president said that he and the minister were there ") == "en"
    assert guess_language(" putin ") is None
    assert stem("Путина", "ru") == "путин"


def test_spellings_and_back_to_cyrillic() -> None:
    assert to_cyrillic("Putin") == "путин"
    assert to_cyrillic("Zelensky") == "зеленский"
    assert to_cyrillic("Sergei") == "сергей"
    assert to_cyrillic("Khodorkovsky") == "ходорковский"
    spelt = spellings("Путин")
    assert (spelt["fr"], spelt["nl"], spelt["hu"], spelt["de"], spelt["el"], spelt["be"]) == (
        "Poutine", "Poetin", "Putyin", "Putin", "Πουτιν", "Пуцін")
    assert spellings("Лавров")["de"] == "Lawrow"
    assert spellings("Владимир")["hu"] == "Vlagyimir"
    assert variants("Tô Lâm", "VN") == [] and variants("Putin", None) == []
    assert "Poutine" in variants("Putin", None, others=["Путин"])


def test_orders_and_patronymics() -> None:
    assert orders("Putin, Vladimir Vladimirovich") == [
        "Vladimir Vladimirovich Putin", "Putin Vladimir", "Vladimir Putin"]
    assert orders("Путин Владимир Владимирович") == ["Путин Владимир"]
    assert orders("Vladimir Putin") == []
    wl = watchlist_from_yaml("""
watchlist: t
entries:
  - {id: p, kind: actor, name: "PUTIN, Vladimir Vladimirovich"}
""")
    m = Matcher([wl])
    assert [x.text for x in m.match("Vladimir Putin and Putin Vladimir")] == [
        "Vladimir Putin", "Putin Vladimir"]


def test_spellings_of_a_common_word_match_only_capitalised(putin: Matcher) -> None:
    assert putin.match("une poutine au fromage") == []  # poutine, the dish
    assert [m.text for m in putin.match("selon Poutine, la guerre")] == ["Poutine"]
    assert fold("Πούτιν") == fold("Πουτιν")
