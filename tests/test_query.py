"""The query language (monitor.query): parsing and its errors, evaluation of every operator
over fixtures with the real matcher, static checks, and the full-text index translations
checked against real SQLite FTS5 and PostgreSQL tables (candidates ⊇ exact matches)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import UsageError
from monitor.match import Matcher, Mention
from monitor.normalize import fold
from monitor.query import (
    Document,
    EntryIndex,
    Query,
    QueryError,
    check_query,
    parse,
    parse_query,
    render,
    rule_problem,
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
from monitor.watchlist import Watchlist
from tests.conftest import watchlist_from_yaml

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
    from monitor.pipeline import document

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
                            "actor, country, organization, treaty, topic, place, other")]
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
