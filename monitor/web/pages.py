"""The HTML pages and their forms.  Every form carries the session's CSRF token and posts
back here; a change answers with a redirect (303) to the page, which shows what was done.
The data calls run in the thread pool (the store is synchronous)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from monitor.cli.core import parse_since
from monitor.config import parse_duration
from monitor.errors import UsageError
from monitor.query import QueryError, parse_query
from monitor.web import atom
from monitor.web.auth import machine_path, user_key, verify
from monitor.web.data import Data, Facets
from monitor.web.security import FRAMED_CSP, check_csrf, safe_next

if TYPE_CHECKING:
    from monitor.web.app import WebState

Handler = Callable[[Request], Awaitable[Response]]
TODAY_EVENTS = 100  # events shown on the front page (the latest active)


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def _data(request: Request) -> Data:
    data: Data = request.app.state.web.data
    return data


def _render(request: Request, name: str, context: dict[str, Any] | None = None,
            status: int = 200, headers: dict[str, str] | None = None) -> Response:
    from monitor.web.app import render  # app imports this module

    return render(request, name, context, status, headers)


async def _form(request: Request) -> FormData:
    """The posted form, after its CSRF token is checked (403 otherwise)."""
    form = await request.form(max_files=0, max_fields=20)
    check_csrf(request, form.get("csrf"))
    return form


def _back(request: Request, path: str, message: str) -> Response:
    request.session["flash"] = message
    return RedirectResponse(path, 303)


def _number(request: Request, name: str) -> int:
    value = request.path_params[name]
    if not isinstance(value, int) or value >= 2**31:
        raise HTTPException(404, "no such page")
    return value


# --- Today ------------------------------------------------------------------------------------


def _since(request: Request, name: str, default: str | None = None) -> datetime | None:
    """``?since=``-style times: an age (24h, 7d) before the app's clock, or a date."""
    text = request.query_params.get(name) or default
    age = parse_duration(text) if text and text[-1:].isalpha() else None
    if age is not None:  # to the minute: the same page for a minute (Data's memo)
        moment = _state(request).clock() - timedelta(seconds=min(age, 36500 * 86400.0))
        return moment.replace(second=0, microsecond=0)
    return parse_since(text, name)


async def today(request: Request) -> Response:
    since_text = request.query_params.get("since") or "24h"
    try:
        since = _since(request, "since", "24h")
    except UsageError as exc:
        since, since_text = _since(request, "default", "24h"), "24h"
        request.session["flash"] = str(exc)
    assert since is not None
    view = await run_in_threadpool(_today, _data(request), since)
    return _render(request, "today.html", {**view, "since": since_text})


def _today(data: Data, since: datetime) -> dict[str, Any]:
    """Alerts and rising entries, then a page of the latest events by watchlist and entry
    (an event under each entry it matched), each entry with its sparkline."""
    page = data.events(since=since, limit=TODAY_EVENTS)
    groups: dict[str, dict[tuple[str, str], list[dict[str, Any]]]] = {}
    for event in page.rows:
        for e in event["entries"]:
            groups.setdefault(e["watchlist"], {}).setdefault(
                (e["entry"], e["name"]), []).append(event)
    shown = [(w, key[0]) for w, entries in groups.items() for key in entries]
    return {"groups": {w: groups[w] for w in sorted(groups)},
            "sparks": data.sparks(shown), "alerts": data.alerts(since),
            "rising": data.rising(), "event_count": len(page.rows),
            "more": page.next is not None}


# --- Feeds ------------------------------------------------------------------------------------


async def feeds(request: Request, error: str | None = None, entered: dict[str, str] | None = None,
                status: int = 200) -> Response:
    data = _data(request)
    rows = await run_in_threadpool(data.feeds)
    per_day = await run_in_threadpool(data.articles_per_day)
    return _render(request, "feeds.html", {
        "feeds": rows, "per_day": per_day, "error": error, "entered": entered or {}}, status)


async def feed_add(request: Request) -> Response:
    form = await _form(request)
    url, name = str(form.get("url") or "").strip(), str(form.get("name") or "").strip()
    try:
        row, added, note = await run_in_threadpool(_data(request).add_feed, url,
                                                   name or None)
    except UsageError as exc:
        return await feeds(request, f"Not added: {exc}", {"url": url, "name": name}, 400)
    what = "Added" if added else "Already there (updated its name if given):"
    return _back(request, "/feeds", f"{what} feed {row['feed_id']} ({row['kind']}), "
                 f"{row['url']}" + (f". {note}" if note else ""))


def _feed_change(action: str) -> Handler:
    async def change(request: Request) -> Response:
        await _form(request)
        feed_id = _number(request, "feed_id")
        data = _data(request)
        call = data.pause_feed if action == "pause" else data.resume_feed
        row = await run_in_threadpool(call, feed_id)
        if row is None:
            raise HTTPException(404, f"no feed {feed_id} (removed?)")
        done = "Paused" if action == "pause" else "Resumed (polled at the next cycle)"
        return _back(request, "/feeds", f"{done}: feed {feed_id}, {row['name'] or row['url']}")

    return change


# --- Digests ----------------------------------------------------------------------------------


async def digests(request: Request) -> Response:
    before = request.query_params.get("before")
    page = await run_in_threadpool(_data(request).digests,
                                   before=int(before) if before and before.isdigit() else None)
    return _render(request, "digests.html", {
        "runs": page.rows, "next": page.next[1] if page.next else None})


async def digest(request: Request) -> Response:
    run_id = _number(request, "run_id")
    view = await run_in_threadpool(_data(request).digest, run_id)
    if view is None:
        raise HTTPException(404, f"no digest {run_id}")
    return _render(request, "digest.html", {"run": view.row, "has_html": bool(view.html),
                                            "text": view.text})


async def digest_body(request: Request) -> Response:
    """The stored HTML as it was sent, for the sandboxed frame of the digest page: its own
    CSP allows its inline styles and nothing else, and only our pages may frame it."""
    run_id = _number(request, "run_id")
    view = await run_in_threadpool(_data(request).digest, run_id)
    if view is None:
        raise HTTPException(404, f"no digest {run_id}")
    # Its links open outside the frame (a new tab: the frame itself may only show ours).
    body = view.html or "<p>This digest's body was removed by housekeeping.</p>"
    return Response('<base target="_blank">' + body, media_type="text/html", headers={
                        "Content-Security-Policy": FRAMED_CSP,
                        "X-Frame-Options": "SAMEORIGIN"})


async def resend(request: Request) -> Response:
    form = await _form(request)
    delivery_id = _number(request, "delivery_id")
    run = str(form.get("run_id") or "")
    back = f"/digests/{run}" if run.isdigit() else "/digests"
    why = await run_in_threadpool(_data(request).resend, delivery_id)
    return _back(request, back, why or f"Delivery {delivery_id} is queued again: the daemon "
                 "sends it within a minute.")


# --- Watchlists, search, events, entries ------------------------------------------------------


async def watchlists(request: Request) -> Response:
    view = await run_in_threadpool(_data(request).watchlists)
    return _render(request, "watchlists.html", {"view": view})


def _facets(request: Request) -> Facets:
    """The search's narrowing from its query string (UsageError for a bad date)."""
    params = request.query_params
    return Facets(**{name: (params.get(name) or "").strip() or None for name in (
        "watchlist", "entry", "feed", "language", "country")},
        since=_since(request, "since"), until=_since(request, "until"))


async def search(request: Request) -> Response:
    q = request.query_params.get("q", "")
    params = request.query_params
    error, results, facets = None, None, Facets()
    try:
        facets = _facets(request)
        if q.strip():
            query = parse_query(q)
            before = params.get("after")
            results = await run_in_threadpool(
                _data(request).search, query, facets,
                before=("", int(before)) if before and before.isdigit() else None)
    except QueryError as exc:
        error = {"column": exc.column, "reason": exc.reason,
                 "pointer": " " * (exc.column - 1) + "^"}
    except UsageError as exc:
        error = {"column": None, "reason": str(exc), "pointer": ""}
    following = None
    if results is not None and results.next is not None:
        following = "/search?" + urlencode({**params, "after": results.next[1]})
    return _render(request, "search.html", {
        "error": error, "results": results, "facets": facets, "following": following,
        "rule": rule_yaml(q) if results is not None else "",
        "since": params.get("since", ""), "until": params.get("until", "")},
        400 if error else 200)


def rule_yaml(query: str) -> str:
    """The query as a rule to paste under a watchlist file's ``rules:``."""
    import yaml

    name = " ".join(query.split())[:60]
    ident = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "my-rule"
    rule = [{"id": ident, "name": name, "query": query}]
    return str(yaml.safe_dump({"rules": rule}, allow_unicode=True, sort_keys=False,
                              width=1000))


async def event(request: Request) -> Response:
    event_id = _number(request, "event_id")
    found = await run_in_threadpool(_data(request).event, event_id)
    if found is None:
        raise HTTPException(404, f"no event {event_id}")
    if found.row["event_id"] != event_id:  # merged into another: its survivor
        return RedirectResponse(f"/events/{found.row['event_id']}", 301)
    return _render(request, "event.html", {"event": found.row, "hits": found.hits,
                                           "articles": found.articles})


async def entry(request: Request) -> Response:
    view = await run_in_threadpool(_data(request).entry, request.path_params["watchlist"],
                                   request.path_params["entry"])
    if view is None:
        raise HTTPException(404, "no such entry or rule in the watchlists")
    return _render(request, "entry.html", {"view": view})


# --- Atom ---------------------------------------------------------------------------------------


async def _atom(request: Request, title: str, ident: str, watchlist: str,
                entry_id: str | None, rule: bool = False) -> Response:
    """The Atom feed of the latest events of a watchlist, an entry or a rule."""
    data = _data(request)
    view = await run_in_threadpool(data.watchlists)
    known = {w.name: ({r.id for r in w.rules} if rule else {e.id for e in w.entries})
             for w in view.watchlists}
    if watchlist not in known or (entry_id is not None and entry_id not in known[watchlist]):
        raise HTTPException(404, "no such watchlist, entry or rule")
    page = await run_in_threadpool(data.events, watchlist=watchlist, entry=entry_id,
                                   limit=atom.ENTRIES)
    site = str(request.base_url).rstrip("/")
    body = atom.event_feed(title, ident, str(request.url), site, page.rows,
                           _state(request).clock())
    return Response(body, media_type="application/atom+xml; charset=utf-8")


async def watchlist_atom(request: Request) -> Response:
    name = request.path_params["name"]
    return await _atom(request, f"monitor: {name}", atom.urn("watchlist", name), name, None)


async def entry_atom(request: Request) -> Response:
    watchlist, entry_id = request.path_params["watchlist"], request.path_params["entry"]
    return await _atom(request, f"monitor: {watchlist}/{entry_id}",
                       atom.urn("entry", f"{watchlist}/{entry_id}"), watchlist, entry_id)


async def rule_atom(request: Request) -> Response:
    watchlist, rule_id = request.path_params["watchlist"], request.path_params["rule"]
    return await _atom(request, f"monitor: rule {watchlist}/{rule_id}",
                       atom.urn("rule", f"{watchlist}/{rule_id}"), watchlist, rule_id, True)


# --- Login ------------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    state = _state(request)
    if state.mode != "login":
        return RedirectResponse("/", 303)
    return _render(request, "login.html", {"next": safe_next(request.query_params.get("next")),
                                           "error": None, "name": ""})


async def login_post(request: Request) -> Response:
    state = _state(request)
    if state.mode != "login":
        return RedirectResponse("/", 303)
    form = await _form(request)
    name, password = str(form.get("name") or ""), str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    address = request.client.host if request.client else "unknown"
    keys = (f"ip:{address}", f"user:{name}")
    wait = state.limiter.retry_after(*keys)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return _render(request, "login.html", {
            "next": target, "name": name,
            "error": f"Too many failed logins: try again in {minutes} minute(s)."}, 429,
            {"Retry-After": str(int(wait) + 1)})
    user = await run_in_threadpool(verify, state.config.users, name, password)
    if user is None:
        state.limiter.failed(*keys)
        return _render(request, "login.html", {
            "next": target, "name": name, "error": "Wrong name or password."}, 401)
    state.limiter.forget(f"user:{name}")
    request.session.clear()  # a new session: a token planted before login is not kept
    request.session.update(user=user.name, key=user_key(user))
    return RedirectResponse(target, 303)


async def logout(request: Request) -> Response:
    await _form(request)
    request.session.clear()
    return RedirectResponse("/login" if _state(request).mode == "login" else "/", 303)


async def locked(request: Request) -> Response:
    """Any page or API path on an address others can reach, while web.auth is missing."""
    message = ("The web interface listens on an address other machines can reach, and "
               "web.auth is not configured: add users or a token to monitor.yaml (README, "
               "'Web interface'), or bind server.host to 127.0.0.1.")
    if machine_path(request.url.path):
        return JSONResponse({"error": message}, 401)
    return _render(request, "setup.html", {"message": message}, 401)


def routes() -> list[Route]:
    return [
        Route("/", today, name="today"),
        Route("/feeds", feeds, name="feeds"),
        Route("/feeds", feed_add, methods=["POST"]),
        Route("/feeds/{feed_id:int}/pause", _feed_change("pause"), methods=["POST"]),
        Route("/feeds/{feed_id:int}/resume", _feed_change("resume"), methods=["POST"]),
        Route("/feeds/watchlist/{name}.atom", watchlist_atom),
        Route("/feeds/entry/{watchlist}/{entry}.atom", entry_atom),
        Route("/feeds/rule/{watchlist}/{rule}.atom", rule_atom),
        Route("/digests", digests, name="digests"),
        Route("/digests/{run_id:int}", digest, name="digest"),
        Route("/digests/{run_id:int}/body", digest_body, name="digest_body"),
        Route("/deliveries/{delivery_id:int}/resend", resend, methods=["POST"]),
        Route("/watchlists", watchlists, name="watchlists"),
        Route("/search", search, name="search"),
        Route("/events/{event_id:int}", event, name="event"),
        Route("/entries/{watchlist}/{entry}", entry, name="entry"),
        Route("/login", login, name="login"),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
