"""monitor.typos on its own: which words are corrected, into what, and where the names are
(the matcher's typo promises are in test_match.py)."""

from __future__ import annotations

import pytest

from monitor import typos
from monitor.normalize import fold_text
from monitor.typos import Typos, is_common_word, zipf

KEYS = {name: i for i, name in enumerate(
    ["sanctions", "vladimir putin", "volodymyr zelensky", "russia", "kim jong un", "iran"])}


@pytest.fixture
def index() -> Typos:
    return Typos(KEYS, range(len(KEYS)))


def found(index: Typos, text: str) -> list[tuple[str, str, float]]:
    folded = fold_text(text)
    return sorted((list(KEYS)[i], folded.hay[start:end], score)
                  for i, (start, end), score, _, _ in index.find(folded))


def test_one_typo_is_corrected_into_the_vocabulary(index: Typos) -> None:
    assert index.fixes("santcions") == ("sanctions",)  # a swap is one edit
    assert index.fixes("zelenskyy") == ("zelensky",)
    assert index.fixes("sanctions") == ()  # a known word is no typo
    assert index.fixes("sancti") == ()  # two edits


def test_inflections_and_common_words_are_not_typos(index: Typos) -> None:
    assert index.fixes("russian") == () and index.fixes("russias") == ()
    assert is_common_word("the") and not is_common_word("santcions")
    assert zipf("the") > 7 and zipf("santcions") == 0.0
    assert index.fixes("putting") == ()  # common English, though one edit from nothing


def test_names_are_found_around_the_typo_with_their_score(index: Typos) -> None:
    assert found(index, "Vladimir Putn and new santcions") == [
        ("sanctions", "santcions", 88.9), ("vladimir putin", "vladimir putn", 92.3)]
    assert found(index, "Putn alone") == []  # 'putin' is only in a two-word name here


def test_short_and_ineligible_names_are_never_fuzzy() -> None:
    index = Typos(KEYS, [KEYS["sanctions"]])
    assert found(index, "Zelenskyy and santcions") == [("sanctions", "santcions", 88.9)]
    assert found(index, "Irán, Iraq") == []  # 'iran' has fewer than six letters


def test_the_cache_is_bounded_and_refills_the_same(index: Typos,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typos, "_FIX_CACHE_SIZE", 3)
    text = "santcions zxqwv qqxzw wvqzx xwqzv santcions"
    first = found(index, text)
    for _ in range(3):
        assert found(index, text) == first == [
            ("sanctions", "santcions", 88.9), ("sanctions", "santcions", 88.9)]
        # What a text teaches is forgotten at the next text once past the bound.
        assert len(index._skip) + len(index._fix_cache) <= len(index._vocab) + 3 + 6


def test_a_known_misspelling_is_looked_at_only_beside_the_rest_of_its_name(index: Typos) -> None:
    assert found(index, "Vladimir Putn") == [("vladimir putin", "vladimir putn", 92.3)]
    assert "putn" in index._lonely  # 'putin' is only ever the second word of a name
    assert found(index, "Putn alone") == [] and found(index, "Putn Vladimir") == []
    assert found(index, "so Vladimir Putn said") == [("vladimir putin", "vladimir putn", 92.3)]
    assert found(index, "new santcions") == [("sanctions", "santcions", 88.9)]
    assert "santcions" not in index._lonely  # 'sanctions' is a name by itself
