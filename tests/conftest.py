"""Fixtures only: the helpers they use live in tests/support/."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.match import Matcher
from monitor.store import Store
from monitor.watchlist import Watchlist, load_watchlists
from tests.support import properties as _properties  # noqa: F401  (loads the profile)
from tests.support.db import postgres_or_skip
from tests.support.paths import ROOT
from tests.support.servers import Mailbox, Receiver, Server, serve_smtp


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """`monitor run` called in-process points the root logger at the stdout of its test
    (pytest's capture); later tests must not log into that closed file."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def seed_watchlists() -> list[Watchlist]:
    return load_watchlists(ROOT / "watchlists")


@pytest.fixture(scope="session")
def seed_matcher(seed_watchlists: list[Watchlist]) -> Matcher:
    return Matcher(seed_watchlists)


@pytest.fixture(scope="session")
def seed_text() -> str:
    return next((ROOT / "seeds").glob("*.txt")).read_text(encoding="utf-8")




@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    return postgres_or_skip()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()



@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture
def hosts(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """More names for the loopback servers (the test's /etc/hosts): name -> address, seen by
    the fetcher's resolver; other names resolve as usual."""
    from monitor import netguard

    table: dict[str, str] = {}
    system = netguard.system_resolver
    monkeypatch.setattr(netguard, "system_resolver", lambda host, port: (
        [table[host]] if host in table else system(host, port)))
    return table


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    import trustme

    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


@pytest.fixture
def smtp_server(test_ca: tuple[object, str]) -> Iterator[Mailbox]:
    """STARTTLS on a plain port, AUTH required (user monitor)."""
    yield from serve_smtp(test_ca, implicit_tls=False)


@pytest.fixture
def smtps_server(test_ca: tuple[object, str]) -> Iterator[Mailbox]:
    """TLS from the first byte (port 465 style), AUTH required."""
    yield from serve_smtp(test_ca, implicit_tls=True)




@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()

