"""The web interface in a real browser: Playwright driving Debian's Chromium (never a
downloaded browser) against a real `monitor run` fed by local feed and page servers.

Each page loads without console errors (a CSP violation is one), at 1280 and 360 px wide,
with a screenshot under tests/artifacts/screenshots/ (CI keeps the folder); a feed is
paused from its page and is paused in the store; a title with <script> shows as text;
times are shown in the viewer's zone; a non-loopback bind demands a login (or, without
web.auth, answers with how to set it up)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.store import Store
from monitor.web.auth import hash_password
from tests.support import ROOT, Receiver, Server, free_port
from tests.test_web import FEED_NAME, PASSWORD, SCRIPT_TITLE, article_pages

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (360, 780)}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def _config(tmp: Path, server: Server, receiver: Receiver, port: int, extra: str = "") -> Path:
    path = tmp / "monitor.yaml"
    path.write_text(f"""\
database: sqlite:///{tmp / 'm.db'}
watchlists: {ROOT / 'watchlists'}
fetch: {{timeout: 5s, allow_private_addresses: true}}
feeds:
  - {{url: "{server.url('/wire.rss')}", name: "{FEED_NAME}"}}
  - {{url: "{server.url('/quiet.rss')}"}}
digests:
  - name: daily
    channels:
      - webhook: {{url: "{receiver.url()}", allow_private_addresses: true}}
server: {{host: 127.0.0.1, port: {port}}}
{extra}""")
    return path


def _start(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "monitor", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=environment, cwd=cwd)


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()[0]
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers (401 is an answer)
        except OSError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.2)


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    return out


@dataclass
class Daemon:
    base: str
    config: Path
    database: str
    process: subprocess.Popen[str]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """`monitor run` over a store the CLI filled: the wire's articles polled, a digest sent
    whose webhook answered 400 (a failed delivery to resend)."""
    tmp = tmp_path_factory.mktemp("browser")
    server, receiver = Server(), Receiver()
    article_pages(server)
    port = free_port()
    config = _config(tmp, server, receiver, port)
    assert main(["-c", str(config), "poll", "--once"]) == 0
    receiver.replies = [400]
    assert main(["-c", str(config), "digest", "send", "daily", "--now"]) == 1
    process = _start("-c", str(config), "run", cwd=tmp)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield Daemon(f"http://127.0.0.1:{port}", config, f"sqlite:///{tmp / 'm.db'}", process)
    finally:
        _stop(process)
        server.close()
        receiver.close()


@dataclass
class Watch:
    """What a page said on its console, its uncaught errors and its dialogs."""

    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def forgive(self, status: int, url: str) -> None:
        """Chromium reports a page's own status >= 400 on the console: one we expect."""
        own = ("console error: Failed to load resource: the server responded with a "
               f"status of {status} ")
        self.problems = [p for p in self.problems
                         if not (p.startswith(own) and p.endswith(f"({url})"))]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser: Any, width: str, **options: Any) -> tuple[Any, Watch]:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, **options)
    page = context.new_page()
    watch = Watch()
    page.on("console", lambda m: watch.problems.append(
        f"console {m.type}: {m.text} ({m.location.get('url')})")
        if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: watch.problems.append(f"page error: {e}"))

    def dialog(d: Any) -> None:
        watch.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    return page, watch


def _shot(page: Any, name: str, width: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _run_id(daemon: Daemon) -> int:
    store = Store(daemon.database, readonly=True)
    try:
        from monitor.cli.digests import history

        return int(history(store, 1)[0]["run_id"])
    finally:
        store.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_loads_without_console_errors(daemon: Daemon, browser: Any,
                                                 width: str) -> None:
    pages = {"today": "/?since=30d", "feeds": "/feeds", "digests": "/digests",
             "digest": f"/digests/{_run_id(daemon)}", "watchlists": "/watchlists",
             "search": "/search?q=%40putin+NEAR%2F10+Pyongyang",
             "search-error": "/search?q=%28%40putin+OR",
             "event": f"/events/{_script_event(daemon)}",
             "entry": "/entries/russia-asia-diplomacy/putin", "no-event": "/events/999999"}
    page, watch = _page(browser, width, timezone_id="Europe/Berlin")
    for name, path in pages.items():
        response = page.goto(daemon.base + path, wait_until="load")
        assert response is not None
        expected = {"search-error": 400, "no-event": 404}.get(name, 200)
        assert response.status == expected, (path, response.status)
        assert page.locator('header input[type="search"][name="q"]').count() == 1, path
        page.wait_for_function("document.getElementById('zone').textContent !== 'UTC'")
        _shot(page, name, width)
        if expected != 200:
            watch.forgive(expected, page.url)
        assert not watch.problems, (path, watch.problems)
    assert not watch.dialogs
    # the pages are as wide as the screen at 360 px too (nothing forces a sideways scroll)
    for path in ("/feeds", pages["event"], pages["entry"], pages["search"], "/?since=30d"):
        page.goto(daemon.base + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width][0], path
    page.context.close()


def test_times_are_in_the_viewers_zone(daemon: Daemon, browser: Any) -> None:
    page, _ = _page(browser, "desktop", timezone_id="Asia/Tokyo", locale="en-GB")
    page.goto(daemon.base + "/feeds")
    assert "Asia/Tokyo" in page.locator("#zone").inner_text()
    first = page.locator("time[datetime]").first
    assert "GMT+9" in first.inner_text() or "JST" in first.inner_text()
    assert first.get_attribute("title", timeout=5000).endswith("UTC")  # type: ignore[union-attr]
    page.context.close()


def _script_event(daemon: Daemon) -> int:
    """The event of the article titled with a <script> (read through the API)."""
    import json
    import urllib.request

    with urllib.request.urlopen(daemon.base + "/api/v1/hits?limit=200", timeout=30) as r:
        hits = json.load(r)["items"]
    return int(next(h["event_id"] for h in hits if h["title"] == SCRIPT_TITLE))


def test_search_returns_and_highlights(daemon: Daemon, browser: Any) -> None:
    page, watch = _page(browser, "desktop")
    page.goto(daemon.base + "/search")
    page.get_by_label("Query").fill("Vladivostok")
    page.get_by_role("button", name="Search", exact=True).last.click()
    page.wait_for_url("**/search?q=Vladivostok**")
    results = page.locator("ol.results li.result")
    assert results.count() >= 1
    assert page.locator("ol.results mark", has_text="Vladivostok").first.is_visible()
    page.get_by_text("Copy as rule").click()
    assert "query: Vladivostok" in page.locator("#rule-yaml").inner_text()
    assert not watch.problems
    page.context.close()


def test_an_event_lists_its_outlets(daemon: Daemon, browser: Any) -> None:
    page, watch = _page(browser, "phone")
    page.goto(f"{daemon.base}/events/{_script_event(daemon)}")
    outlets = page.locator("ul.outlets li")
    assert outlets.count() >= 2
    for i in range(outlets.count()):
        assert outlets.nth(i).locator("a[href^='http']").count() == 1
    page.locator("details.article summary").first.click()
    assert page.locator("details.article[open] p").first.is_visible()
    _shot(page, "event-open", "phone")
    assert not watch.problems
    page.context.close()


def test_a_script_title_is_text(daemon: Daemon, browser: Any) -> None:
    page, watch = _page(browser, "desktop")
    page.goto(f"{daemon.base}/events/{_script_event(daemon)}")
    link = page.get_by_role("link", name=SCRIPT_TITLE)
    assert link.count() >= 1 and link.first.is_visible()
    assert page.locator("main script").count() == 0
    page.goto(daemon.base + "/feeds")
    assert page.get_by_text(FEED_NAME).count() >= 1  # <b> shown, not bold
    assert not watch.dialogs and not watch.problems
    page.context.close()


def test_pause_a_feed_from_the_page(daemon: Daemon, browser: Any) -> None:
    page, watch = _page(browser, "phone")
    page.goto(daemon.base + "/feeds")
    row = page.locator("tr", has_text=FEED_NAME)
    row.get_by_role("button", name="Pause").click()
    page.wait_for_url(daemon.base + "/feeds")
    assert "Paused: feed" in page.locator(".flash").inner_text()
    store = Store(daemon.database, readonly=True)
    try:
        paused = [f for f in store.feeds() if f.name == FEED_NAME]
        assert paused and paused[0].polling == "paused"
    finally:
        store.close()
    _shot(page, "feeds-paused", "phone")
    page.locator("tr", has_text=FEED_NAME).get_by_role("button", name="Resume").click()
    page.wait_for_url(daemon.base + "/feeds")
    assert not watch.problems
    page.context.close()


def test_the_digest_shows_as_sent_and_a_failed_delivery_resends(daemon: Daemon,
                                                                browser: Any) -> None:
    page, watch = _page(browser, "desktop")
    page.goto(f"{daemon.base}/digests/{_run_id(daemon)}")
    frame = page.frame_locator("iframe.digest")
    assert frame.locator("body").inner_text(timeout=10000).strip()
    link = frame.locator("a[href^='http']").first  # an event's headline (digests by event)
    href = link.get_attribute("href")
    with page.expect_popup() as popup:  # its links open outside the frame
        link.click()
    assert href and popup.value.url == href
    popup.value.close()
    page.get_by_role("button", name="Resend").click()
    assert "queued again" in page.locator(".flash").inner_text()
    assert not watch.problems
    page.context.close()


def test_keyboard_reaches_the_skip_link_first(daemon: Daemon, browser: Any) -> None:
    page, _ = _page(browser, "desktop")
    page.goto(daemon.base + "/feeds")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    for label in ("Feed URL", "Name (optional)"):
        assert page.get_by_label(label).count() == 1, label
    page.context.close()


def _web(tmp: Path, extra: str, env: dict[str, str] | None = None
         ) -> tuple[subprocess.Popen[str], str]:
    server, receiver = Server(), Receiver()
    port = free_port()
    config = _config(tmp, server, receiver, port, extra)
    process = _start("-c", str(config), "web", "--host", "0.0.0.0", cwd=tmp, env=env)
    server.close()
    receiver.close()
    _wait_for(f"http://127.0.0.1:{port}/healthz", process)
    return process, f"http://127.0.0.1:{port}"


def test_a_non_loopback_bind_demands_a_login(tmp_path: Path, browser: Any) -> None:
    hashed = hash_password(PASSWORD)
    extra = (f"web:\n  auth:\n    users: [{{name: alice, password_hash: '{hashed}'}}]\n"
             "  secret_env: TEST_WEB_SECRET\n")
    process, base = _web(tmp_path, extra, {"TEST_WEB_SECRET": "s" * 40})
    try:
        page, watch = _page(browser, "phone")
        page.goto(base + "/feeds")
        assert page.url == base + "/login?next=%2Ffeeds"
        _shot(page, "login", "phone")
        page.get_by_label("Name").fill("alice")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
        assert "Wrong name or password" in page.locator(".error").inner_text()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(base + "/feeds")
        assert page.get_by_role("button", name="Log out alice").count() == 1
        cookie = next(c for c in page.context.cookies() if c["name"] == "monitor_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        watch.forgive(401, base + "/login")  # the wrong password's answer
        assert not watch.problems
        page.context.close()
    finally:
        _stop(process)


def test_a_non_loopback_bind_without_auth_says_how_to_set_it_up(tmp_path: Path,
                                                                browser: Any) -> None:
    process, base = _web(tmp_path, "")
    try:
        page, _ = _page(browser, "desktop")
        response = page.goto(base + "/")
        assert response is not None and response.status == 401
        assert "monitor web hash-password" in page.inner_text("main")
        _shot(page, "setup", "desktop")
        health = page.goto(base + "/healthz")
        assert health is not None and health.status == 200
        page.context.close()
    finally:
        _stop(process)


def test_screenshots_are_kept() -> None:
    """CI keeps tests/artifacts/ (gitignored); this run's screenshots are there."""
    if shutil.which("git"):
        ignored = subprocess.run(["git", "check-ignore", str(SHOTS / "x.png")], cwd=ROOT,
                                 capture_output=True, text=True)
        assert ignored.returncode == 0
