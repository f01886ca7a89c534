"""The command line: one module per command group, no SQL (the store answers).

main.py builds the parser and turns errors into exit codes (2 for the user's mistake, 1 for
the environment); core.py: db, poll, feeds, hits, articles, backfill; digests.py; ops.py
(status, run); events.py; search.py; trends.py; web.py.
"""

from monitor.cli.main import main

__all__ = ["main"]
