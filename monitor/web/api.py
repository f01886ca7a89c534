"""The JSON API under /api/v1/: one table of endpoints serves the routes and writes the
OpenAPI 3.1 description (/api/v1/openapi.json), so the two cannot disagree.

Every listing answers ``{"items": [...], "next": "/api/v1/...?cursor=..." | null}`` (and a
``Link: <...>; rel="next"`` header), newest first except feeds (by id, as `feeds list`);
items have the keys of the CLI's ``--json``.  Events, search and trends come with #17-#20.
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
from monitor.web import paging
from monitor.web.data import Data, Key, Page

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
    "Error": _object(error=_STR),
}


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


async def _openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.web.openapi)


async def _unknown(request: Request) -> Response:
    return _error(f"no API at {request.url.path} (see {PREFIX}/openapi.json)", 404)


def routes() -> list[Route]:
    return [*(Route(PREFIX + e.path, _handler(e), name=e.name) for e in ENDPOINTS),
            Route(PREFIX + "/openapi.json", _openapi),
            Route(PREFIX + "/{rest:path}", _unknown)]
