"""Releases read from websites: sitemaps, feeds, a WordPress site's API, a list of pages.

`listing` finds the pages (with the date each listing gives them), `patterns`
keeps those the config wants, `fetch` asks for each page through the checker's
network layer with conditional requests, `pages` keeps their bodies for
`rewrite`, and `collect` runs it all for the scan (imported only when a scan has
web sources, so that a scan of files does not load the network stack).
"""

from linkwatch.sources.web.pages import is_web_key

__all__ = ["is_web_key"]  # the rest is imported where used: aiohttp and lxml cost 0.9 s
