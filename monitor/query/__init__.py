"""The query language of rules and search: one grammar (grammar.lark, parsed with lark).

    (@putin OR @russia) NEAR/30 (@north-korea OR @kim-jong-un) AND (weapons OR "arms deal")

Clauses
    sanctions            a word: folded like the matcher (case, accents, transliteration:
                         Путин = putin), whole words only; U.S. or Kim-Jong-un are several
                         words that must stand together
    "military aid"       a phrase: its words next to each other, in this order
    sanction*            a word starting with "sanction" (no wildcard inside quotes)
    @putin               wherever the matcher finds entry putin (of any watchlist);
    @desk/putin          ... of watchlist desk; aliases, typos and languages included
    kind:treaty          wherever the matcher finds an entry of that kind
    title:x              x within the title (x: a word, phrase, @entry, kind: or a group)
    lang:en country:RU   the article's language (lang:en also takes en-GB) and its feed's
    feed:"BBC World"     country; the feed by name or id
    SENTENCE(...)        everything inside holds within one sentence
    PARAGRAPH(...)       ... within one paragraph (a line of the text; the title is one)

Operators, binding tightest first (operators are written in capitals; a lower-case and, or,
not, near is a word to find, and ``watchlist check`` points it out):
    1. ( ), SENTENCE( ), PARAGRAPH( ), field:x   primaries
    2. a NEAR/n b    left-associative: a NEAR/5 b NEAR/5 c = (a NEAR/5 b) NEAR/5 c.  Its
                     sides are words, phrases, wildcards, @entries, kind:, title:, NEARs or
                     OR-groups of them: (x OR y) NEAR/30 (z OR w) holds for any pair.  n is
                     at most n words apart, either order: NEAR/1 is next to each other.
    3. NOT a         NOT a NEAR/5 b = NOT (a NEAR/5 b); NOT NOT a = a
    4. a AND b, a b  the same: adjacent clauses are ANDed
    5. a OR b        loosest: a b OR c = (a AND b) OR c (as in most boolean search tools,
                     unlike Google's a (b OR c)); write the parentheses to be clear
"""

from monitor.query.check import EntryIndex, EntryInfo, QueryProblem, check_query
from monitor.query.document import Document, paragraph_bounds, sentence_bounds
from monitor.query.evaluate import Evaluation, Explanation, Query, explain, parse_query
from monitor.query.nodes import Node, render
from monitor.query.parse import QueryError, parse, rule_problem
from monitor.query.ruleset import QuerySet
from monitor.query.search import MetaFilter, SearchPlan, index_text, search_plan

__all__ = [
    "Document",
    "EntryIndex",
    "EntryInfo",
    "Evaluation",
    "Explanation",
    "MetaFilter",
    "Node",
    "Query",
    "QueryError",
    "QueryProblem",
    "QuerySet",
    "SearchPlan",
    "check_query",
    "explain",
    "index_text",
    "paragraph_bounds",
    "parse",
    "parse_query",
    "render",
    "rule_problem",
    "search_plan",
    "sentence_bounds",
]
