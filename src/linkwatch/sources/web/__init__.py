"""Releases read from websites: sitemaps, feeds, a WordPress site's API, a list of pages.

`listing` finds the pages (with the date each listing gives them), `patterns`
keeps those the config wants, `fetch` asks for each page through the checker's
network layer with conditional requests, `pages` keeps their bodies for
`rewrite`, and `collect` runs it all for the scan.
"""

from linkwatch.sources.web.collect import WebPage, collect_pages, is_web_key

__all__ = ["WebPage", "collect_pages", "is_web_key"]
