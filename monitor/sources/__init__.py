"""Sources: where a feed row's items come from (RSS/Atom, news sitemaps), and how a
source is found from a site's address (discovery)."""
