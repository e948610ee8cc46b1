"""Parked and for-sale domains: the citation's domain lapsed and someone else holds it.

A parking page answers 200 for every path, the home page included, so it passes
for a live page. It gives itself away two ways, both needed before a page is
called parked, since a news article about domain sales may quote the wording:

- the markup or wording of a parking service or domain marketplace (Sedo,
  Bodis, ParkingCrew, GoDaddy CashParking, Dan.com, Afternic, HugeDomains,
  Above, Parklogic, registrars' own "parked free" pages);
- the same page for any path: the site's answer to a random path is this page
  (the soft-404 probe), or the chain ended on a marketplace's own site (a
  lapsed domain redirected to its sale listing).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from linkwatch.check.page import Page

# Hosts (and their subdomains) of parking services and domain marketplaces: their
# scripts, frames or links in a page, or a chain that ends on them.
PARKING_HOSTS = (
    "sedoparking.com",
    "sedo.com",
    "bodis.com",
    "parkingcrew.net",
    "parklogic.com",
    "above.com",
    "dan.com",
    "afternic.com",
    "hugedomains.com",
    "undeveloped.com",
    "domainmarket.com",
    "dsparking.com",
    "smartname.com",
    "domainnamesales.com",
    "parking-lander",  # GoDaddy CashParking's lander: img1.wsimg.com/parking-lander/...
)

_MARKETPLACES = ("sedo.com", "dan.com", "afternic.com", "hugedomains.com", "undeveloped.com")

# Wording of parking and for-sale pages, lower case.
_WORDING = (
    "this domain may be for sale",
    "this domain is for sale",
    "the domain name is for sale",
    "domain name is for sale",
    "buy this domain",
    "make an offer on this domain",
    "inquire about this domain",
    "this domain name is parked for free",
    "this domain has been parked",
    "parked free, courtesy of",
    "the sponsored listings displayed above are served automatically by a third party",
    "the domain has expired. is this your domain?",
    "this domain is registered, but may still be available",
    "get this domain",
)

_PARKING_MARKUP = re.compile(
    r"""(?:src|href|action)\s*=\s*["']?[^"'>\s]*(?:"""
    + "|".join(re.escape(h) for h in PARKING_HOSTS)
    + r""")|sedoParkingUrl|window\.location\.href\s*=\s*["']/lander["']""",
    re.I,
)


# A domain's new owner selling it, in words too common to call a page parked on their own
# ("this website is for sale" may be an article's quote): they count only beside the
# evidence that the page no longer is the one archived (`landing_signs`).
_SALE_WORDING = (
    "this website is for sale",
    "this site is for sale",
    "website for sale",
    "domain for sale",
    "is available for purchase",
    "purchase this domain",
    "lease this domain",
    "own this domain",
    "interested in this domain",
    "this domain is available",
    "acquire this domain",
)


def landing_signs(page: Page) -> str | None:
    """A parking service's trace, or a for-sale page's wording: the weaker evidence a check
    weighs only against an archived copy the live page no longer resembles."""
    signs = parking_signs(page)
    if signs is not None:
        return signs
    text = " ".join(page.markup.lower().split())
    wording = next((w for w in _SALE_WORDING if w in text), None)
    return f"for-sale wording ({wording!r})" if wording else None


def parking_signs(page: Page) -> str | None:
    """The parking service's trace in the page (markup first, then wording), or None."""
    found = _PARKING_MARKUP.search(page.markup)
    if found is not None:
        return f"parking service markup ({found.group(0)[:80]!r})"
    text = " ".join(page.markup.lower().split())
    wording = next((w for w in _WORDING if w in text), None)
    return f"parking wording ({wording!r})" if wording else None


def is_marketplace(url: str) -> bool:
    """A domain marketplace's site: where lapsed domains redirect to their sale listing."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == m or host.endswith(f".{m}") for m in _MARKETPLACES)
