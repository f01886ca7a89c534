"""Text folding: the C folding (monitor._fold) gives exactly what the pure-Python reference
gives, haystack and offsets, on any text; the token set behaves as a set."""

from __future__ import annotations

import re
import shutil
import sysconfig
from array import array
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import normalize
from monitor.normalize import (
    candidate_tokens,
    fold,
    fold_text,
    fold_text_python,
    named_tokens,
    near,
    token_set,
)
from monitor.wordlists import _holds_python, lexicon
from tests.support import examples

needs_c = pytest.mark.skipif(not normalize.SPEEDUPS,
                             reason="monitor._fold is not built (no C compiler when installed)")

# What news text holds, and what trips a folder up: accents precomposed and combining,
# characters that fold to several (Ж ß € ½ ﬁ), to none (soft sign, combining marks), scripts
# written without spaces, characters beyond the BMP, every kind of space and line break.
ALPHABET = st.sampled_from(list(
    "abcXYZ019 .,;:'-_/\t\r\n\u00a0\u2019\u201c\u2014\u2026"
    "éÉüÜñçøØłŁđĐß"
    "e\u0301a\u0308\u0327"
    "ПутинЖЩьъЁё"
    "ΑθήναΣ"
    "€½ﬁ™№"
    "🌈🇷🇺👍🏽\u200d✓★©°Ⓐ"
    "普京访问越南ひらがなカタカナ한국어ไทย"
    "𝐀𝒷😀𠀀"
))
TEXTS = st.one_of(
    st.text(alphabet=ALPHABET, max_size=120),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=120),
)


def token_spans(hay: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[^ ]+", hay)]


def test_the_c_folding_is_built_where_there_is_a_compiler() -> None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): monitor runs its pure-Python folding")
    assert normalize.SPEEDUPS, "a C compiler is here but monitor._fold was not built: " \
        "reinstall with `pip install -e .` and read the build's output"


@needs_c
@settings(max_examples=examples(400), deadline=None)
@given(TEXTS)
def test_c_and_python_folding_agree(text: str) -> None:
    expected = fold_text_python(text)
    got = fold_text(text)
    assert got.hay == expected.hay
    for start, end in token_spans(got.hay):
        assert got.span(start, end) == expected.span(start, end), got.hay[start:end]
    assert fold(text) == " ".join(expected.hay.split())


def tokens_of(text: str) -> tuple[str, list[tuple[int, str]]]:
    """A text's haystack, and every token of it with its start."""
    hay = fold_text(text).hay
    return hay, [(m.start(), m.group()) for m in re.finditer(r"[^ ]+", hay)]


SMALL_SETS = st.lists(st.text(alphabet="abcd", min_size=1, max_size=4), max_size=8)


def on_small_sets(alphabet: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A C-and-Python test given 200 short texts of ``alphabet`` and two small token sets."""
    def wrap(test: Callable[..., None]) -> Callable[..., None]:
        inputs = given(st.text(alphabet=alphabet, max_size=40), SMALL_SETS, SMALL_SETS)
        return needs_c(settings(max_examples=examples(200), deadline=None)(inputs(test)))
    return wrap


@needs_c
@settings(max_examples=examples(200), deadline=None)
@given(TEXTS, st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=6), max_size=10),
       st.integers(1, 4), st.integers(3, 12))
def test_c_and_python_candidate_tokens_agree(text: str, skip: list[str], shortest: int,
                                             longest: int) -> None:
    hay, every = tokens_of(text)
    expected = [(at, token) for at, token in every if token not in skip
                and shortest <= len(token) <= longest and not token.isdigit()]
    assert candidate_tokens(hay, token_set(skip), shortest, longest) == expected
    assert candidate_tokens(hay, set(skip), shortest, longest) == expected  # the Python one


@needs_c
@settings(max_examples=examples(200), deadline=None)
@given(st.one_of(TEXTS, st.text(alphabet="aAbBéÉ Жж1.", max_size=60)),
       st.lists(st.text(alphabet="abez", min_size=2, max_size=2), max_size=6),
       st.lists(st.text(alphabet="abez", min_size=1, max_size=5), max_size=6))
def test_c_and_python_named_tokens_agree(text: str, heads: list[str], skip: list[str]) -> None:
    """The inflection pass's candidates: tokens beginning with a head, written capitalised."""
    c_folded, python_folded = fold_text(text), fold_text_python(text)
    expected = [(at, token) for at, token in tokens_of(text)[1]
                if token not in skip and 3 <= len(token) <= 6 and not token.isdigit()
                and token[:2] in heads
                and text[c_folded.span(at, at + len(token))[0]].isupper()]
    assert named_tokens(c_folded, token_set(skip), 3, 6, token_set(heads), 2) == expected
    assert named_tokens(python_folded, set(skip), 3, 6, set(heads), 2) == expected


@on_small_sets("abcd 1")
def test_candidate_tokens_near_keys_or_learnt_as_skipped(text: str, skip: list[str],
                                                       keys: list[str]) -> None:
    hay, every = tokens_of(text)
    tokens = [(at, token) for at, token in every
              if token not in skip and 2 <= len(token) <= 4 and not token.isdigit()]
    expected = [(at, token) for at, token in tokens if near(token, set(keys))]
    learnt = set(skip) | {token for _, token in tokens if not near(token, set(keys))}
    c_skip, python_skip = token_set(skip), set(skip)
    assert candidate_tokens(hay, c_skip, 2, 4, token_set(keys)) == expected
    assert candidate_tokens(hay, python_skip, 2, 4, set(keys)) == expected
    assert python_skip == learnt and len(c_skip) == len(learnt)
    assert all(token in c_skip for token in learnt)


@on_small_sets("abcd ")
def test_lonely_tokens_are_kept_only_in_company(text: str, lonely: list[str],
                                                company: list[str]) -> None:
    hay, every = tokens_of(text)
    words = [token for _, token in every]
    expected = [(at, token) for i, (at, token) in enumerate(every)
                if token not in lonely or (i and words[i - 1] in company)
                or (i + 1 < len(words) and words[i + 1] in company)]
    expected = [(at, token) for at, token in expected if len(token) <= 4]
    keys = [*words, "zz"]  # every token is near them
    c_found = candidate_tokens(hay, token_set(), 1, 4, token_set(keys),
                               (token_set(lonely), token_set(company)))
    python_found = candidate_tokens(hay, set(), 1, 4, set(keys), (set(lonely), set(company)))
    assert c_found == python_found == expected


@pytest.mark.parametrize("python", [False, True], ids=["c", "python"])
def test_offsets_of_multi_character_and_vanishing_folds(python: bool) -> None:
    if not python and not normalize.SPEEDUPS:
        pytest.skip("monitor._fold is not built")
    text = "Жуков,  Straße; Ко\u0301фе — 普京 ½"
    folded = fold_text_python(text) if python else fold_text(text)
    assert folded.hay == " zhukov strasse kofe 普京 1 2 "
    spans = {folded.hay[a:b]: folded.span(a, b) for a, b in token_spans(folded.hay)}
    assert {token: text[a:b] for token, (a, b) in spans.items()} == {
        "zhukov": "Жуков", "strasse": "Straße", "kofe": "Ко\u0301фе", "普京": "普京",
        "1": "½", "2": "½",
    }


@pytest.mark.parametrize("python", [False, True], ids=["c", "python"])
def test_symbols_and_emoji_never_fold_into_words(python: bool) -> None:
    if not python and not normalize.SPEEDUPS:
        pytest.skip("monitor._fold is not built")
    text = "I 🌈 NY: €5, 🇷🇺 team 👍🏽, ™ Ⓐ °C ✓done"
    folded = fold_text_python(text) if python else fold_text(text)
    assert folded.hay == " i ny 5 team c done "  # anyascii: rainbow, eur, ru, thumbsup, tm, a
    assert fold("🌈") == "" and fold("Ⓐ★") == ""


@pytest.mark.parametrize("text", ["", " ", "...", "\u0301", "a"])
def test_edge_texts(text: str) -> None:
    assert fold_text(text).hay == fold_text_python(text).hay


@needs_c
def test_token_set_is_a_set_of_tokens() -> None:
    tokens = token_set(["putin", "lavrov"])
    assert "putin" in tokens and "lavro" not in tokens and 42 not in tokens
    tokens.add("putin")
    tokens.add("普京")
    assert len(tokens) == 3 and "普京" in tokens
    many = token_set(f"t{i}" for i in range(20_000))  # grows past its first table
    assert len(many) == 20_000 and all(f"t{i}" in many for i in range(0, 20_000, 7))
    assert "t20000" not in many
    assert near("tx19999", many) and not near("tx20000", many)  # the bloom filter, grown too
    unset = type(many).__new__(type(many))  # a table before __init__, never a crash
    assert "t1" not in unset and len(unset) == 0
    with pytest.raises(TypeError):
        tokens.add(3)  # type: ignore[arg-type]
    hay = fold_text("Putin met Lavrov and Shoigu, and Shoigu left; 2024 x").hay
    assert candidate_tokens(hay, tokens, 3, 10) == [
        (7, "met"), (18, "and"), (22, "shoigu"), (29, "and"), (33, "shoigu"), (40, "left")]


@needs_c
@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet="abcé普", max_size=6),
       st.lists(st.text(alphabet="abcé普", max_size=5), max_size=12))
def test_c_and_python_near_agree(token: str, keys: list[str]) -> None:
    python = token in keys or any(token[:i] + token[i + 1:] in keys for i in range(len(token)))
    assert near(token, token_set(keys)) == python
    assert near(token, set(keys)) == python  # the Python one


def test_near_is_the_token_or_one_deletion_of_it() -> None:
    keys = token_set(["sanctions", "snctions", "putn", "普京"])
    assert near("sanctions", keys) and near("santcions", keys) is False
    assert near("snactions", keys) and near("sanctioms", keys) is False  # snctions; none
    assert near("putin", keys) and near("puttn", keys) and near("普京x", keys)
    assert not near("put", keys) and not near("", keys)


@needs_c
@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 40)), max_size=300),
       st.lists(st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 40)), max_size=30))
def test_c_and_python_sorted_hash_lookups_agree(hashes: list[int], probes: list[int]) -> None:
    """The word lists' lookups (monitor.wordlists): interpolation then bisection in C."""
    from monitor._fold import holds

    table = array("Q", sorted(hashes))
    for value in [*probes, *hashes, *(h + 1 for h in hashes if h < 2**64 - 1)]:
        assert holds(table, value) == _holds_python(table, value) == (value in hashes)


def test_word_list_lookups_in_c_agree_with_bisection() -> None:
    """On the real lists, a word and a hash beside each of many."""
    if not normalize.SPEEDUPS:
        pytest.skip("monitor._fold is not built")
    from monitor._fold import holds

    known = lexicon().known
    sample = [*known[::997], *(h + 1 for h in known[::1009]), *(h - 1 for h in known[::1013])]
    assert [holds(known, h) for h in sample] == [_holds_python(known, h) for h in sample]
    assert lexicon().is_known("putin") and not lexicon().is_known("zzqxjv")
