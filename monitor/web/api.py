"""The JSON API under /api/v1/: one table of endpoints serves the routes and writes the
OpenAPI 3.1 description (/api/v1/openapi.json), so the two cannot disagree.

Every listing answers ``{"items": [...], "next": "/api/v1/...?cursor=..." | null}`` (and a
``Link: <...>; rel="next"`` header), newest first except feeds (by id, as `feeds list`);
items have the keys of the CLI's ``--json``; /events/{id} is one event with its hits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monitor import __version__
from monitor.cli.core import parse_since
from monitor.errors import UsageError, did_you_mean
from monitor.query import QueryError, parse_query
from monitor.web import paging
from monitor.web.data import Data, Facets, Key, Page

PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str
    name: str
    summary: str
    item: str  # a schema in SCHEMAS
    params: tuple[Param, ...]
    fetch: Callable[[Data, dict[str, str], Key | None, int], Page]


_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_OPT_TIME = {"type": ["string", "null"], "format": "date-time"}
_INT = {"type": "integer"}
_SPANS = {"type": "array", "items": {"type": "array", "items": {"type": "integer"},
                                     "minItems": 2, "maxItems": 2}}
CURSOR = Param("cursor", "The `next` link's cursor (opaque).", _STR)
LIMIT = Param("limit", f"Items per page, 1 to {paging.MAX_LIMIT} (default "
              f"{paging.DEFAULT_LIMIT}; more is capped).", {"type": "integer", "minimum": 1})
SINCE = Param("since", "Only those found since: a date (2026-11-01), an ISO time or an age "
              "(24h, 7d).", _STR)


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties}


SCHEMAS: dict[str, dict[str, Any]] = {
    "Source": _object(url=_OPT_STR, feed=_OPT_STR, published=_OPT_TIME),
    "Hit": _object(
        hit_id=_INT, story_id=_INT, watchlist=_STR, entry=_STR, kind=_STR, name=_STR,
        matched=_STR, score={"type": "number"}, title=_OPT_STR, url=_STR,
        sources={"type": "array", "items": {"$ref": "#/components/schemas/Source"}},
        published=_OPT_TIME, first_seen=_TIME, snippet=_STR,
        found_by={"enum": ["poll", "backfill"]}, watchlist_version=_STR,
        notify={"type": "boolean"}, alias=_STR, priority=_STR,
        event_id={"type": ["integer", "null"]},
        ambiguous={"type": "boolean", "description": "The alias matched is shared by several "
                   "entries: the mention may be another's"}),
    "Article": _object(
        article_id=_INT, story_id=_INT, feed=_OPT_STR, url=_STR, canonical_url=_STR,
        claimed_canonical=_OPT_STR, title=_OPT_STR, published=_OPT_TIME, language=_OPT_STR,
        text_source={"enum": ["page", "feed"]}, text=_STR,
        event_id={"type": ["integer", "null"]}),
    "Feed": _object(
        feed_id=_INT, url=_STR, name=_OPT_STR, kind=_STR,
        state={"enum": ["active", "failing", "disabled", "paused", "removed"]},
        origin={"enum": ["config", "cli"]}, last_polled=_OPT_TIME,
        last_status={"type": ["integer", "null"]}, error_count=_INT, last_error=_OPT_STR,
        next_poll=_OPT_TIME),
    "Delivery": _object(
        delivery_id=_INT, channel=_STR, status={"enum": ["pending", "sent", "failed"]},
        attempts=_INT, last_error=_OPT_STR, sent=_OPT_TIME, next_attempt=_OPT_TIME),
    "Digest": _object(
        run_id=_INT, digest=_STR, kind={"enum": ["digest", "alert"]},
        window_start=_OPT_TIME, window_end=_TIME, created=_TIME, subject=_STR, stories=_INT,
        hits=_INT, message_id=_STR, status=_STR,
        deliveries={"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}}),
    "Outlet": _object(feed=_STR, url=_STR, title=_OPT_STR, published=_OPT_TIME),
    "EventEntry": _object(watchlist=_STR, entry=_STR, name=_STR, kind=_STR, mentions=_INT),
    "Event": _object(
        event_id=_INT, title=_OPT_STR, summary=_OPT_STR, first_seen=_TIME, last_seen=_TIME,
        published=_OPT_TIME, articles=_INT,
        outlets={"type": "array", "items": {"$ref": "#/components/schemas/Outlet"}},
        entries={"type": "array", "items": {"$ref": "#/components/schemas/EventEntry"}},
        score={"type": "number"}, news={"type": "boolean"}),
    "Trend": _object(
        watchlist=_STR, entry=_STR, kind=_STR, name=_STR,
        days={"type": "array", "items": _object(day={"type": "string", "format": "date"},
                                                 events=_INT, articles=_INT)},
        baseline={"oneOf": [{"type": "null"}, _object(median={"type": "number"},
                                                      low=_INT, high=_INT)]},
        today=_INT, spike={"type": "boolean"}, score={"type": "number"}),
    "Error": _object(error=_STR),
}
SCHEMAS["SearchResult"] = _object(
    **{k: v for k, v in SCHEMAS["Article"]["properties"].items() if k != "event_id"},
    score={"type": "number"}, highlights=_SPANS, snippet=_STR, snippet_marks=_SPANS)
SCHEMAS["EventDetail"] = {"allOf": [{"$ref": "#/components/schemas/Event"}, _object(
    hits={"type": "array", "items": {"$ref": "#/components/schemas/Hit"}})]}


def _feeds(data: Data, q: dict[str, str], after: Key | None, limit: int) -> Page:
    rows = [r for r in data.feeds(removed=q.get("all") == "true")
            if after is None or r["feed_id"] > after[1]]
    more = len(rows) > limit
    return Page(rows[:limit], ("", rows[limit - 1]["feed_id"]) if more else None)


def _digests(data: Data, q: dict[str, str], after: Key | None, limit: int) -> Page:
    return data.digests(before=None if after is None else after[1], limit=limit)


def _hits(data: Data, q: dict[str, str], after: Key | None, limit: int) -> Page:
    return data.hits(since=parse_since(q.get("since"), "since"), before=after, limit=limit,
                     watchlist=q.get("watchlist") or None, entry=q.get("entry") or None)


def _articles(data: Data, q: dict[str, str], after: Key | None, limit: int) -> Page:
    return data.articles(since=parse_since(q.get("since"), "since"), before=after,
                         limit=limit)


def _events(data: Data, q: dict[str, str], after: Key | None, limit: int) -> Page:
    return data.events(since=parse_since(q.get("since"), "since"), before=after, limit=limit,
                       watchlist=q.get("watchlist") or None, entry=q.get("entry") or None)


def _search(data: Data, q: dict[str, str], after: Key | None, limit: int) -> Page:
    text = q.get("q", "")
    if not text.strip():
        raise UsageError("q: a query in the rules' language is needed (README, Rules and "
                         "search)")
    try:
        query = parse_query(text)
    except QueryError as exc:
        raise UsageError(f"q: column {exc.column}: {exc.reason}") from None
    facets = Facets(**{name: q.get(name) or None for name in (
        "watchlist", "entry", "feed", "language", "country")},
        since=parse_since(q.get("since"), "since"), until=parse_since(q.get("until"), "until"))
    found = data.search(query, facets, before=after, limit=limit)
    return Page(found.rows, found.next)


def _trends(data: Data, q: dict[str, str], after: Key | None, limit: int) -> Page:
    days = q.get("days") or "30"
    if not days.isdigit() or not 1 <= int(days) <= 365:
        raise UsageError(f"days {days!r}: a whole number from 1 to 365")
    rows = data.trends(watchlist=q.get("watchlist") or None, entry=q.get("entry") or None,
                       days=int(days))
    start = after[1] if after else 0
    more = len(rows) > start + limit
    return Page(rows[start:start + limit], ("", start + limit) if more else None)


_WATCHLIST = Param("watchlist", "Only this watchlist's.", _STR)
_ENTRY = Param("entry", "Only this entry's (an entry or rule id).", _STR)
ENDPOINTS = (
    Endpoint("/feeds", "listFeeds", "Feeds: state, last poll, errors, next poll", "Feed",
             (Param("all", "true: removed feeds too (as `feeds list --all`).",
                    {"enum": ["true", "false"]}), CURSOR, LIMIT), _feeds),
    Endpoint("/digests", "listDigests", "Digests and alerts made, with their deliveries",
             "Digest", (CURSOR, LIMIT), _digests),
    Endpoint("/hits", "listHits", "Hits, newest first", "Hit",
             (SINCE, Param("watchlist", "Only this watchlist's.", _STR),
              Param("entry", "Only this entry's (an entry id).", _STR), CURSOR, LIMIT), _hits),
    Endpoint("/articles", "listArticles", "Articles, newest stored first", "Article",
             (SINCE, CURSOR, LIMIT), _articles),
    Endpoint("/events", "listEvents", "Events (as `monitor events --json`), the latest "
             "active first", "Event", (Param("since", "Only those active since: a date, an "
                                             "ISO time or an age (24h, 7d).", _STR),
                                       _WATCHLIST, _ENTRY, CURSOR, LIMIT), _events),
    Endpoint("/search", "search", "Articles a query matches (as `monitor search --json`), "
             "best first", "SearchResult",
             (Param("q", "The query, in the rules' language.", _STR), _WATCHLIST, _ENTRY,
              Param("feed", "Only this feed's (an id or URL).", _STR),
              Param("language", "Only this language (en also takes en-GB).", _STR),
              Param("country", "Only articles of feeds of this country (ISO code).", _STR),
              SINCE, Param("until", "Only those published before this date.", _STR),
              CURSOR, LIMIT), _search),
    Endpoint("/trends", "listTrends", "Entries' daily events against their usual range (as "
             "`monitor trends --json`)", "Trend",
             (_WATCHLIST, _ENTRY, Param("days", "Days shown, 1 to 365 (default 30).", _STR),
              CURSOR, LIMIT), _trends),
)


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status)


def _handler(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    names = [p.name for p in endpoint.params]

    async def handle(request: Request) -> Response:
        query = dict(request.query_params)
        for name in query:
            if name not in names:
                return _error(f"unknown parameter {name!r}{did_you_mean(name, names)}; "
                              f"allowed: {', '.join(names)}")
        data: Data = request.app.state.web.data
        try:
            after, limit = paging.decode(query.get("cursor")), paging.limit(query.get("limit"))
            page = await run_in_threadpool(endpoint.fetch, data, query, after, limit)
        except UsageError as exc:
            return _error(str(exc))
        following = None
        headers = {}
        if page.next is not None:
            following = (f"{PREFIX}{endpoint.path}?"
                         + urlencode({**query, "cursor": paging.encode(page.next)}))
            headers["Link"] = f'<{following}>; rel="next"'
        return JSONResponse({"items": page.rows, "next": following}, headers=headers)

    return handle


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of ENDPOINTS."""
    ref = "#/components/schemas/"
    error = {"description": "A bad parameter or cursor", "content": {
        "application/json": {"schema": {"$ref": ref + "Error"}}}}
    paths: dict[str, Any] = {}
    for e in ENDPOINTS:
        listing = _object(items={"type": "array", "items": {"$ref": ref + e.item}},
                          next={"type": ["string", "null"], "description":
                                "The next page's URL, or null on the last page"})
        paths[PREFIX + e.path] = {"get": {
            "operationId": e.name, "summary": e.summary,
            "parameters": [{"name": p.name, "in": "query", "required": False,
                            "description": p.description, "schema": p.schema}
                           for p in e.params],
            "responses": {
                "200": {"description": e.summary, "content": {
                    "application/json": {"schema": listing}}},
                "400": error,
                "401": {"description": "Log in, or send Authorization: Bearer <token>"}}}}
    paths[PREFIX + "/events/{event_id}"] = _event_path()
    return {
        "openapi": "3.1.0",
        "info": {"title": "monitor", "version": __version__, "description":
                 "Read monitor's store: the keys are those of the CLI's --json."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "token": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "monitor_session"}}},
        "security": [{"token": []}, {"session": []}, {}],
    }


async def _event(request: Request) -> Response:
    """One event, a merged id answering the event it joined, with its hits."""
    event_id = request.path_params["event_id"]
    if event_id >= 2**31:
        return _error(f"no event {event_id}", 404)
    data: Data = request.app.state.web.data
    found = await run_in_threadpool(data.event, event_id)
    if found is None:
        return _error(f"no event {event_id}", 404)
    return JSONResponse({**found.row, "hits": found.hits})


def _event_path() -> dict[str, Any]:
    ref = "#/components/schemas/"
    return {"get": {
        "operationId": "getEvent", "summary": "One event with its hits (a merged event's id "
        "gives the event it joined)",
        "parameters": [{"name": "event_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": {
            "200": {"description": "The event", "content": {"application/json": {
                "schema": {"$ref": ref + "EventDetail"}}}},
            "404": {"description": "No such event", "content": {"application/json": {
                "schema": {"$ref": ref + "Error"}}}},
            "401": {"description": "Log in, or send Authorization: Bearer <token>"}}}}


async def _openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.web.openapi)


async def _unknown(request: Request) -> Response:
    return _error(f"no API at {request.url.path} (see {PREFIX}/openapi.json)", 404)


def routes() -> list[Route]:
    return [*(Route(PREFIX + e.path, _handler(e), name=e.name) for e in ENDPOINTS),
            Route(PREFIX + "/events/{event_id:int}", _event, name="getEvent"),
            Route(PREFIX + "/openapi.json", _openapi),
            Route(PREFIX + "/{rest:path}", _unknown)]
