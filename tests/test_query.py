"""The query language (monitor.query): parsing and its errors, evaluation of every operator
over fixtures with the real matcher, static checks, and the full-text index translations
checked against real SQLite FTS5 and PostgreSQL tables (candidates ⊇ exact matches)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import UsageError
from monitor.match import Matcher, Mention
from monitor.normalize import fold
from monitor.query import (
    Document,
    EntryIndex,
    EntryInfo,
    MetaFilter,
    Query,
    QueryError,
    check_query,
    index_text,
    parse,
    parse_query,
    render,
    rule_problem,
    search_plan,
    sentence_bounds,
)
from monitor.query.check import check_rule
from monitor.query.nodes import (
    And,
    EntryRef,
    KindRef,
    Meta,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Scope,
    Term,
    Title,
    and_,
    or_,
    walk,
)
from monitor.query.ruleset import QuerySet, requirements
from monitor.watchlist import Watchlist
from tests.support import watchlist_from_yaml

# --- parsing: the precedence table ---------------------------------------------------------


def t(word: str) -> Term:
    return Term(tuple(fold(word).split()), word)


@pytest.mark.parametrize(("query", "tree"), [
    ("a b OR c", Or((And((t("a"), t("b"))), t("c")))),
    ("a OR b c", Or((t("a"), And((t("b"), t("c")))))),
    ("a AND b OR c AND d", Or((And((t("a"), t("b"))), And((t("c"), t("d")))))),
    ("a (b OR c)", And((t("a"), Or((t("b"), t("c")))))),
    ("NOT a b", And((Not(t("a")), t("b")))),
    ("NOT a NEAR/5 b", Not(Near(t("a"), t("b"), 5))),
    ("NOT NOT a", Not(Not(t("a")))),
    ("a NEAR/5 b NEAR/3 c", Near(Near(t("a"), t("b"), 5), t("c"), 3)),
    ("a NEAR/5 (b NEAR/3 c)", Near(t("a"), Near(t("b"), t("c"), 3), 5)),
    ("a NEAR/2 b AND c", And((Near(t("a"), t("b"), 2), t("c")))),
    ("(a OR b) NEAR/30 (c OR d)", Near(Or((t("a"), t("b"))), Or((t("c"), t("d"))), 30)),
    ("a or b and not c", And(tuple(map(t, ("a", "or", "b", "and", "not", "c"))))),
    ("ANDROID NOTE", And((t("android"), t("note")))),
    ("a AND (b AND c)", And((t("a"), t("b"), t("c")))),
    ("title:(x y) z", And((Title(And((t("x"), t("y")))), t("z")))),
    ("title:x y", And((Title(t("x")), t("y")))),
    ("SENTENCE(a NOT b)", Scope("sentence", And((t("a"), Not(t("b")))))),
    ("PARAGRAPH(a) OR b", Or((Scope("paragraph", t("a")), t("b")))),
    ('"Military  Cooperation"', Phrase(("military", "cooperation"))),
    ("sanction*", Prefix("sanction")),
    ("Путин", t("putin")),
    ("U.S.", Term(("u", "s"))),
    ("@Putin @desk/kim-jong-un", And((EntryRef("putin"), EntryRef("kim-jong-un", "desk")))),
    ("kind:Treaty", KindRef("treaty")),
    ('lang:EN country:ru feed:"BBC World" feed:12',
     And((Meta("lang", "en"), Meta("country", "RU"), Meta("feed", "BBC World"),
          Meta("feed", "12")))),
])
def test_precedence_and_shapes(query: str, tree: Node) -> None:
    assert parse(query) == tree
    assert parse(render(tree)) == tree


def test_render_is_canonical() -> None:
    assert render(parse("a b OR (c OR d)")) == "a AND b OR c OR d"
    assert render(parse("(a OR b) NEAR/3 c d")) == "(a OR b) NEAR/3 c AND d"
    assert render(parse("NOT (a b)")) == "NOT (a AND b)"
    assert render(parse('Путин "Tô Lâm" U.S. Sanction*'), folded=True) == (
        'putin AND "to lam" AND u-s AND sanction*')


# --- parsing: errors say where and what --------------------------------------------------


@pytest.mark.parametrize(("query", "message"), [
    ("(@putin OR (@kim", "col 17: expected ')' after \"(@kim\""),
    ("(a OR b", "col 8: expected ')' after \"b\""),
    ("a)", "col 2: ')' has no '(' to close"),
    ("a AND", "col 6: expected a word, \"phrase\", @entry or '(' after \"a AND\""),
    ("a OR OR b", "col 6: expected a word, \"phrase\", @entry or '(' after \"a OR\", not 'OR'"),
    ("AND a", "col 1: 'AND' needs something to its left"),
    ("OR", "col 1: 'OR' needs something to its left"),
    ("NOT", "col 4: expected a word, \"phrase\", @entry or '(' after \"NOT\""),
    ("x NEAR/5", "col 9: expected a word, \"phrase\", @entry or '(' after \"x NEAR/5\""),
    ("x NEAR/5 NOT y",
     "col 10: expected a word, \"phrase\", @entry or '(' after \"x NEAR/5\", not 'NOT'"),
    ("()", "col 2: expected a word, \"phrase\", @entry or '(' after \"(\", not ')'"),
    ('""', 'col 1: empty quotes ""'),
    ('a "  "', 'col 3: empty quotes ""'),
    ('"abc', "col 1: the quote '\"' is never closed"),
    ('"!!"', 'col 1: "!!" has no letters or digits to search for'),
    ('"sanction*"', 'col 1: "sanction*": a wildcard does not work inside quotes'),
    ("x NEAR/0 y", "col 3: NEAR/0: the distance must be at least 1 word "
                   "(NEAR/1: next to each other)"),
    ("x NEAR/x y", "col 3: NEAR/x: the distance is a number of words, as in NEAR/5"),
    ("x NEAR/ y", "col 3: NEAR/: the distance is a number of words, as in NEAR/5"),
    ("x NEAR y", "col 3: 'NEAR': write NEAR/n in capitals with a distance in words, as in "
                 "NEAR/5 (quote it to search for the word)"),
    ("x near/3 y", "col 3: 'near/3': write NEAR/n in capitals with a distance in words, as in "
                   "NEAR/5 (quote it to search for the word)"),
    ("(a AND b) NEAR/5 c",
     "col 2: NEAR/5 measures between words, phrases, @entries, kind: or OR-groups of them, "
     "not 'a AND b'; put AND, NOT, lang:, country:, feed: and scopes outside it"),
    ("a NEAR/5 lang:en", "col 10: NEAR/5 measures between words, phrases, @entries, kind: or "
     "OR-groups of them, not 'lang:en'; put AND, NOT, lang:, country:, feed: and scopes "
     "outside it"),
    ("foo:bar", "col 1: unknown field 'foo:'; the fields are title:, kind:, lang:, country:, "
                "feed:"),
    ("tilte:x", "col 1: unknown field 'tilte:' (did you mean 'title:'?); the fields are "
                "title:, kind:, lang:, country:, feed:"),
    ("title:", "col 7: expected a word, \"phrase\", @entry or '(' after \"title:\""),
    ("title:lang:en", "col 1: title: applies to words, phrases, @entries, kind: or a group of "
                      "them, not to lang:, country: or feed:"),
    ("lang:(en OR ru)", "col 1: lang: takes one value, as in lang:x or lang:\"two words\"; "
                        "for several, (lang:x OR lang:y)"),
    ("lang:english", "col 1: lang:english: a language code, as in lang:en or lang:pt-br"),
    ("10:30", "col 3: ':' only follows a field name (title:, lang:, country:, feed:, kind:); "
              "to search for '10:30', put it in quotes"),
    ("fo*o", "col 1: 'fo*o': a wildcard '*' goes at the end of a word, as in sanction*"),
    ("*", "col 1: '*' has no letters or digits to search for"),
    ("a &", "col 3: '&' has no letters or digits to search for"),
    ("U.S*", "col 1: 'U.S*': a wildcard applies to one word; put the words before it in a "
             "phrase"),
    ("sanctions -tourism", "col 11: '-tourism': '-' is not an operator here; write NOT "
                           "tourism"),
    ("@", "col 1: '@': an entry reference is @id or @watchlist/id, as in @putin or "
          "@russia-asia-diplomacy/putin"),
    ("@desk/", "col 1: '@desk/': an entry reference is @id or @watchlist/id, as in @putin or "
               "@russia-asia-diplomacy/putin"),
    ("sentence(a b)", "col 1: write SENTENCE( in capitals for a sentence scope (quote "
                      "'sentence' to search for the word)"),
    ("SENTENCE a", "col 10: expected '(' after \"SENTENCE\", not 'a'"),
    ("   ", "col 1: the query is empty"),
])
def test_errors_point_at_the_place(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert str(caught.value) == message
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2
    assert caught.value.column == int(message.split(":")[0].split()[1])


def test_rule_problem_names_file_line_rule_and_column() -> None:
    with pytest.raises(QueryError) as caught:
        parse("(@putin OR (@kim")
    problem = rule_problem("watchlists/desk.yaml", 14, "ru-dprk-arms", caught.value)
    assert str(problem) == ("watchlists/desk.yaml:14: rule 'ru-dprk-arms': col 17: "
                            "expected ')' after \"(@kim\"")


# --- random queries: the canonical text parses back ----------------------------------------

VOCAB = ("putin", "kim", "treaty", "arms", "vietnam", "the", "and", "Путин", "Tô", "US",
         "sanctions", "weapons", "or")
PHRASES = ("military cooperation", "New START", "kim jong un", "the arms")
STEMS = ("sanction", "weap", "vi", "a")


def _term(word: str) -> Term:
    return Term(tuple(fold(word).split()), word)


positional_leaf = st.one_of(
    st.sampled_from(VOCAB).map(_term),
    st.sampled_from(PHRASES).map(lambda p: Phrase(tuple(fold(p).split()), p)),
    st.sampled_from(STEMS).map(lambda s: Prefix(fold(s), s)),
    st.sampled_from(("putin", "kim-jong-un", "usa", "russia")).map(EntryRef),
    st.sampled_from(("desk",)).map(lambda w: EntryRef("north-korea", w)),
    st.sampled_from(("treaty", "country")).map(KindRef),
)


def _near(pair: tuple[Node, Node], distance: int) -> Node:
    return Near(pair[0], pair[1], distance)


positional = st.recursive(positional_leaf, lambda inner: st.one_of(
    st.lists(inner, min_size=2, max_size=3).map(or_),
    st.builds(_near, st.tuples(inner, inner), st.integers(1, 12)),
    inner.map(Title),
), max_leaves=6)

meta = st.one_of(
    st.sampled_from(("en", "ru", "pt-br")).map(lambda v: Meta("lang", v)),
    st.sampled_from(("RU", "KP")).map(lambda v: Meta("country", v)),
    st.sampled_from(("BBC World", "7")).map(lambda v: Meta("feed", v)),
)


def _no_meta(node: Node) -> bool:
    return not any(isinstance(n, Meta) for n in walk(node))


queries = st.recursive(st.one_of(positional, meta), lambda inner: st.one_of(
    st.lists(inner, min_size=2, max_size=3).map(and_),
    st.lists(inner, min_size=2, max_size=3).map(or_),
    inner.map(Not),
    inner.filter(_no_meta).map(Title),
    st.builds(Scope, st.sampled_from(("sentence", "paragraph")), inner),
), max_leaves=8)

DERANDOMIZED = settings(derandomize=True, max_examples=150, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow])


@DERANDOMIZED
@given(queries)
def test_parse_of_render_is_the_tree(tree: Node) -> None:
    assert parse(render(tree)) == tree


# --- evaluation: fixtures ------------------------------------------------------------------

DESK = """\
watchlist: desk
entries:
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin]}
  - {id: kim-jong-un, kind: actor, name: Kim Jong Un, aliases: [Kim Jong-un]}
  - {id: russia, kind: country, name: Russia, country: RU}
  - {id: north-korea, kind: country, name: North Korea, country: KP}
  - {id: usa, kind: country, name: United States, aliases: [US], country: US}
  - {id: new-start, kind: treaty, name: New START, aliases: [New START treaty]}
"""
OTHER = """\
watchlist: other
entries:
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin]}
  - {id: lavrov, kind: actor, name: Sergei Lavrov, aliases: [Lavrov]}
"""

ARTICLE_TITLE = "Putin meets Kim in Pyongyang"
ARTICLE = (
    "Vladimir Putin arrived in Pyongyang on Tuesday. Kim Jong Un greeted him at the airport.\n"
    "The two leaders discussed military cooperation and weapons deliveries.\n"
    "Analysts in the U.S. said the New START treaty was not discussed. Sanctions remain."
)


@pytest.fixture(scope="module")
def desk() -> list[Watchlist]:
    return [watchlist_from_yaml(DESK, "watchlists/desk.yaml")]


@pytest.fixture(scope="module")
def matcher(desk: list[Watchlist]) -> Matcher:
    return Matcher(desk)


def make(matcher: Matcher, text: str, title: str | None = None, *, lang: str | None = None,
         country: str | None = None, feeds: Sequence[str] = ()) -> Document:
    """A Document as the pipeline would build it: the matcher run once over title + text."""
    mentions = matcher.match(Document.of(title, text).text)
    return Document.of(title, text, mentions=mentions, lang=lang, country=country, feeds=feeds)


def holds(query: str, doc: Document) -> bool:
    q = parse_query(query)
    result = q.evaluate(doc)
    assert q.matches(doc) == result.matched == q.explain(doc).matched, query
    return result.matched


def words(doc: Document, query: str) -> list[str]:
    return [doc.text[s:e] for s, e in parse_query(query).evaluate(doc).spans]


# --- evaluation, one operator at a time ------------------------------------------------------


def test_words_fold_and_respect_word_boundaries(matcher: Matcher) -> None:
    doc = make(matcher, "Путин met Tô Lâm; sanctions on Müller's firm, and the U.S.")
    assert holds("putin", doc) and holds("ПУТИН", doc)
    assert holds('"to lam"', doc) and holds('"Tô Lâm"', doc)
    assert holds("muller", doc) and holds("MÜLLER", doc)
    assert holds("sanctions", doc) and not holds("sanction", doc) and not holds("anctions", doc)
    assert holds("U.S.", doc) and holds('"u s"', doc) and not holds('"s u"', doc)
    assert words(doc, "putin") == ["Путин"]
    assert words(doc, "Tô") == ["Tô"]


def test_phrases_are_consecutive_words_in_order(matcher: Matcher) -> None:
    doc = make(matcher, ARTICLE)
    assert holds('"military cooperation"', doc)
    assert not holds('"cooperation military"', doc)
    assert not holds('"military weapons"', doc)
    assert words(doc, '"Military Cooperation"') == ["military cooperation"]


def test_prefix_wildcard(matcher: Matcher) -> None:
    doc = make(matcher, ARTICLE)
    assert words(doc, "sanction*") == ["Sanctions"]
    assert words(doc, "discuss*") == ["discussed", "discussed"]
    assert not holds("sanctionz*", doc)
    assert holds("sanctions*", doc)  # the whole word is a prefix of itself


def test_entry_references_inherit_the_matchers_care(matcher: Matcher) -> None:
    doc = make(matcher, "Vladimir Puttin said that Путин will go. Let us wait for the U.S. reply.")
    assert words(doc, "@putin") == ["Vladimir Puttin", "Путин"]  # a typo, a script
    assert words(doc, "@desk/putin") == ["Vladimir Puttin", "Путин"]
    assert not holds("@other/putin", doc)
    assert words(doc, "@usa") == ["U.S."]  # "us" is not the US: the matcher's case rule
    assert holds("us", doc)  # ... while the word is just a word
    assert not holds("@kim-jong-un", doc)


def test_kind_is_any_mention_of_that_kind(matcher: Matcher) -> None:
    doc = make(matcher, ARTICLE, ARTICLE_TITLE)
    assert words(doc, "kind:treaty") == ["New START treaty"]
    assert set(words(doc, "kind:country")) == {"U.S."}
    assert not holds("kind:organization", doc)


def test_and_or_not_and_implicit_and(matcher: Matcher) -> None:
    doc = make(matcher, ARTICLE, ARTICLE_TITLE)
    assert holds("@putin AND @kim-jong-un", doc) and holds("@putin @kim-jong-un", doc)
    assert not holds("@putin lavrov", doc)
    assert holds("lavrov OR weapons", doc) and not holds("lavrov OR tourism", doc)
    assert holds("@putin NOT tourism", doc) and not holds("@putin NOT weapons", doc)
    assert holds("NOT tourism", doc) and not holds("NOT NOT tourism", doc)
    assert holds("tourism OR (weapons AND NOT lavrov)", doc)
    assert words(doc, "weapons OR lavrov OR military") == ["military", "weapons"]


def test_near_within_n_words_either_order(matcher: Matcher) -> None:
    doc = make(matcher, "alpha beta gamma delta epsilon. Zeta eta.")
    assert holds("alpha NEAR/1 beta", doc) and holds("beta NEAR/1 alpha", doc)
    assert not holds("alpha NEAR/1 gamma", doc) and holds("alpha NEAR/2 gamma", doc)
    assert holds("gamma NEAR/2 alpha", doc)
    assert holds("epsilon NEAR/1 zeta", doc)  # words, not sentences: see SENTENCE
    assert holds('"alpha beta" NEAR/1 gamma', doc)  # measured from the phrase's ends
    assert holds('alpha NEAR/3 "delta epsilon"', doc) and not holds(
        'alpha NEAR/2 "delta epsilon"', doc)
    assert holds("alph* NEAR/4 epsilon", doc) and not holds("alph* NEAR/3 epsilon", doc)
    assert words(doc, "alpha NEAR/2 gamma") == ["alpha", "gamma"]


def test_near_needs_two_places(matcher: Matcher) -> None:
    once = make(matcher, "Putin spoke.")
    twice = make(matcher, "Putin spoke, and Putin left.")
    assert not holds("putin NEAR/5 putin", once) and holds("putin NEAR/5 putin", twice)
    assert not holds("@putin NEAR/5 putin", once)  # one place is not near itself


def test_near_of_groups_holds_for_any_pair(matcher: Matcher) -> None:
    query = "(@putin OR @russia) NEAR/5 (@north-korea OR @kim-jong-un)"
    assert holds(query, make(matcher, "Kim Jong Un thanked Russia for the grain."))
    assert holds(query, make(matcher, "North Korea hosted Putin."))
    far = "Putin spoke first; " + "many other things happened later on; " * 3 + "Kim Jong Un"
    assert not holds(query, make(matcher, far))
    assert words(make(matcher, "Kim Jong Un thanked Russia, said Putin"), query) == [
        "Kim Jong Un", "Russia", "Putin"]


def test_near_chains_to_the_pair(matcher: Matcher) -> None:
    doc = make(matcher, "alpha beta x x x gamma")
    assert holds("alpha NEAR/1 beta NEAR/4 gamma", doc)  # gamma within 4 of the pair's end
    assert not holds("alpha NEAR/1 beta NEAR/3 gamma", doc)
    assert not holds("alpha NEAR/1 gamma NEAR/9 beta", doc)


def test_sentence_scope(matcher: Matcher) -> None:
    doc = make(matcher, ARTICLE, ARTICLE_TITLE)
    assert holds("SENTENCE(@putin pyongyang)", doc)
    assert not holds("SENTENCE(@putin weapons)", doc)  # both there, never in one sentence
    assert holds("@putin weapons", doc)
    # "U.S." and "Mr." do not end a sentence; "said the" continues it
    assert holds("SENTENCE(analysts kind:treaty)", doc)
    assert holds("SENTENCE(airport NOT @putin)", doc)  # the second sentence has no Putin
    assert not holds("SENTENCE(pyongyang NOT @putin NOT kim)", doc)
    assert words(doc, "SENTENCE(@kim-jong-un airport)") == ["Kim Jong Un", "airport"]


def test_paragraph_scope(matcher: Matcher) -> None:
    doc = make(matcher, ARTICLE, ARTICLE_TITLE)
    assert holds("PARAGRAPH(@putin airport)", doc)  # one line, two sentences
    assert not holds("SENTENCE(@putin airport)", doc)
    assert not holds("PARAGRAPH(@putin weapons)", doc)
    assert holds("PARAGRAPH(pyongyang NOT airport)", doc)  # the title is a paragraph


def test_sentence_splitter() -> None:
    text = ("Mr. Smith met Gen. Lee in the U.S. on Jan. 5. He left! Then? \"Done.\" "
            "e.g. this. 普京访问越南。他说。\nNew line")
    pieces = [text[s:e].strip() for s, e in sentence_bounds(text)]
    assert pieces == ["Mr. Smith met Gen. Lee in the U.S. on Jan. 5.", "He left!", "Then?",
                      "\"Done.\" e.g. this.", "普京访问越南。", "他说。", "New line"]


def test_title_field(matcher: Matcher) -> None:
    doc = make(matcher, ARTICLE, ARTICLE_TITLE)
    assert holds("title:@putin", doc) and holds("title:pyongyang", doc)
    assert not holds("title:weapons", doc) and holds("weapons", doc)
    assert holds("title:(meets NOT weapons)", doc)
    assert holds('title:"meets kim"', doc)
    assert words(doc, "title:@putin") == ["Putin"]  # the title's, not the text's
    assert not holds("title:putin", make(matcher, ARTICLE))  # no title
    # the title is what the text starts with when the pipeline did not prepend it
    same = make(matcher, ARTICLE_TITLE + ". " + ARTICLE, ARTICLE_TITLE)
    assert same.text.startswith(ARTICLE_TITLE + ". ")
    assert holds("title:kim", same) and not holds("title:tuesday", same)


def test_metadata_fields(matcher: Matcher) -> None:
    doc = make(matcher, ARTICLE, lang="en-GB", country="gb", feeds=["BBC World", "7"])
    assert holds("lang:en weapons", doc) and holds("lang:en-gb weapons", doc)
    assert not holds("lang:en-us weapons", doc) and not holds("lang:ru weapons", doc)
    assert holds("country:GB", doc) and holds("country:gb", doc) and not holds("country:RU", doc)
    assert holds('feed:"bbc world"', doc) and holds("feed:7", doc) and not holds("feed:8", doc)
    assert holds("weapons NOT lang:ru", doc)
    assert words(doc, "lang:en weapons") == ["weapons"]


def test_the_issues_rule(matcher: Matcher) -> None:
    rule = parse_query('(@putin OR @russia) NEAR/30 (@north-korea OR @kim-jong-un) AND '
                       '(weapons OR munitions OR "military cooperation")')
    doc = make(matcher, ARTICLE, ARTICLE_TITLE)
    result = rule.evaluate(doc)
    assert result.matched
    assert [doc.text[s:e] for s, e in result.spans] == [
        "Putin", "Vladimir Putin", "Kim Jong Un", "military cooperation", "weapons"]
    assert not rule.matches(make(matcher, "Putin met Kim Jong Un. They discussed grain."))


def test_explain_shows_each_clause_where_it_matched(matcher: Matcher) -> None:
    doc = make(matcher, ARTICLE, ARTICLE_TITLE)
    tree = parse_query("SENTENCE(@putin weapons) OR (@kim-jong-un NEAR/5 airport)").explain(doc)
    assert tree.matched
    scope, near = tree.children
    assert not scope.matched and scope.note == "never within one sentence"
    assert scope.children[0].matched  # both are in the text, apart
    assert near.matched and [doc.text[s:e] for s, e in near.spans] == ["Kim Jong Un", "airport"]
    lines = tree.lines(doc.text)
    assert lines[0].startswith("✓ SENTENCE(@putin AND weapons) OR @kim-jong-un NEAR/5 airport")
    assert any("✗ SENTENCE(@putin AND weapons)" in line for line in lines)
    assert tree.to_dict()["children"][1]["spans"] == [list(s) for s in near.spans]


def test_canonical_text_is_one_per_meaning() -> None:
    assert parse_query("Putin  AND   treaty").canonical == parse_query("putin treaty").canonical
    assert parse_query("Putin OR treaty").canonical != parse_query("putin treaty").canonical


def test_document_is_the_pipelines() -> None:
    from monitor.ingest import document

    for title, text in [(None, "body"), ("T", "body"), ("Title", "Title. body"), ("", "x")]:
        doc = Document.of(title, text)
        assert (doc.text, doc.title_end if doc.title_end else 0) == (
            document(title, text)[0], len(title) if title else 0)


texts = st.lists(st.one_of(st.sampled_from(VOCAB + PHRASES + ("Vladimir Putin", "Kim Jong Un",
                                                              "Russia", "North Korea", "U.S.")),
                           st.sampled_from((". ", "\n", ", ", "! ", "\n\n", " "))),
                 max_size=40).map(" ".join)


@DERANDOMIZED
@given(tree=queries, text=st.one_of(texts, st.text(max_size=200)),
       spans=st.lists(st.tuples(st.integers(0, 220), st.integers(0, 30)), max_size=4))
def test_evaluation_never_raises(tree: Node, text: str,
                                 spans: list[tuple[int, int]]) -> None:
    mentions = [Mention("desk", "putin", "actor", "Vladimir Putin", text[s:s + n], s,
                        min(len(text), s + n), 100.0, "Putin")
                for s, n in spans if s + 1 <= len(text)]
    doc = Document(text, title_end=min(10, len(text)), mentions=mentions, lang="en")
    query = Query(render(tree), tree)
    result = query.evaluate(doc)
    assert result.matched == query.matches(doc) == query.explain(doc).matched
    assert all(0 <= s < e <= len(text) for s, e in result.spans)
    query.explain(doc).lines(text)


# --- static checks -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def entries(desk: list[Watchlist]) -> EntryIndex:
    return EntryIndex.from_watchlists(desk)


def problems(query: str, entries: EntryIndex | None) -> list[tuple[int, str, str]]:
    return [(p.column, p.code, p.message) for p in check_query(parse_query(query), entries)]


def test_unknown_entries_with_did_you_mean(entries: EntryIndex) -> None:
    assert problems("@putin AND @kim-jon-un", entries) == [
        (12, "unknown-entry", "unknown entry '@kim-jon-un' (did you mean '@kim-jong-un'?)")]
    assert problems("@desk/rusia", entries) == [
        (1, "unknown-entry", "no entry 'rusia' in watchlist 'desk' (did you mean "
                             "'@desk/russia'?)")]
    assert problems("@dsk/russia", entries) == [
        (1, "unknown-watchlist", "no watchlist 'dsk' in '@dsk/russia' (did you mean 'desk'?)")]
    assert problems("@desk/putin @usa", entries) == []
    assert problems("@lavrov", None) == []  # no watchlists given: not checked


def test_an_id_in_several_watchlists_must_be_qualified(desk: list[Watchlist]) -> None:
    both = EntryIndex.from_watchlists([*desk, watchlist_from_yaml(OTHER, "other.yaml")])
    assert problems("treaty @putin", both) == [
        (8, "ambiguous-entry", "'@putin' is in watchlists desk, other; say which: "
                               "@desk/putin or @other/putin")]
    assert problems("@other/putin @lavrov", both) == []


def test_kinds_and_countries(entries: EntryIndex) -> None:
    assert problems("kind:tretay", entries) == [
        (1, "unknown-kind", "unknown kind 'tretay' (did you mean 'treaty'?); the kinds are "
                            "actor, country, organization, treaty, topic, place, vessel, "
                            "aircraft, other")]
    assert problems("kind:topic", entries) == [
        (1, "never", "no watchlist entry has kind 'topic': kind:topic can never match")]
    assert problems("x country:XX", entries) == [
        (3, "bad-country", "country:XX is not an ISO 3166 country code (e.g. RU, KP, VN)")]


def test_rules_that_can_never_match_or_match_everything() -> None:
    assert problems("NOT x", None) == [
        (1, "only-not", "the query holds without any word or @entry, through NOT alone: it "
                        "matches every article that lacks what NOT excludes; add what to look "
                        "for")]
    assert [p[1] for p in problems("NOT x NOT y", None)] == ["only-not"]
    assert [p[1] for p in problems("x OR NOT y", None)] == ["only-not"]
    assert [p[1] for p in problems("lang:en", None)] == ["no-words"]
    assert problems("x AND y AND NOT X", None) == [
        (13, "never", "can never match: 'X' is both required and excluded")]
    assert problems("x lang:en lang:ru", None) == [
        (11, "never", "can never match: an article has one lang, not both en and ru")]
    assert problems("x lang:en lang:en-gb", None) == []
    assert problems("a* OR treaty", None) == [
        (1, "short-prefix", "'a*' matches almost every text: give at least 2 letters before "
                            "'*'")]
    assert problems("x NOT y", None) == [] and problems("SENTENCE(x NOT y)", None) == []


def test_lowercase_operators_are_words_and_said_so() -> None:
    found = check_query(parse_query("putin or kim"))
    assert [(p.column, p.code, p.severity) for p in found] == [(7, "operator-word", "warning")]
    assert str(found[0]) == ("col 7: 'or' is searched for as a word; the operator is OR, in "
                             "capitals (quote it to keep it a word)")
    assert check_query(parse_query('putin "or" kim')) == []


def test_check_rule_gives_file_problems(entries: EntryIndex) -> None:
    found = check_rule("watchlists/desk.yaml", 14, "ru-dprk-arms", "(@putin OR (@kim", entries)
    assert [str(p) for p in found] == [
        "watchlists/desk.yaml:14: rule 'ru-dprk-arms': col 17: expected ')' after \"(@kim\""]
    found = check_rule("w.yaml", 3, "r", "@kim OR putin or x", entries)
    assert [str(p) for p in found] == [
        "w.yaml:3: rule 'r': col 1: unknown entry '@kim' (did you mean '@kim-jong-un'?)",
        "w.yaml:3: rule 'r': col 15: 'or' is searched for as a word; the operator is OR, in "
        "capitals (quote it to keep it a word) (warning)"]


# --- search: translations ------------------------------------------------------------------


SMALL = EntryIndex([
    EntryInfo("desk", "putin", "actor", ("Vladimir Putin", "Putin", "Путин", "普京")),
    EntryInfo("desk", "usa", "country", ("United States", "US")),
    EntryInfo("desk", "new-start", "treaty", ("New START",)),
])


@pytest.mark.parametrize(("query", "fts5", "tsquery"), [
    ("sanctions", '"sanctions"', "'sanctions'"),
    ("Sanctions Путин", '("sanctions" AND "putin")', "('sanctions' & 'putin')"),
    ('"military cooperation"', '"military cooperation"', "('military' <-> 'cooperation')"),
    ("sanction*", '"sanction"*', "'sanction':*"),
    ("a OR b", '("a" OR "b")', "('a' | 'b')"),
    ("x NOT y", '(("x") NOT ("y"))', "('x' & !'y')"),
    ("x NOT y NOT (z w)", '(("x") NOT ("y" OR ("z" AND "w")))', "('x' & !'y' & !('z' & 'w'))"),
    ("x NOT @putin", '"x"', "'x'"),  # the matcher may refuse a name: no exact NOT
    ("x NOT (y NOT z)", '(("x") NOT (("y") NOT ("z")))', "('x' & !('y' & !'z'))"),
    ("x OR NOT y AND z", '("x" OR (("z") NOT ("y")))', "('x' | ('z' & !'y'))"),
    ("x NOT NOT y", '("x" AND "y")', "('x' & 'y')"),
    ("a NEAR/5 b", 'NEAR("a" "b", 4)', "('a' & 'b')"),
    ('"a b" NEAR/1 cc*', 'NEAR("a b" "cc"*, 0)', "(('a' <-> 'b') & 'cc':*)"),
    ("(a OR b) NEAR/5 c", '(("a" OR "b") AND "c")', "(('a' | 'b') & 'c')"),
    ("SENTENCE(a NOT b)", '"a"', "'a'"),
    ("title:(a NOT b)", '((title : "a") NOT (title : "b"))', "('a':A & !'b':A)"),
    ('title:"a b"', 'title : "a b"', "('a':A <-> 'b':A)"),
    ("title:ab* c", '(title : "ab"* AND "c")', "('ab':*A & 'c')"),
    ("title:a NEAR/3 title:b", 'title : NEAR("a" "b", 2)', "('a':A & 'b':A)"),
    ("@putin", '("putin" OR "vladimir putin")', "('putin' | ('vladimir' <-> 'putin'))"),
    ("@usa x", '(("u s" OR "united states" OR "us") AND "x")',
     "((('u' <-> 's') | ('united' <-> 'states') | 'us') & 'x')"),
    ("kind:treaty", '"new start"', "('new' <-> 'start')"),
    ("x lang:en", '"x"', "'x'"),
    ("x a*", '"x"', "'x'"),  # a one-letter wildcard filters nothing; x does
    ("x 普京", '"x"', "'x'"),
])
def test_translations(query: str, fts5: str, tsquery: str) -> None:
    plan = search_plan(parse_query(query), SMALL)
    assert (plan.fts5, plan.tsquery) == (fts5, tsquery)


def test_metadata_becomes_separate_filters() -> None:
    plan = search_plan(parse_query('x lang:en (country:RU OR country:KP) NOT feed:"BBC World" '
                                   "(lang:ru OR y)"), SMALL)
    assert plan.filters == (MetaFilter("lang", ("en",)), MetaFilter("country", ("RU", "KP")),
                            MetaFilter("feed", ("BBC World",), exclude=True))
    assert plan.fts5 == '"x"'


@pytest.mark.parametrize(("query", "message"), [
    ("NOT x", "col 1: the full-text index cannot serve this query: the index finds words, "
              "not their absence, and this query holds without any word; add a word or @entry "
              "to look for"),
    ("NOT x NOT y lang:en", "col 1: the full-text index cannot serve this query: the index "
     "finds words, not their absence, and this query holds without any word; add a word or "
     "@entry to look for"),
    ("lang:en", "col 1: the full-text index cannot serve this query: lang:, country: and "
                "feed: only narrow a search; add a word or @entry to look for"),
    ("a*", "col 1: the full-text index cannot serve this query: a one-letter wildcard ('a*') "
           "matches almost every word; give at least 2 letters"),
    ("x OR b*", "col 6: the full-text index cannot serve this query: a one-letter wildcard "
                "('b*') matches almost every word; give at least 2 letters"),
    ("普京", "col 1: the full-text index cannot serve this query: '普京' is in a script written "
           "without spaces, which the index cannot look up inside words"),
    ("@lavrov x", "col 1: unknown entry '@lavrov'"),
    ("kind:topic", "col 1: no watchlist entry has kind 'topic': kind:topic can never match"),
    ("x NOT x", "col 3: can never match: 'x' is both required and excluded"),
])
def test_search_refuses_with_a_reason(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        search_plan(parse_query(query), SMALL)
    assert str(caught.value) == message


def test_index_text_is_the_folded_document() -> None:
    assert index_text("Путин в Ханое", "Tô Lâm met him.") == (
        "putin v khanoe", "putin v khanoe to lam met him")
    assert index_text(None, "Body") == ("", "body")
    assert index_text("Title", "Title. Body") == ("title", "title body")


# --- search: real indexes, candidates ⊇ exact matches ---------------------------------------


DOCS = [
    (ARTICLE_TITLE, ARTICLE, "en"),
    ("Kremlin says Putin will visit Vietnam", "Путин посетит Вьетнам. Russia and Vietnam "
     "signed a treaty on military cooperation and arms.", "ru"),
    ("Tourism in Vietnam", "Beaches and tourism. No sanctions here, and no weapons.", "en"),
    ("US sanctions", "The United States sanctioned firms that ship munitions to North Korea.\n"
     "Kim Jong-un did not comment.", "en"),
    (None, "Weapons, weapons and more weapons: the arms trade in 2024.", "en"),
    ("Talks in Geneva", "New START talks resume in Geneva; Vladimir Putin sends Lavrov.", "de"),
]

QUERIES = [
    "putin", "@putin", "@putin NEAR/5 vietnam", "(@putin OR @russia) NEAR/30 (@north-korea OR "
    "@kim-jong-un) AND (weapons OR munitions OR \"military cooperation\")",
    "SENTENCE(@putin vietnam)", "PARAGRAPH(weapons NOT arms)", "vietnam NOT tourism",
    "title:@putin", "title:(vietnam NOT tourism)", "sanction* NOT @usa", "kind:treaty",
    '"military cooperation" OR munitions', "weapons NEAR/1 weapons", "@usa lang:en",
    "NOT (tourism OR weapons) AND vietnam", "x OR NOT (vietnam AND NOT tourism) AND arms",
    "title:putin OR @kim-jong-un NEAR/3 comment",
]


def test_search_cannot_see_typos_of_names(matcher: Matcher, entries: EntryIndex) -> None:
    # The matcher finds "Puttin" for @putin; the index holds words, not their typos: a
    # limitation of search (rules see every mention).
    doc = make(matcher, "Vladimir Puttin arrived.")
    assert holds("@putin", doc)
    plan = search_plan(parse_query("@putin"), entries)
    assert _fts5_candidates([(None, "Vladimir Puttin arrived.")], plan.fts5) == set()


def _documents(matcher: Matcher) -> list[Document]:
    return [make(matcher, text, title, lang=lang) for title, text, lang in DOCS]


def _passes(doc: Document, filters: Sequence[MetaFilter]) -> bool:
    """The metadata filters as the store would apply them in SQL."""
    for f in filters:
        hit = any(doc.meta(f.name, v.lower() if f.name == "lang" else v) for v in f.values)
        if hit == f.exclude:
            return False
    return True


def _fts5_candidates(docs: Sequence[tuple[str | None, str]], expression: str) -> set[int]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE article_fts USING fts5(title, body, prefix='2 3')")
    for rowid, (title, text) in enumerate(docs):
        db.execute("INSERT INTO article_fts (rowid, title, body) VALUES (?, ?, ?)",
                   (rowid, *index_text(title, text)))
    found = {r[0] for r in db.execute("SELECT rowid FROM article_fts WHERE article_fts MATCH ?",
                                      (expression,))}
    db.close()
    return found


def test_fts5_candidates_include_every_match(matcher: Matcher, entries: EntryIndex) -> None:
    docs = _documents(matcher)
    narrowed = 0
    for query in QUERIES:
        q = parse_query(query)
        plan = search_plan(q, entries)
        candidates = {i for i in _fts5_candidates([(t, x) for t, x, _ in DOCS], plan.fts5)
                      if _passes(docs[i], plan.filters)}
        exact = {i for i, doc in enumerate(docs) if q.matches(doc)}
        assert exact <= candidates, (query, plan.fts5, exact, candidates)
        narrowed += len(candidates) < len(docs)
    assert narrowed == len(QUERIES)


@pytest.fixture(scope="module")
def postgres() -> Iterator[object]:
    from sqlalchemy import create_engine

    from tests.support import postgres_or_skip

    engine = create_engine(postgres_or_skip())
    yield engine
    engine.dispose()


def test_tsquery_candidates_include_every_match(postgres: object, matcher: Matcher,
                                                entries: EntryIndex) -> None:
    from sqlalchemy import Engine, text

    assert isinstance(postgres, Engine)
    docs = _documents(matcher)
    with postgres.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE docs (id int, tsv tsvector)"))
        for i, (title, body, _) in enumerate(DOCS):
            folded_title, folded_body = index_text(title, body)
            conn.execute(text(
                "INSERT INTO docs VALUES (:id, setweight(to_tsvector('simple', :title), 'A') "
                "|| to_tsvector('simple', :body))"),
                {"id": i, "title": folded_title, "body": folded_body})
        for query in QUERIES:
            q = parse_query(query)
            plan = search_plan(q, entries)
            rows = conn.execute(text("SELECT id FROM docs WHERE tsv @@ to_tsquery('simple', :q)"),
                                {"q": plan.tsquery})
            candidates = {r[0] for r in rows if _passes(docs[r[0]], plan.filters)}
            exact = {i for i, doc in enumerate(docs) if q.matches(doc)}
            assert exact <= candidates, (query, plan.tsquery, exact, candidates)
            assert len(candidates) < len(docs), query


def _and_not(pair: tuple[Node, Node]) -> Node:
    return and_([pair[0], Not(pair[1])])


def _with_meta(pair: tuple[Node, Node]) -> Node:
    return and_(list(pair))


# Queries as people write them (mostly words to find), over articles made of their words.
searches = st.recursive(positional_leaf, lambda inner: st.one_of(
    st.lists(inner, min_size=2, max_size=3).map(and_),
    st.lists(inner, min_size=2, max_size=3).map(or_),
    st.tuples(inner, inner).map(_and_not),
    st.builds(_near, st.tuples(positional, positional), st.integers(1, 6)),
    st.builds(Scope, st.sampled_from(("sentence", "paragraph")), inner),
    inner.map(Title),
    st.tuples(inner, meta).map(_with_meta),
), max_leaves=5)
article = st.lists(st.sampled_from(VOCAB * 2 + PHRASES + (
    "Vladimir Putin", "Kim Jong Un", "Russia", "North Korea", "U.S.", "New START treaty",
    ".", "\n", ",", "\n\n")), min_size=3, max_size=30).map(" ".join)
articles = st.lists(st.tuples(st.one_of(st.none(), article), article,
                              st.sampled_from(("en", "ru"))), min_size=4, max_size=8)


@DERANDOMIZED
@given(tree=searches, batch=articles)
def test_fts5_candidates_are_a_superset(matcher: Matcher, entries: EntryIndex, tree: Node,
                                        batch: list[tuple[str | None, str, str]]) -> None:
    try:
        plan = search_plan(tree, entries)
    except QueryError:
        return  # refused: nothing to check
    docs = [make(matcher, text, title, lang=lang) for title, text, lang in batch]
    candidates = _fts5_candidates([(t, x) for t, x, _ in batch], plan.fts5)
    query = Query(render(tree), tree)
    for i, doc in enumerate(docs):
        if query.matches(doc) and _passes(doc, plan.filters):
            assert i in candidates, (render(tree), plan.fts5, doc.text)


# --- many queries at once ------------------------------------------------------------------


def test_requirements_are_what_a_match_needs() -> None:
    found = requirements(parse('(@putin OR kind:treaty) NEAR/30 (arms OR "arms trade") NOT z '
                               "lang:en (x OR NOT y) title:w*"))
    assert found == [frozenset({("id", "putin"), ("kind", "treaty")}),
                     frozenset({("words", ("arms",)), ("words", ("arms", "trade"))}),
                     frozenset({("prefix", "w")})]
    assert requirements(parse("NOT x OR lang:en")) == []
    assert requirements(parse("@desk/putin")) == [frozenset({("entry", "desk", "putin")})]


def test_query_set_matches_as_each_query_does(matcher: Matcher) -> None:
    queries = [parse_query(q) for q in [*QUERIES, "NOT weapons", "lang:de", "treaty"]]
    rules = QuerySet(queries)
    for doc, again in zip(_documents(matcher), _documents(matcher), strict=True):
        expected = [(q, q.evaluate(again)) for q in queries if q.matches(again)]
        assert rules.matching(doc) == expected
        assert set(rules.candidates(doc)) >= {queries.index(q) for q, _ in expected}


def test_query_set_takes_words_found_by_another_scan(matcher: Matcher) -> None:
    import ahocorasick_rs

    rules = QuerySet([parse_query("weapons NEAR/3 weapons"), parse_query("arms*")])
    automaton = ahocorasick_rs.AhoCorasick(rules.patterns)
    text = "Weapons, weapons and more weapons: the arms trade in 2024."
    doc = Document(text)
    found = rules.accept(doc, automaton.find_matches_as_indexes(doc.folded.hay,
                                                                overlapping=True))
    assert set(found) == {("weapons",), "arms"}
    assert [q.text for q, _ in rules.matching(doc)] == ["weapons NEAR/3 weapons", "arms*"]
    assert not rules.matching(Document("no such words"))


def test_query_set_tests_only_queries_whose_needs_are_met(matcher: Matcher) -> None:
    rules = QuerySet([parse_query(q) for q in (
        "people NEAR/5 economy", "@putin NEAR/5 economy", "NOT economy", "kind:treaty")])
    assert rules.candidates(make(matcher, "People said so.")) == [2]
    assert rules.candidates(make(matcher, "People and the economy.")) == [0, 2]
    assert rules.candidates(make(matcher, "Putin and people, not economy; New START")) == [
        0, 1, 2, 3]


@DERANDOMIZED
@given(trees=st.lists(searches, min_size=1, max_size=6), batch=articles)
def test_query_set_is_the_queries_one_by_one(matcher: Matcher, trees: list[Node],
                                             batch: list[tuple[str | None, str, str]]) -> None:
    queries = [Query(render(tree), tree) for tree in trees]
    rules = QuerySet(queries)
    for title, text, lang in batch:
        doc, again = (make(matcher, text, title, lang=lang) for _ in range(2))
        assert rules.matching(doc) == [(q, q.evaluate(again)) for q in queries
                                       if q.matches(again)]


# --- real pages ------------------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "pages"


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus absent ({CORPUS})")
def test_rules_and_search_over_real_pages(seed_matcher: Matcher,
                                          seed_watchlists: list[Watchlist]) -> None:
    from monitor.extract import decode_page, extract_page

    pages = []
    for path in sorted(CORPUS.glob("*.html"))[:40]:
        page = decode_page(path.read_bytes(), None)
        extracted = extract_page(page, "https://example.org/" + path.name, search_date=False)
        if extracted is not None:
            pages.append((extracted.title, extracted.text))
    assert pages
    entries = EntryIndex.from_watchlists(seed_watchlists)
    docs = [Document.of(t, x, mentions=seed_matcher.match(Document.of(t, x).text))
            for t, x in pages]
    rules = ["kind:country NEAR/30 (said OR says)", "SENTENCE(kind:country (government* OR "
             "president*))", "(said OR says) NEAR/5 (minister* OR president*)",
             "title:(the OR a OR of)", "SENTENCE(year* NOT said)", "PARAGRAPH(election* NOT "
             "trump)", '"the government" OR title:news*']
    matched = 0
    for rule in rules:
        q = parse_query(rule)
        candidates = _fts5_candidates(pages, search_plan(q, entries).fts5)
        for i, doc in enumerate(docs):
            result = q.evaluate(doc)
            if result.matched:
                matched += 1
                assert i in candidates, (rule, i)
                assert result.spans
        assert len(candidates) < len(docs), rule
    assert matched >= 20
