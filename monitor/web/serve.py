"""The server of `monitor run` and `monitor web`: the interface (``web.enabled``) with
/healthz and /metrics, or those two alone (``web: false``), on uvicorn in a thread."""

from __future__ import annotations

from monitor.config import Config
from monitor.health import Health, HttpServer, Metrics, health_routes
from monitor.ingest import utc_now
from monitor.store import Store
from monitor.web.app import create_app
from monitor.web.data import StoreData
from monitor.web.server import ThreadedServer


def serve(config: Config, store: Store, health: Health, metrics: Metrics,
          host: str, port: int) -> ThreadedServer:
    """Start serving on ``host:port`` (MonitorError if it cannot listen)."""
    token = config.web.metrics_token
    if not config.web.enabled:
        return HttpServer(host, port, health, metrics, token)
    from monitor.cli.core import _find_source  # as `feeds add` finds a page's feed

    data = StoreData(store, config.watchlists, utc_now, config.trends,
                     lambda url: _find_source(url, config))
    app = create_app(data, config.web, host, health=health_routes(health, metrics, token))
    return ThreadedServer(app, host, port)
