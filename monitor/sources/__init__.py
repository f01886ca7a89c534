"""Sources: where a feed row's items come from, chosen by the row's ``kind``.

base.py      the item, the Source protocol and the registry (kind -> source)
rss.py       ``rss``: RSS, Atom and RDF documents (feedparser)
sitemap.py   ``sitemap``: news sitemaps, plain sitemaps, sitemap indexes
discover.py  which source an address is (`monitor feeds add`): a feed, a sitemap, the
             feeds a page names, the sitemaps robots.txt names
archive.py   saved files for `monitor backfill --from` (records, not feed items)

Nothing here imports the store, delivery or rendering: a source turns bytes into items.
"""
