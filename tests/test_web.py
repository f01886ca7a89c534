"""The web interface and API in-process (Starlette's TestClient over httpx) on a store filled
by the real pipeline from local feed and page servers: security headers, CSRF, the access
modes, login and its rate limit, redirects, escaping, the API's pages and its OpenAPI
description, Atom feeds, resend, pause."""

from __future__ import annotations

import json
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from monitor.channels import channel as make_channel
from monitor.config import Config, FeedConfig
from monitor.config.delivery import DigestConfig
from monitor.config.web import WebConfig, WebUser
from monitor.health import health_routes
from monitor.scheduler import Daemon
from monitor.store import Store
from monitor.watchlist import load_watchlists
from monitor.web import api
from monitor.web.app import create_app
from monitor.web.auth import LoginLimiter, hash_password
from monitor.web.data import StoreData
from monitor.web.security import FRAMED_CSP, PAGE_CSP, safe_next
from tests.support import Receiver, Reply, Server, article_html, rss
from tests.test_pipeline import config_for

SCRIPT_TITLE = "<script>alert('x')</script> Putin in Pyongyang"
FEED_NAME = "<b>Wire</b> & Co"
LEADERS = [("Vladimir Putin", "Pyongyang"), ("Kim Jong Un", "Vladivostok"),
           ("Volodymyr Zelensky", "Kyiv"), ("Sergei Lavrov", "Hanoi"), ("To Lam", "Moscow")]
VOCAB = ["harbour", "grain", "pipeline", "ministers", "budget", "railway", "election",
         "drought", "cabinet", "parliament", "treaty", "border", "tariff", "vaccine",
         "satellite", "reactor", "frigate", "summit", "refinery", "currency", "protest",
         "embassy", "airline", "copper", "wheat", "fishery", "glacier", "port", "stadium",
         "archive", "museum", "tunnel", "bridge", "orchestra", "festival", "cathedral"]
PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Ticks:
    """A monotonic clock for the login limiter, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def article_pages(server: Server) -> None:
    """/wire.rss with one article per leader (the first titled with a <script>), each a
    different story; /quiet.rss with nothing."""
    items = []
    for i, (leader, place) in enumerate(LEADERS):
        words = random.Random(i).sample(VOCAB, 24)
        paragraphs = [f"{leader} arrived in {place} on Tuesday for talks about the "
                      f"{words[0]} and the {words[1]}, officials said.",
                      " ".join(words[2:14]).capitalize() + " were discussed at length.",
                      " ".join(words[14:]).capitalize() + " remained on the agenda."]
        title = SCRIPT_TITLE if i == 0 else f"{leader} in {place}"
        server.routes[f"/a{i}"] = Reply(200, article_html(title, paragraphs),
                                        {"Content-Type": "text/html"})
        items.append({"title": title, "link": server.url(f"/a{i}"), "guid": f"a{i}"})
    server.routes["/wire.rss"] = Reply(200, rss(items), {"Content-Type": "application/rss+xml"})
    server.routes["/quiet.rss"] = Reply(200, rss([]), {"Content-Type": "application/rss+xml"})


@dataclass
class Filled:
    store: Store
    config: Config
    clock: Clock
    daemon: Daemon


def fill(store: Store, server: Server, receiver: Receiver) -> Filled:
    """Poll the feeds, then make the daily digest, whose webhook answers 400 (failed)."""
    article_pages(server)
    digest = DigestConfig("daily", "0 7 * * *", "UTC", channels=(make_channel(
        "webhook", url=receiver.url(), allow_private_addresses=True),))
    config = replace(config_for(store.url, []), digests=(digest,), feeds=(
        FeedConfig(server.url("/wire.rss"), name=FEED_NAME), FeedConfig(server.url("/quiet.rss"))))
    clock = Clock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    daemon = Daemon(config, store, load_watchlists(config.watchlists), clock)
    daemon.once()
    receiver.replies = [400]
    clock.now = datetime(2026, 11, 25, 7, 0, 30, tzinfo=UTC)
    daemon.once()
    return Filled(store, config, clock, daemon)


def make_app(filled: Filled, web: WebConfig | None = None, host: str = "127.0.0.1",
             limiter: LoginLimiter | None = None) -> Starlette:
    data = StoreData(filled.store, filled.config.watchlists, filled.clock)
    health = health_routes(filled.daemon.health(lambda: True), filled.daemon.metrics,
                           (web or WebConfig()).metrics_token)
    return create_app(data, web or WebConfig(), host, health=health, clock=filled.clock,
                      limiter=limiter)


def client(app: Starlette, **kwargs: Any) -> TestClient:
    return TestClient(app, follow_redirects=False, base_url="http://127.0.0.1:8080",
                      **kwargs)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field in the page"
    return found[1]


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    """One SQLite store for the tests that only read (security, pages, Atom)."""
    server, receiver = Server(), Receiver()
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('web') / 'm.db'}")
    try:
        yield fill(store, server, receiver)
    finally:
        store.close()
        server.close()
        receiver.close()


@pytest.fixture
def filled_db(store: Store, server: Server, receiver: Receiver) -> Filled:
    """The same on SQLite and PostgreSQL, for the tests that page or change things."""
    return fill(store, server, receiver)


@pytest.fixture(scope="module")
def users() -> tuple[WebUser, ...]:
    return (WebUser("alice", hash_password(PASSWORD)),)


def page_paths(filled: Filled) -> list[str]:
    run_id = _first_run(filled)
    return ["/", "/feeds", "/digests", f"/digests/{run_id}", f"/digests/{run_id}/body",
            "/watchlists", "/search", "/search?q=%40putin"]


def _first_run(filled: Filled) -> int:
    data = StoreData(filled.store, filled.config.watchlists, filled.clock)
    return int(data.digests().rows[0]["run_id"])


API_PATHS = ["/api/v1/feeds", "/api/v1/digests", "/api/v1/hits", "/api/v1/articles",
             "/api/v1/events", "/api/v1/events/1", "/api/v1/search?q=putin", "/api/v1/trends",
             "/api/v1/openapi.json"]
ATOM_PATHS = ["/feeds/watchlist/russia-asia-diplomacy.atom",
              "/feeds/entry/russia-asia-diplomacy/putin.atom"]
EXAMPLE = {"/search": {"q": "putin"}}  # the parameters a listing needs


# --- headers ---------------------------------------------------------------------------------


def test_every_page_has_the_security_headers_and_the_search_box(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        for path in page_paths(filled) + API_PATHS + ATOM_PATHS + ["/static/style.css"]:
            r = c.get(path)
            assert r.status_code == 200, (path, r.text[:300])
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["referrer-policy"] == "no-referrer", path
            if path.endswith("/body"):  # the stored digest, in a frame of our own pages
                assert r.headers["content-security-policy"] == FRAMED_CSP
                assert r.headers["x-frame-options"] == "SAMEORIGIN"
                assert "script-src" not in FRAMED_CSP and "frame-ancestors 'self'" in FRAMED_CSP
                continue
            assert r.headers["content-security-policy"] == PAGE_CSP, path
            assert r.headers["x-frame-options"] == "DENY", path
            if r.headers["content-type"].startswith("text/html"):
                assert '<input type="search" name="q"' in r.text, path
                assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), path  # no inline
                assert not re.search(r"<[^>]+\son[a-z]+\s*=", r.text), path  # no handlers
                assert r.headers["cache-control"] == "no-store"
    assert "'unsafe-inline'" not in PAGE_CSP and "frame-ancestors 'none'" in PAGE_CSP


def test_the_digest_frame_is_sandboxed(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        page = c.get(f"/digests/{_first_run(filled)}").text
    frame = re.search(r"<iframe[^>]*>", page)
    assert frame and 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame[0]
    assert "allow-scripts" not in frame[0] and "allow-same-origin" not in frame[0]
    with client(make_app(filled)) as c:
        body = c.get(f"/digests/{_first_run(filled)}/body").text
    assert body.startswith('<base target="_blank">') and "<script" not in body


def test_a_large_body_is_refused(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        token = csrf_of(c.get("/feeds").text)
        r = c.post("/feeds", data={"csrf": token, "url": "https://x.example/" + "a" * 70000})
    assert r.status_code == 413


# --- escaping --------------------------------------------------------------------------------


def test_untrusted_text_is_shown_as_text(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        feeds, today = c.get("/feeds").text, c.get("/").text
        events = [c.get(f"/events/{n}").text for n in range(1, 6)]
        atom = c.get(ATOM_PATHS[0]).text
    for page in (feeds, today):  # the feed's name, as each outlet is named
        assert "&lt;b&gt;Wire&lt;/b&gt; &amp; Co" in page and "<b>Wire</b>" not in page
    assert any("&lt;script&gt;alert(" in page for page in events)  # every outlet's title
    assert not any("<script>alert(" in page for page in events)
    assert "&lt;b&gt;Wire&lt;/b&gt;" in atom and "<b>" not in atom


def test_links_are_http_only(filled: Filled) -> None:
    from monitor.web.app import _http

    assert _http("https://example.org/a") == "https://example.org/a"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", None, 3):
        assert _http(bad) is None


def test_controls_and_bidi_overrides_are_dropped(filled: Filled) -> None:
    from monitor.web.app import _finalize

    assert _finalize("a\x1bb\u202ec\x07\nd") == "abc\nd"
    assert _finalize(None) == ""


# --- access modes ----------------------------------------------------------------------------


def test_loopback_without_auth_is_open(filled: Filled) -> None:
    with client(make_app(filled, host="127.0.0.1")) as c:
        assert c.get("/").status_code == 200
        assert c.get("/api/v1/hits").status_code == 200
        for host in ("localhost:8080", "[::1]:8080", "127.0.0.2"):
            assert c.get("/", headers={"Host": host}).status_code == 200, host


def test_loopback_answers_only_loopback_names(filled: Filled) -> None:
    """DNS rebinding: another site's name pointed at 127.0.0.1 gets nothing."""
    with client(make_app(filled, host="127.0.0.1")) as c:
        for path in ("/", "/api/v1/hits", "/feeds"):
            r = c.get(path, headers={"Host": "attacker.example:8080"})
            assert r.status_code == 421 and "127.0.0.1" in r.text, path
        assert c.post("/feeds", headers={"Host": "attacker.example"}).status_code == 421
        assert c.get("/healthz", headers={"Host": "attacker.example"}).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "monitor.example.org"])
def test_another_address_without_auth_is_locked(filled: Filled, host: str) -> None:
    app = make_app(filled, host=host)
    with client(app) as c:
        for path in page_paths(filled) + API_PATHS + ATOM_PATHS + ["/login", "/nowhere"]:
            r = c.get(path)
            assert r.status_code == 401, path
            if path.startswith("/api/") or path.endswith(".atom"):
                assert "web.auth" in r.json()["error"]
            else:
                assert "web.auth" in r.text and "hash-password" in r.text
        for path in ("/feeds", "/feeds/1/pause", "/login", "/logout", "/deliveries/1/resend"):
            assert c.post(path, data={"csrf": "x"}).status_code == 401, path
        health = c.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert c.get("/metrics").status_code == 200
        assert c.get("/static/style.css").status_code == 200


def test_every_route_is_guarded(filled: Filled) -> None:
    """Each route of the app (but health, metrics, login, static) answers 401 when locked:
    a route added later cannot slip past the guard."""
    app = make_app(filled, host="0.0.0.0")
    with client(app) as c:
        for route in app.routes:
            if not isinstance(route, Route) or route.path in ("/healthz", "/metrics"):
                continue
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            for method in sorted(route.methods or {"GET"}):
                if method == "HEAD":
                    continue
                assert c.request(method, path).status_code == 401, (method, path)


def test_login_mode_demands_a_session_or_the_token(filled: Filled,
                                                   users: tuple[WebUser, ...]) -> None:
    web = WebConfig(users=users, token="t" * 32, secret="s" * 32)
    with client(make_app(filled, web, host="0.0.0.0")) as c:
        r = c.get("/feeds?x=1")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Ffeeds%3Fx%3D1"
        r = c.get("/api/v1/hits")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert c.get(ATOM_PATHS[0]).status_code == 401
        assert c.get("/api/v1/hits", headers={"Authorization": "Bearer wrong"}).status_code \
            == 401
        bearer = {"Authorization": "Bearer " + "t" * 32}
        assert c.get("/api/v1/hits", headers=bearer).status_code == 200
        assert c.get(ATOM_PATHS[0], headers=bearer).status_code == 200
        assert c.get("/healthz").status_code == 200
        login = c.get("/login?next=/feeds")
        assert login.status_code == 200 and 'value="/feeds"' in login.text
        r = c.post("/login", data={"csrf": csrf_of(login.text), "name": "alice",
                                   "password": PASSWORD, "next": "/feeds"})
        assert r.status_code == 303 and r.headers["location"] == "/feeds"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        page = c.get("/feeds")
        assert page.status_code == 200 and "Log out" in page.text
        assert c.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 303
        assert c.get("/feeds").status_code == 303


def test_a_new_password_hash_ends_old_sessions(filled: Filled,
                                               users: tuple[WebUser, ...]) -> None:
    web = WebConfig(users=users, secret="s" * 32)
    with client(make_app(filled, web, host="0.0.0.0")) as c:
        login = c.get("/login")
        c.post("/login", data={"csrf": csrf_of(login.text), "name": "alice",
                               "password": PASSWORD})
        assert c.get("/").status_code == 200
        changed = WebConfig(users=(WebUser("alice", hash_password("another one!")),),
                            secret="s" * 32)
        with client(make_app(filled, changed, host="0.0.0.0"), cookies=c.cookies) as d:
            assert d.get("/").status_code == 303


def test_a_forged_session_is_ignored(filled: Filled, users: tuple[WebUser, ...]) -> None:
    from itsdangerous import URLSafeTimedSerializer

    from monitor.web.auth import user_key

    forged = URLSafeTimedSerializer("another secret" * 3, salt="monitor.web.session").dumps(
        {"user": "alice", "key": user_key(users[0])})
    web = WebConfig(users=users, secret="s" * 32)
    with client(make_app(filled, web, host="0.0.0.0"),
                cookies={"monitor_session": forged}) as c:
        assert c.get("/").status_code == 303


def test_secure_cookies_behind_a_trusted_proxy_only(filled: Filled,
                                                    users: tuple[WebUser, ...]) -> None:
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    for proxies, secure in (((), False), (("127.0.0.1",), True)):
        web = WebConfig(users=users, secret="s" * 32, trusted_proxies=proxies)
        with client(make_app(filled, web, host="0.0.0.0"), client=("127.0.0.1", 5000)) as c:
            cookie = c.get("/login", headers=tls).headers["set-cookie"]
        assert ("Secure" in cookie) is secure, proxies


def test_tls_proxy_header_from_an_untrusted_address_is_ignored(
        filled: Filled, users: tuple[WebUser, ...]) -> None:
    web = WebConfig(users=users, secret="s" * 32, trusted_proxies=("10.0.0.5",))
    with client(make_app(filled, web, host="0.0.0.0"), client=("127.0.0.1", 5000)) as c:
        cookie = c.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "Secure" not in cookie


def test_metrics_can_take_its_own_token(filled: Filled) -> None:
    web = WebConfig(metrics_token="m" * 20)
    with client(make_app(filled, web, host="0.0.0.0")) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer " + "m" * 20}
                     ).status_code == 200
        assert c.get("/healthz").status_code == 200


# --- CSRF, redirects, rate limit -------------------------------------------------------------


def test_every_post_needs_the_sessions_csrf_token(filled: Filled) -> None:
    app = make_app(filled)
    posts = [re.sub(r"\{[^}]+\}", "1", r.path) for r in app.routes
             if isinstance(r, Route) and "POST" in (r.methods or ())]
    assert {"/feeds", "/feeds/1/pause", "/login", "/logout"} <= set(posts)
    with client(app) as c:
        token = csrf_of(c.get("/feeds").text)
        other = csrf_of(client(app).get("/feeds").text)  # another visitor's session
        for path in posts:
            for form in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": other}):
                r = c.post(path, data=form)
                assert r.status_code in (403, 303), (path, form)
                if path != "/login":  # login: open mode sends it home without a form
                    assert r.status_code == 403, (path, form)
        assert c.post("/feeds/1/pause", data={"csrf": token}).status_code == 303


def test_login_redirects_stay_on_this_site(filled: Filled, users: tuple[WebUser, ...]) -> None:
    for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "evil",
                "/\t/evil.example", "javascript:alert(1)", "", None, "http:/x"):
        assert safe_next(bad) == "/", bad
    for good in ("/", "/feeds", "/search?q=%40putin", "/digests/3#top"):
        assert safe_next(good) == good
    web = WebConfig(users=users, secret="s" * 32)
    with client(make_app(filled, web, host="0.0.0.0")) as c:
        page = c.get("/login?next=//evil.example/")
        assert 'name="next" value="/"' in page.text
        r = c.post("/login", data={"csrf": csrf_of(page.text), "name": "alice",
                                   "password": PASSWORD, "next": "//evil.example/"})
        assert r.headers["location"] == "/"


def test_logins_are_rate_limited_per_address_and_per_user(
        filled: Filled, users: tuple[WebUser, ...]) -> None:
    ticks = Ticks()
    web = WebConfig(users=users, secret="s" * 32, trusted_proxies=("127.0.0.1",))
    app = make_app(filled, web, host="0.0.0.0", limiter=LoginLimiter(clock=ticks))

    def attempt(c: TestClient, password: str, address: str, name: str = "alice") -> int:
        page = c.get("/login", headers={"X-Forwarded-For": address})
        return c.post("/login", headers={"X-Forwarded-For": address}, data={
            "csrf": csrf_of(page.text), "name": name, "password": password}).status_code

    with client(app, client=("127.0.0.1", 5000)) as c:
        assert [attempt(c, "wrong", "198.51.100.1") for _ in range(5)] == [401] * 5
        assert attempt(c, PASSWORD, "198.51.100.1") == 429  # right password, too late
        assert attempt(c, PASSWORD, "198.51.100.2") == 429  # the user is limited too
        assert attempt(c, "x", "198.51.100.2", "bob") == 401  # another user, address: fine
        ticks.now += 301
        assert attempt(c, PASSWORD, "198.51.100.1") == 303
    limiter = LoginLimiter(clock=ticks, keys=3)
    for key in "abcd":
        limiter.failed(key)
    assert len(limiter._failures) == 3  # bounded memory


# --- pages -----------------------------------------------------------------------------------


def test_pause_resume_and_add_from_the_feeds_page(filled_db: Filled) -> None:
    store = filled_db.store
    with client(make_app(filled_db)) as c:
        page = c.get("/feeds")
        wire = store.feed(filled_db.config.feeds[0].url)
        assert wire is not None and f'action="/feeds/{wire.id}/pause"' in page.text
        r = c.post(f"/feeds/{wire.id}/pause", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 303 and r.headers["location"] == "/feeds"
        assert store.feed(str(wire.id)).polling == "paused"  # type: ignore[union-attr]
        page = c.get("/feeds")
        assert "Paused: feed" in page.text and f'/feeds/{wire.id}/resume' in page.text
        c.post(f"/feeds/{wire.id}/resume", data={"csrf": csrf_of(page.text)})
        assert store.feed(str(wire.id)).polling == "on"  # type: ignore[union-attr]
        r = c.post("/feeds", data={"csrf": csrf_of(page.text), "url": "ftp://x.example/f"})
        assert r.status_code == 400 and "Not added" in r.text and 'value="ftp://' in r.text
        r = c.post("/feeds", data={"csrf": csrf_of(page.text), "url": "https://new.example/f",
                                   "name": "New"})
        assert r.status_code == 303
        assert store.feed("https://new.example/f") is not None
        assert c.post("/feeds/99999/pause", data={"csrf": csrf_of(page.text)}
                      ).status_code == 404


def test_adding_a_page_adds_the_feed_it_names(filled_db: Filled) -> None:
    """As `feeds add`: a news site's page is looked at, and the feed it links is added."""
    from monitor.cli.core import _find_source

    site = Server()
    try:
        site.routes["/news"] = Reply(200, (
            b'<html><head><title>News</title><link rel="alternate" type="application/rss+xml"'
            b' title="All news" href="/all.rss"></head><body>News</body></html>'),
            {"Content-Type": "text/html"})
        site.routes["/all.rss"] = Reply(200, rss([]), {"Content-Type": "application/rss+xml"})
        data = StoreData(filled_db.store, filled_db.config.watchlists, filled_db.clock,
                         discover=lambda url: _find_source(url, filled_db.config))
        daemon = filled_db.daemon
        health = health_routes(daemon.health(lambda: True), daemon.metrics, None)
        with client(create_app(data, WebConfig(), "127.0.0.1", health=health,
                               clock=filled_db.clock)) as c:
            page = c.get("/feeds").text
            r = c.post("/feeds", data={"csrf": csrf_of(page), "url": site.url("/news")})
            assert r.status_code == 303, re.findall(r"Not added[^<]*", r.text)
            flash = c.get("/feeds").text
        feed = filled_db.store.feed(site.url("/all.rss"))
        assert feed is not None and feed.kind == "rss"
        assert f"feed {feed.id} (rss)" in flash and "/all.rss" in flash
    finally:
        site.close()


def test_resend_a_failed_delivery(filled_db: Filled, receiver: Receiver) -> None:
    run_id = _first_run(filled_db)
    with client(make_app(filled_db)) as c:
        page = c.get(f"/digests/{run_id}")
        assert "failed" in page.text and "Resend" in page.text
        delivery = re.search(r'action="/deliveries/(\d+)/resend"', page.text)
        assert delivery
        token = csrf_of(page.text)
        r = c.post(f"/deliveries/{delivery[1]}/resend",
                   data={"csrf": token, "run_id": str(run_id)})
        assert r.status_code == 303 and r.headers["location"] == f"/digests/{run_id}"
        assert "queued again" in c.get(f"/digests/{run_id}").text
        before = len(receiver.received)
        report = filled_db.daemon.deliveries()
        assert report.sent == 1 and len(receiver.received) == before + 1
        page = c.get(f"/digests/{run_id}")
        assert "Resend" not in page.text
        r = c.post(f"/deliveries/{delivery[1]}/resend", data={"csrf": token})
        assert "only a failed delivery is resent" in c.get(r.headers["location"]).text


def test_search_parses_the_query_and_points_at_the_column(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        bad = c.get("/search", params={"q": "(@putin OR"})
        assert bad.status_code == 400 and "Column 11" in bad.text
        assert "(@putin OR\n          ^" in bad.text
        good = c.get("/search", params={"q": "@putin NEAR/10 Pyongyang"})
        assert good.status_code == 200 and "Nothing found" not in good.text


def test_search_highlights_and_offers_the_query_as_a_rule(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        page = c.get("/search", params={"q": "Vladivostok", "language": "en",
                                         "since": "2026-11-01"}).text
        assert "<mark>Vladivostok</mark>" in page and "Kim Jong Un in Vladivostok" in page
        assert "rules:\n- id: vladivostok\n  name: Vladivostok\n  query: Vladivostok" in page
        assert "Nothing found" in c.get("/search", params={"q": "Vladivostok",
                                                            "language": "fr"}).text
        assert "Nothing found" in c.get("/search", params={"q": "Vladivostok",
                                                            "country": "zz"}).text
        assert "Nothing found" in c.get("/search", params={"q": "Vladivostok",
                                                            "entry": "hanoi"}).text
        nowhere = c.get("/search", params={"q": "Vladivostok", "feed": "99"})
        assert nowhere.status_code == 400 and "no such feed" in nowhere.text
        assert c.get("/search", params={"q": "x", "since": "nonsense"}).status_code == 400


def test_an_event_lists_its_outlets_hits_and_texts(filled: Filled) -> None:
    data = StoreData(filled.store, filled.config.watchlists, filled.clock)
    event_id = max(data.events().rows, key=lambda e: e["articles"])["event_id"]
    with client(make_app(filled)) as c:
        page = c.get(f"/events/{event_id}").text
        found = data.event(event_id)
        assert found is not None and len(found.row["outlets"]) >= 2
        for outlet in found.row["outlets"]:
            assert f'href="{outlet["url"]}"' in page
        assert "<details class=\"article\">" in page and "officials said" in page
        assert "<mark>" in page and "alias “" in page
        assert '/entries/russia-asia-diplomacy/putin"' in page
        assert c.get("/events/999999").status_code == 404


def test_a_merged_event_id_redirects_to_the_survivor(filled_db: Filled) -> None:
    data = StoreData(filled_db.store, filled_db.config.watchlists, filled_db.clock)
    survivor = data.events(limit=1).rows[0]["event_id"]
    with filled_db.store.engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO events (title, language, published, first_seen, last_seen, "
            "merged_into) SELECT title, language, published, first_seen, last_seen, id "
            f"FROM events WHERE id = {int(survivor)}")
        merged = c.exec_driver_sql("SELECT max(id) FROM events").scalar()
    with client(make_app(filled_db)) as c:
        r = c.get(f"/events/{merged}")
        assert r.status_code == 301 and r.headers["location"] == f"/events/{survivor}"
        assert c.get(f"/api/v1/events/{merged}").json()["event_id"] == survivor


def test_an_entry_page_charts_its_days_and_lists_its_events(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        page = c.get("/entries/russia-asia-diplomacy/putin").text
        assert "<svg" in page and "90 days" in page and "Путин" in page
        assert "/events/" in page and "Mentioned with it" in page
        assert '/entries/russia-asia-diplomacy/kim-jong-un"' in page  # co-mentioned
        assert c.get("/entries/russia-asia-diplomacy/nope").status_code == 404
        assert c.get("/entries/nope/putin").status_code == 404


def test_today_groups_events_by_watchlist_and_entry(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        page = c.get("/?since=2026-11-01").text
        assert "russia-asia-diplomacy" in page and "Vladimir Putin" in page
        assert '<time datetime="2026-11-24T10:00:00Z">2026-11-24 10:00 UTC</time>' in page
        assert "not available yet" not in page and "/events/" in page
        assert "<svg" in page  # the entries' sparklines
        assert "outlet" in page and "articles" in page
        assert c.get("/?since=nonsense").status_code == 200


def test_watchlists_page_shows_entries_and_findings(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        page = c.get("/watchlists").text
    assert "Vladimir Putin" in page and "No problems found" in page and "Путин" in page


# --- API -------------------------------------------------------------------------------------


def test_api_pages_through_everything_once(filled_db: Filled) -> None:
    with client(make_app(filled_db)) as c:
        everything = c.get("/api/v1/hits", params={"limit": 200}).json()
        assert everything["next"] is None and len(everything["items"]) >= 5
        seen: list[int] = []
        url: str | None = "/api/v1/hits?limit=2"
        while url:
            r = c.get(url)
            assert r.status_code == 200
            body = r.json()
            assert len(body["items"]) <= 2
            seen += [h["hit_id"] for h in body["items"]]
            url = body["next"]
            if url:
                assert r.headers["link"] == f'<{url}>; rel="next"'
        assert seen == [h["hit_id"] for h in everything["items"]]
        assert seen == sorted(seen, reverse=True)  # one first_seen: newest id first
        articles = c.get("/api/v1/articles?limit=3").json()
        more = c.get(articles["next"]).json()
        ids = [a["article_id"] for a in articles["items"] + more["items"]]
        assert len(ids) == len(set(ids)) == 5
        events = c.get("/api/v1/events", params={"limit": 200}).json()["items"]
        paged: list[int] = []
        url = "/api/v1/events?limit=1"
        while url:
            body = c.get(url).json()
            paged += [e["event_id"] for e in body["items"]]
            url = body["next"]
        assert paged == [e["event_id"] for e in events] and len(paged) >= 2
        every = [a["article_id"] for a in c.get("/api/v1/search?q=arrived").json()["items"]]
        ids = []
        url = "/api/v1/search?q=arrived&limit=2"
        while url:
            body = c.get(url).json()
            ids += [a["article_id"] for a in body["items"]]
            url = body["next"]
        assert ids == every and len(ids) == len(set(ids)) >= 3
        feeds = c.get("/api/v1/feeds?limit=1").json()
        assert feeds["items"][0]["feed_id"] < c.get(feeds["next"]).json()["items"][0]["feed_id"]


def test_api_refuses_bad_parameters(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        for query, words in (("cursor=nonsense", "cursor"), ("limit=0", "limit"),
                             ("limit=x", "limit"), ("watchlists=a", "did you mean"),
                             ("since=yesterday", "since"),
                             ("cursor=WyJ4IiwxXQ", "cursor")):
            r = c.get(f"/api/v1/hits?{query}")
            assert r.status_code == 400 and words in r.json()["error"], query
        assert len(c.get("/api/v1/hits?limit=100000").json()["items"]) <= 200
        assert c.get("/api/v1/nothing").status_code == 404


def test_openapi_describes_the_api_and_its_answers(filled: Filled) -> None:
    with client(make_app(filled)) as c:
        spec = c.get("/api/v1/openapi.json").json()
        validate(spec)
        assert spec["openapi"] == "3.1.0"
        for endpoint in api.ENDPOINTS:
            path = api.PREFIX + endpoint.path
            schema = spec["paths"][path]["get"]["responses"]["200"]["content"][
                "application/json"]["schema"]
            answer = c.get(path, params=EXAMPLE.get(endpoint.path)).json()
            assert answer["items"], path
            jsonschema.validate(answer, {**schema, "components": spec["components"]})
        one = spec["paths"][api.PREFIX + "/events/{event_id}"]["get"]["responses"]["200"]
        event = c.get("/api/v1/events/1").json()
        jsonschema.validate(event, {**one["content"]["application/json"]["schema"],
                                    "components": spec["components"]})
        assert c.get("/api/v1/events/999999").status_code == 404


def test_api_items_have_the_cli_json_keys(filled: Filled) -> None:
    from tests.test_cli_ingest import ARTICLE_KEYS, FEED_KEYS, HIT_KEYS
    from tests.test_events_cli import EVENT_KEYS

    with client(make_app(filled)) as c:
        assert set(c.get("/api/v1/events").json()["items"][0]) == EVENT_KEYS
        assert set(c.get("/api/v1/search?q=putin").json()["items"][0]) == ARTICLE_KEYS - {
            "event_id"} | {"score", "highlights", "snippet", "snippet_marks"}
        assert set(c.get("/api/v1/trends").json()["items"][0]) == {
            "watchlist", "entry", "kind", "name", "days", "baseline", "today", "spike",
            "score"}
        assert set(c.get("/api/v1/hits").json()["items"][0]) == HIT_KEYS
        assert set(c.get("/api/v1/articles").json()["items"][0]) == ARTICLE_KEYS
        assert set(c.get("/api/v1/feeds").json()["items"][0]) == FEED_KEYS


# --- Atom ------------------------------------------------------------------------------------


def test_atom_feeds_are_valid(filled: Filled) -> None:
    ns = {"a": "http://www.w3.org/2005/Atom"}
    with client(make_app(filled)) as c:
        for path in ATOM_PATHS:
            r = c.get(path)
            assert r.headers["content-type"] == "application/atom+xml; charset=utf-8"
            parsed = feedparser.parse(r.content)
            assert not parsed.bozo, parsed.get("bozo_exception")
            root = ET.fromstring(r.content)
            assert root.tag == "{http://www.w3.org/2005/Atom}feed"
            for required in ("a:id", "a:title", "a:updated", "a:author/a:name"):
                assert root.find(required, ns) is not None, required
            entries = root.findall("a:entry", ns)
            assert entries, path
            for entry in entries:
                for required in ("a:id", "a:title", "a:updated"):
                    assert (entry.find(required, ns).text or "").strip(), required  # type: ignore[union-attr]
                link = entry.find("a:link[@rel='alternate']", ns)
                assert link is not None and link.get("href", "").startswith("http://127.0.0.1")
            ids = [e.find("a:id", ns).text for e in entries]  # type: ignore[union-attr]
            assert len(ids) == len(set(ids))
        assert c.get("/feeds/watchlist/nope.atom").status_code == 404
        assert c.get("/feeds/rule/russia-asia-diplomacy/nope.atom").status_code == 404
        assert c.get("/feeds/entry/russia-asia-diplomacy/nope.atom").status_code == 404
        again = c.get(ATOM_PATHS[0]).content
        assert again == c.get(ATOM_PATHS[0]).content  # ids and times are stable


# --- config and CLI --------------------------------------------------------------------------


def test_web_config_problems_name_the_file_and_line(tmp_path: Path) -> None:
    from monitor.config import ConfigError, parse_config

    text = ("web:\n  auth:\n    users:\n      - {name: alice, password_hash: hunter2}\n"
            "  secret_env: SHORT\n  trusted_proxies: [not-an-address]\n  colour: blue\n")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", {"SHORT": "abc"})
    message = str(caught.value)
    assert "m.yaml:4: entry 'web.auth.users[0]': field 'password_hash': not an argon2 hash" \
        in message
    assert "m.yaml:5: entry 'web': field 'secret_env': too short" in message
    assert "m.yaml:6: entry 'web': field 'trusted_proxies'" in message
    assert "m.yaml:7: entry 'web': field 'colour': unknown key" in message
    assert "abc" not in message
    (tmp_path / "tok").write_text("t" * 20)
    hashed = hash_password("xxxxxxxx")
    good = parse_config(f"web:\n  auth:\n    users: [{{name: a, password_hash: '{hashed}'}}]\n"
                        "    token_file: tok\n", str(tmp_path / "m.yaml"), {})
    assert good.web.auth and good.web.token == "t" * 20 and "t" * 20 not in repr(good)
    assert not parse_config("web: false\n", "m.yaml", {}).web.enabled


def test_hash_password_prints_a_hash_that_verifies(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from argon2 import PasswordHasher

    from monitor.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["web", "hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("$argon2id$") and PasswordHasher().verify(printed,
                                                                        "a long password")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["web", "hash-password"]) == 2


def test_a_port_in_use_is_a_clear_error() -> None:
    from monitor.errors import MonitorError
    from monitor.web.server import ThreadedServer

    app = Starlette()
    first = ThreadedServer(app, "127.0.0.1", 0)
    try:
        with pytest.raises(MonitorError, match=r"cannot listen on 127\.0\.0\.1"):
            ThreadedServer(app, "127.0.0.1", first.port)
    finally:
        first.close()


def test_paging_cursors_round_trip() -> None:
    from monitor.web import paging

    key = ("2026-11-24T10:00:00+00:00", 42)
    assert paging.decode(paging.encode(key)) == key
    assert paging.decode(paging.encode(("", 7))) == ("", 7)
    assert paging.limit(None) == paging.DEFAULT_LIMIT and paging.limit("9999") == 200
    assert json.loads(json.dumps(api.openapi()))  # plain JSON


def test_watchlists_are_read_again_when_a_file_changes(filled: Filled, tmp_path: Path) -> None:
    import shutil

    from tests.support import ROOT

    folder = tmp_path / "lists"
    shutil.copytree(ROOT / "watchlists", folder)
    data = StoreData(filled.store, str(folder), filled.clock)
    first = data.watchlists()
    assert data.watchlists() is first  # unchanged files: the last reading
    (folder / "extra.yaml").write_text("watchlist: extra\nentries:\n"
                                       "  - {id: shoigu, kind: actor, name: Sergei Shoigu}\n")
    again = data.watchlists()
    assert [w.name for w in again.watchlists] == sorted(
        [w.name for w in first.watchlists] + ["extra"])
