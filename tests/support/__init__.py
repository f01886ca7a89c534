"""What tests share besides fixtures: servers, factories, databases, paths, profiles."""

from tests.support.db import (
    POSTGRES_URL,
    Counts,
    assert_consistent,
    postgres_or_skip,
)
from tests.support.factories import article_html, rss, watchlist_from_yaml
from tests.support.paths import ROOT
from tests.support.properties import FUZZ_FACTOR, examples
from tests.support.servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    Mailbox,
    Proxy,
    Received,
    Receiver,
    Reply,
    Request,
    Server,
    free_port,
    serve_smtp,
)

__all__ = ["FUZZ_FACTOR", "POSTGRES_URL", "ROOT", "SMTP_PASSWORD", "SMTP_USER", "Counts",
           "Mailbox", "Proxy", "Received", "Receiver", "Reply", "Request", "Server",
           "article_html", "assert_consistent", "examples",
           "free_port", "postgres_or_skip", "rss", "serve_smtp", "watchlist_from_yaml"]
