"""Full-text search over the stored articles: the database's own index finds candidates,
the exact query evaluation (NEAR, scopes, @entries through the matcher) keeps the matches.

The index holds the folded text (monitor.query.index_text: case, accents and
transliteration as the matcher folds them), which only Python computes:

- SQLite: ``article_fts``, a contentless FTS5 table (title, body) kept up to date by
  triggers on ``articles`` that call ``monitor_fold_title``/``monitor_fold_body``, SQL
  functions registered on every SQLite connection this package opens (``register``);
  ranked with ``bm25`` (the title weighs twice as much).
- PostgreSQL: ``articles.search_tsv`` (title as weight A, document as D) with a GIN index;
  written by the store as an article is stored (``index_new``), set back to NULL by a
  trigger when its title or text changes, and filled for what is NULL (older rows, changed
  ones: ``index_pending``) by the migration and before each search; ranked with
  ``ts_rank_cd`` (normalised by the document's length).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, event, text
from sqlalchemy.pool import Pool

from monitor.normalize import fold
from monitor.query.search import index_text
from monitor.store.models import UTCDateTime

FTS_TABLE = "article_fts"
TITLE_WEIGHT = 2.0  # bm25's weight of the title column (the body, which holds it too: 1)
PAGE = 200  # candidates read at a time, best first
MAX_EXAMINED = 5000  # candidates evaluated at most for one search (bounded latency)
PENDING_BATCH = 500


# --- SQLite: the folding functions the triggers call -----------------------------------------


def _fold_title(title: str | None) -> str:
    return fold(title or "")


def _fold_body(title: str | None, body: str | None) -> str:
    return index_text(title, body or "")[1]


def register(connection: Any) -> None:
    """Give an SQLite connection the functions the index's triggers call."""
    if isinstance(connection, sqlite3.Connection):
        connection.create_function("monitor_fold_title", 1, _fold_title, deterministic=True)
        connection.create_function("monitor_fold_body", 2, _fold_body, deterministic=True)


@event.listens_for(Pool, "connect")
def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    register(dbapi_connection)


SQLITE_SCHEMA = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, body, content='', prefix='2 3')",
    f"""CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (new.id,
            monitor_fold_title(new.title), monitor_fold_body(new.title, new.text));
    END""",
    f"""CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body) VALUES ('delete', old.id,
            monitor_fold_title(old.title), monitor_fold_body(old.title, old.text));
    END""",
    f"""CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body) VALUES ('delete', old.id,
            monitor_fold_title(old.title), monitor_fold_body(old.title, old.text));
        INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (new.id,
            monitor_fold_title(new.title), monitor_fold_body(new.title, new.text));
    END""",
)
SQLITE_BUILD = (f"INSERT INTO {FTS_TABLE} (rowid, title, body) SELECT id, "
                "monitor_fold_title(title), monitor_fold_body(title, text) FROM articles")
SQLITE_DROP = ("DROP TRIGGER IF EXISTS articles_fts_insert",
               "DROP TRIGGER IF EXISTS articles_fts_delete",
               "DROP TRIGGER IF EXISTS articles_fts_update", f"DROP TABLE IF EXISTS {FTS_TABLE}")

# --- PostgreSQL: the tsvector column ----------------------------------------------------------

POSTGRES_SCHEMA = (
    "ALTER TABLE articles ADD COLUMN search_tsv tsvector",
    "CREATE INDEX ix_articles_search_tsv ON articles USING gin (search_tsv)",
    # what is left to index: a small partial index, so finding it never scans the table
    "CREATE INDEX ix_articles_search_pending ON articles (id) WHERE search_tsv IS NULL",
    """CREATE FUNCTION articles_search_stale() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.title IS DISTINCT FROM OLD.title OR NEW.text IS DISTINCT FROM OLD.text THEN
            NEW.search_tsv := NULL;
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER articles_search_stale BEFORE UPDATE OF title, text ON articles
    FOR EACH ROW EXECUTE FUNCTION articles_search_stale()""",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS articles_search_stale ON articles",
    "DROP FUNCTION IF EXISTS articles_search_stale()",
    "DROP INDEX IF EXISTS ix_articles_search_pending",
    "DROP INDEX IF EXISTS ix_articles_search_tsv",
    "ALTER TABLE articles DROP COLUMN IF EXISTS search_tsv",
)
_SET_TSV = text("UPDATE articles SET search_tsv = setweight(to_tsvector('simple', :title), "
                "'A') || to_tsvector('simple', :body) WHERE id = :id")
_PENDING = text("SELECT id, title, text FROM articles WHERE search_tsv IS NULL ORDER BY id "
                "LIMIT :n")


def outside_models(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic's include_name hook: False for the index's tables, column and indexes, which
    the migration makes and the models leave out (FTS5's virtual and shadow tables)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    return name not in ("search_tsv", "ix_articles_search_tsv", "ix_articles_search_pending")


def index_new(c: Connection, article_id: int, title: str | None, body: str) -> None:
    """Index an article the store has just written (PostgreSQL; SQLite's triggers do it)."""
    if c.dialect.name == "postgresql":
        folded_title, folded_body = index_text(title, body)
        c.execute(_SET_TSV, {"id": article_id, "title": folded_title, "body": folded_body})


def index_pending(c: Connection, progress: Callable[[int], None] | None = None) -> int:
    """Index every article whose search_tsv is NULL (PostgreSQL): those stored before the
    index, or whose text changed since; the number indexed."""
    if c.dialect.name != "postgresql":
        return 0
    done = 0
    while rows := c.execute(_PENDING, {"n": PENDING_BATCH}).all():
        params = []
        for article_id, title, body in rows:
            folded_title, folded_body = index_text(title, body or "")
            params.append({"id": article_id, "title": folded_title, "body": folded_body})
        c.execute(_SET_TSV, params)
        done += len(rows)
        if progress is not None:
            progress(done)
    return done


def create_index(c: Connection) -> None:
    """The index, built for the articles already stored (the migration's work)."""
    if c.dialect.name == "sqlite":
        register(c.connection.dbapi_connection)
        for statement in SQLITE_SCHEMA:
            c.exec_driver_sql(statement)
        c.exec_driver_sql(SQLITE_BUILD)
    elif c.dialect.name == "postgresql":
        for statement in POSTGRES_SCHEMA:
            c.exec_driver_sql(statement)
        index_pending(c)


def drop_index(c: Connection) -> None:
    for statement in SQLITE_DROP if c.dialect.name == "sqlite" else POSTGRES_DROP:
        c.exec_driver_sql(statement)


# --- articles' metadata, for rules and search ------------------------------------------------


def article_meta(store: Any, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What rules' and searches' lang:, country: and feed: compare with, per article: its
    language, its feed's country, and the names and ids of the feeds that carried it."""
    out: dict[int, dict[str, Any]] = {}
    if not ids:
        return out
    query = text(
        "SELECT a.id, a.language, f.id, f.name, f.country FROM articles a "
        "LEFT JOIN feeds f ON f.id = a.feed_id OR f.id IN "
        "(SELECT i.feed_id FROM items i WHERE i.article_id = a.id) "
        "WHERE a.id IN :ids ORDER BY a.id, f.id").bindparams(bindparam("ids", expanding=True))
    with store.engine.connect() as c:
        for i in range(0, len(ids), 500):
            for article_id, language, feed_id, name, country in c.execute(
                    query, {"ids": list(ids[i:i + 500])}):
                meta = out.setdefault(article_id, {"lang": language, "country": None,
                                                   "feeds": []})
                if feed_id is not None:
                    meta["country"] = meta["country"] or country
                    meta["feeds"] += [str(feed_id), *([name] if name else [])]
    return out


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """What a search is narrowed to besides its query (the CLI's options)."""

    since: datetime | None = None
    until: datetime | None = None
    feed_id: int | None = None
    lang: str | None = None
    watchlist: str | None = None
    entry: str | None = None  # only stories with a hit of this entry (or rule) id
    country: str | None = None  # only articles from feeds of this country


@dataclass(frozen=True, slots=True)
class Candidate:
    """An article the index found, with what the exact evaluation needs."""

    id: int
    rank: float
    row: dict[str, Any] = field(default_factory=dict)


def _where(filters: Filters, params: dict[str, Any]) -> str:
    """The SQL conditions of the filters on ``a`` (articles), their values in params."""
    out = []
    if filters.since is not None:
        out.append("COALESCE(a.published, a.first_seen) >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        out.append("COALESCE(a.published, a.first_seen) < :until")
        params["until"] = filters.until
    if filters.feed_id is not None:
        out.append("(a.feed_id = :feed OR a.id IN (SELECT article_id FROM items "
                   "WHERE feed_id = :feed))")
        params["feed"] = filters.feed_id
    if filters.lang:
        out.append("(lower(a.language) = :lang OR lower(a.language) LIKE :lang_prefix)")
        params["lang"] = filters.lang.lower()
        params["lang_prefix"] = filters.lang.lower() + "-%"
    if filters.watchlist:
        out.append("a.story_id IN (SELECT story_id FROM hits WHERE watchlist = :watchlist)")
        params["watchlist"] = filters.watchlist
    if filters.entry:
        out.append("a.story_id IN (SELECT story_id FROM hits WHERE entry = :entry"
                   + (" AND watchlist = :watchlist)" if filters.watchlist else ")"))
        params["entry"] = filters.entry
    if filters.country:
        out.append("a.feed_id IN (SELECT id FROM feeds WHERE lower(country) = :country)")
        params["country"] = filters.country.lower()
    return "".join(f" AND {condition}" for condition in out)


def candidates(c: Connection, fts5: str, tsquery: str, filters: Filters,
               page: int = PAGE) -> Iterator[list[tuple[int, float]]]:
    """Pages of (article id, score) from the index, best first (score: higher is better;
    -bm25 on SQLite, ts_rank_cd on PostgreSQL)."""
    params: dict[str, Any] = {}
    where = _where(filters, params)
    if c.dialect.name == "sqlite":
        sql = (f"SELECT a.id, -bm25({FTS_TABLE}, {TITLE_WEIGHT}, 1.0) AS score "
               f"FROM {FTS_TABLE} JOIN articles a ON a.id = {FTS_TABLE}.rowid "
               f"WHERE {FTS_TABLE} MATCH :q{where} ORDER BY score DESC, a.id "
               "LIMIT :n OFFSET :off")
        params["q"] = fts5
    else:
        sql = ("SELECT a.id, ts_rank_cd(a.search_tsv, q, 1) AS score "
               "FROM articles a, to_tsquery('simple', :q) q "
               f"WHERE a.search_tsv @@ q{where} ORDER BY score DESC, a.id "
               "LIMIT :n OFFSET :off")
        params["q"] = tsquery
    statement = text(sql).bindparams(*(bindparam(key, type_=UTCDateTime())
                                       for key in ("since", "until") if key in params))
    offset = 0
    while True:
        rows = [(int(r[0]), float(r[1])) for r in c.execute(
            statement, {**params, "n": page, "off": offset})]
        if rows:
            yield rows
        if len(rows) < page:
            return
        offset += page


def article_details(c: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The articles' rows as `articles --json` shows them, by id."""
    from monitor.display import mask_url

    query = text(
        "SELECT a.id, a.story_id, a.url, a.canonical_url, a.claimed_canonical, a.title, "
        "a.published, a.language, a.text_source, a.text, a.first_seen, f.name, f.url "
        "FROM articles a LEFT JOIN feeds f ON f.id = a.feed_id WHERE a.id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    out = {}
    for row in c.execute(query, {"ids": list(ids)}):
        out[int(row[0])] = {
            "article_id": row[0], "story_id": row[1],
            "feed": row[11] or (mask_url(row[12]) if row[12] else None), "url": row[2],
            "canonical_url": row[3], "claimed_canonical": row[4], "title": row[5],
            "published": _iso(row[6]), "language": row[7], "text_source": row[8],
            "text": row[9],
        }
    return out


def _iso(value: Any) -> str | None:
    """A stored time as `articles --json` writes it (ISO 8601, UTC, Z)."""
    from datetime import UTC

    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Found:
    """One search result: the article's row, its score, and where the query held
    (``highlights``: [start, end] into the title, a blank line and the text)."""

    row: dict[str, Any]
    score: float
    highlights: list[tuple[int, int]]
    snippet: str
    snippet_marks: list[tuple[int, int]]


@dataclass
class Outcome:
    """A search's results, and how much was looked at to find them."""

    found: list[Found] = field(default_factory=list)
    candidates: int = 0  # index candidates evaluated
    exhausted: bool = True  # False: stopped at MAX_EXAMINED, more may match


Mentions = Callable[[str], Sequence[Any]]  # a document's text -> the matcher's mentions


def search(store: Any, query: Any, plan: Any, filters: Filters, limit: int,
           mentions: Mentions | None = None, max_examined: int = MAX_EXAMINED) -> Outcome:
    """The ``limit`` best articles the query matches: candidates from the index in rank
    order, each evaluated exactly (``mentions``: the matcher, for @entries and kind:)."""
    from monitor.query import Document
    from monitor.query.rulehits import shown_spans
    from monitor.snippets import excerpt

    outcome = Outcome()
    with store.engine.connect() as c:
        if c.dialect.name == "postgresql":
            with store.engine.begin() as writer:
                index_pending(writer)
        for page in candidates(c, plan.fts5, plan.tsquery, filters):
            details = article_details(c, [i for i, _ in page])
            metas = article_meta(store, [i for i, _ in page])
            for article_id, score in page:
                if outcome.candidates >= max_examined:
                    outcome.exhausted = False
                    return outcome
                outcome.candidates += 1
                row = details[article_id]
                meta = metas.get(article_id, {})
                doc = Document.of(row["title"], row["text"], lang=meta.get("lang"),
                                  country=meta.get("country"), feeds=meta.get("feeds", ()))
                if mentions is not None:
                    doc.mentions = mentions(doc.text)
                result = query.evaluate(doc)
                if not result.matched:
                    continue
                spans = list(result.spans)
                snippet, places = excerpt(doc.text, *shown_spans(spans or [(0, 0)]), spans)
                outcome.found.append(Found(row, score, spans, snippet,
                                           [p for p in places if p is not None]))
                if len(outcome.found) >= limit:
                    return outcome
    return outcome
