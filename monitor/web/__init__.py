"""The web interface and JSON API (Starlette, served by uvicorn): pages rendered on the
server, an API under /api/v1/, Atom feeds under /feeds/.

    app.py       the application: routes, middleware, templates
    security.py  headers (CSP), signed session cookie, CSRF, safe redirects, who is local
    auth.py      users (argon2), API tokens, login rate limit
    data.py      what the pages read and change (the only door to the store)
    pages.py     HTML pages; api.py the JSON API and its OpenAPI description; atom.py feeds
    server.py    uvicorn on a thread (monitor run) or alone (monitor web)

Nothing here writes SQL: data.py calls the store's read views and commands.
"""
