"""Pages of three real site shapes, for the content-drift pairs.

The shapes follow what the CMSs print: WordPress's Twenty Twenty-One single
post (`article.post` > `header.entry-header` > `h1.entry-title`,
`div.entry-content`, `footer.entry-footer`, then `aside.widget-area` with
`section.widget widget_recent_entries`), a Drupal 9/10 NGO site
(`article.node--type-article`, `div.field--name-body`, a "related" views
block in `div.views-element-container`, a breadcrumb `nav`), and a news CMS
(`main` > `article` with `div[data-component="text-block"]` paragraphs, a
"most read" list and a "related" rail of its own, a request id in a comment,
a rotating "you may also like" block). Each page also carries what every
real page of its site carries: a skip link, the site menu, a cookie banner,
a footer of links.

A pair is (snapshot, live): the same article updated (an "Updated on"
paragraph, a corrected figure, another sidebar), another article under the
same URL (an id reused), or the page rewritten from scratch under the same
title.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Article:
    title: str
    paragraphs: tuple[str, ...]


ARTICLES = (
    Article(
        "Kazakhstan: journalists detained after covering oil workers' strike",
        (
            "Police in Zhanaozen detained three journalists on Tuesday evening as they left "
            "the square where oil workers have gathered for eleven days to demand higher wages "
            "and the reinstatement of dismissed colleagues.",
            "The journalists, who work for two independent outlets based in Almaty, were taken "
            "to the city police station and questioned for six hours without a lawyer. Their "
            "cameras and telephones were confiscated and have not been returned.",
            "The authorities said the three had taken part in an unsanctioned gathering. Their "
            "editors say they were reporting, and that footage of the strike was deleted from "
            "the devices before they were released on bail.",
            "International press freedom groups called on the government to drop the charges, "
            "return the equipment and let reporters cover the strike without interference, as "
            "the constitution and the country's commitments under the OSCE require.",
        ),
    ),
    Article(
        "Belarus: court jails blogger for four years over video about prison conditions",
        (
            "A court in Gomel sentenced a 34-year-old blogger to four years in a penal colony "
            "on Thursday for a video in which former inmates described overcrowding, cold cells "
            "and the denial of medical care in a pre-trial detention centre.",
            "The prosecution argued that the video insulted the staff of the facility and "
            "incited hatred against a social group. The defence said every statement in it was "
            "supported by letters and medical records shown during the hearing.",
            "The blogger's channel had about twenty thousand subscribers. It was declared "
            "extremist in the spring, which made sharing its videos an offence punishable by "
            "fines and administrative arrest.",
            "Human rights defenders recognised the blogger as a political prisoner and urged "
            "the authorities to release him immediately and to open an independent inquiry "
            "into the conditions the video described.",
        ),
    ),
    Article(
        "Annual report: access to clean water in informal settlements",
        (
            "Our annual report follows two hundred households in six informal settlements over "
            "twelve months and records how much water each could obtain, at what price and how "
            "far family members had to walk to collect it.",
            "Households without a connection paid on average five times more per litre than "
            "those connected to the municipal network, and women and girls spent up to three "
            "hours a day fetching water during the dry season.",
            "Where community water points had been installed, school attendance among girls "
            "rose and cases of diarrhoeal disease among young children fell, according to the "
            "records of the local health clinics.",
            "The report recommends that the municipality extend the network to every "
            "settlement within five years, cap the price charged by private vendors and "
            "involve residents in the maintenance of the water points.",
        ),
    ),
    Article(
        "European Parliament adopts resolution on the protection of human rights defenders",
        (
            "Members of the European Parliament adopted a resolution on Wednesday calling on "
            "the Commission and the member states to do more to protect human rights defenders "
            "who face threats, surveillance and prosecution for their work.",
            "The resolution asks for emergency visas to be issued within days rather than "
            "months, for a dedicated fund to cover legal fees and relocation costs, and for "
            "embassies to attend trials of defenders as observers.",
            "It also condemns the use of spyware against activists and lawyers and asks that "
            "exports of surveillance technology to governments that target civil society be "
            "stopped.",
            "The text was adopted by a large majority. Its recommendations are not binding, "
            "but the Commission must answer within three months and say which of them it will "
            "take up.",
        ),
    ),
)

# The same pages rewritten from scratch under the same title: what a site does when it
# "refreshes" a campaign page, or replaces a report page with a summary of a later one.
REWRITES = (
    (
        "Media freedom in Central Asia is a priority of our work. We support independent "
        "outlets with training, legal help and safety equipment, and we publish an annual "
        "index ranking the countries of the region.",
        "Donate today to help reporters keep working. A monthly gift of ten euros pays for a "
        "secure telephone for one journalist for a year.",
    ),
    (
        "This page has moved to our new campaign hub, where you can read about every case we "
        "follow in the region, sign the petitions that are open and find out how to write to "
        "prisoners of conscience.",
        "Letters matter: many released prisoners have told us that knowing people outside "
        "followed their case gave them strength during the years they were held.",
    ),
    (
        "Our work on water and sanitation has ended after fifteen years. We thank the "
        "communities, partners and donors who made it possible and invite you to read about "
        "our current programmes on housing rights.",
        "Earlier publications remain available on request from our documentation centre, "
        "which answers within ten working days.",
    ),
    (
        "The plenary agenda for this week includes debates on the budget, on agricultural "
        "policy and on the situation in several third countries, followed by votes on "
        "Thursday at noon.",
        "Press conferences are streamed live and can be watched again on the multimedia "
        "centre, with interpretation into all official languages.",
    ),
)

HEADLINES = (
    "Flooding forces thousands from their homes",
    "Parliament debates the new budget",
    "Teachers strike over pay for a second week",
    "Court rules on data retention law",
    "New report on prison conditions published",
    "Election observers publish preliminary findings",
    "City council approves housing plan",
    "Ministers meet to discuss migration",
)


class Shape(StrEnum):
    WORDPRESS = "wordpress"
    DRUPAL = "drupal"
    NEWS = "news"
    LEGACY = "legacy"  # a table layout with no article markup: nothing names the parts


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _links(items: tuple[str, ...], css: str = "") -> str:
    return "".join(
        f'<li{css}><a href="/{i}-{len(t) * 37 + i}">{_esc(t)}</a></li>' for i, t in enumerate(items)
    )


def _sidebar(seed: int) -> tuple[str, ...]:
    """A list of other stories that changes from one day to the next."""
    return tuple(HEADLINES[(seed + i) % len(HEADLINES)] for i in range(5))


def _body(paragraphs: tuple[str, ...], tag: str = "p", attrs: str = "") -> str:
    return "".join(f"<{tag}{attrs}>{_esc(p)}</{tag}>" for p in paragraphs)


def page(
    shape: Shape,
    title: str,
    paragraphs: tuple[str, ...],
    *,
    seed: int = 0,
    updated: str | None = None,
) -> str:
    """A full page of `shape`; `seed` varies what varies between requests and days."""
    paragraphs = paragraphs + ((updated,) if updated else ())
    related = _sidebar(seed)
    if shape is Shape.WORDPRESS:
        return (
            '<!doctype html><html lang="en-GB"><head><meta charset="UTF-8">'
            f"<title>{_esc(title)} &#8211; Civil Rights Watch</title>"
            "<link rel='stylesheet' id='twenty-twenty-one-style-css' href='/wp-content/themes/"
            "twentytwentyone/style.css?ver=2.1' media='all' />"
            '<script src="/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js">'
            "</script></head>"
            '<body class="post-template-default single single-post postid-4821 wp-embed-'
            'responsive is-light-theme singular has-main-navigation">'
            '<div id="page" class="site"><a class="skip-link screen-reader-text" href="#content">'
            "Skip to content</a>"
            '<header id="masthead" class="site-header has-title-and-tagline has-menu">'
            '<div class="site-branding"><p class="site-title"><a href="/">Civil Rights Watch</a>'
            '</p><p class="site-description">Monitoring freedoms since 1998</p></div>'
            '<nav id="site-navigation" class="primary-navigation"><ul id="primary-menu-list" '
            'class="menu-wrapper">'
            + _links(("News", "Reports", "Campaigns", "About", "Donate"))
            + "</ul></nav></header>"
            '<div id="content" class="site-content"><div id="primary" class="content-area">'
            '<main id="main" class="site-main">'
            '<article id="post-4821" class="post-4821 post type-post status-publish format-'
            'standard hentry category-news tag-central-asia entry">'
            f'<header class="entry-header alignwide"><h1 class="entry-title">{_esc(title)}</h1>'
            '</header><div class="entry-content">' + _body(paragraphs) + "</div>"
            '<footer class="entry-footer default-max-width"><div class="posted-by"><span '
            'class="posted-on">Published <time class="entry-date published" datetime="2016-'
            '04-07T10:15:00+00:00">7 April 2016</time></span></div><div class="post-taxonomies">'
            '<span class="cat-links">Categorized as <a href="/category/news/" rel="category '
            'tag">News</a></span></div></footer></article>'
            '<nav class="navigation post-navigation" aria-label="Posts"><div class="nav-links">'
            f'<div class="nav-previous"><a href="/p/{seed}">{_esc(related[0])}</a></div></div>'
            "</nav></main></div></div>"
            '<aside class="widget-area"><section id="recent-posts-2" class="widget widget_recent_'
            'entries"><h2 class="widget-title">Recent Posts</h2><nav aria-label="Recent Posts">'
            "<ul>" + _links(related) + "</ul></nav></section>"
            '<section id="text-3" class="widget widget_text"><div class="textwidget"><p>Civil '
            "Rights Watch is an independent organisation funded by its members and by grants "
            "from foundations listed on our transparency page.</p></div></section></aside>"
            '<footer id="colophon" class="site-footer"><div class="site-info"><div class="site-'
            'name"><a href="/">Civil Rights Watch</a></div><div class="powered-by">Proudly '
            'powered by <a href="https://wordpress.org/">WordPress</a>.</div></div></footer>'
            "</div></body></html>"
        )
    if shape is Shape.DRUPAL:
        return (
            '<!DOCTYPE html><html lang="en" dir="ltr"><head><meta charset="utf-8" />'
            '<meta name="Generator" content="Drupal 10 (https://www.drupal.org)" />'
            f"<title>{_esc(title)} | Water Justice Network</title>"
            '<link rel="stylesheet" media="all" href="/sites/default/files/css/css_x1.css" />'
            "</head>"
            '<body class="path-node page-node-type-article"><a href="#main-content" class='
            '"visually-hidden focusable skip-link">Skip to main content</a>'
            '<div class="dialog-off-canvas-main-canvas" data-off-canvas-main-canvas>'
            '<div class="layout-container"><header role="banner"><div class="region region-'
            'header"><div id="block-sitebranding" class="block block-system block-system-'
            'branding-block"><a href="/" rel="home">Water Justice Network</a></div></div>'
            '<nav role="navigation" aria-labelledby="block-mainnavigation-menu" id="block-main'
            'navigation" class="block block-menu navigation menu--main"><ul class="menu">'
            + _links(("Our work", "Publications", "Get involved", "Contact"), ' class="menu-item"')
            + "</ul></nav></header>"
            '<div class="region region-breadcrumb"><nav class="breadcrumb" role="navigation">'
            '<ol><li><a href="/">Home</a></li><li><a href="/publications">Publications</a>'
            "</li></ol></nav></div>"
            '<main role="main"><a id="main-content" tabindex="-1"></a>'
            '<div class="layout-content"><div class="region region-content">'
            '<div id="block-content" class="block block-system block-system-main-block">'
            '<article data-history-node-id="1187" class="node node--type-article node--promoted'
            ' node--view-mode-full"><h1 class="page-title"><span class="field field--name-title'
            f' field--type-string field--label-hidden">{_esc(title)}</span></h1>'
            '<div class="node__meta"><span class="field field--name-uid">Press office</span> '
            '<span class="field field--name-created">Thu, 04/07/2016 - 10:15</span></div>'
            '<div class="node__content"><div class="clearfix text-formatted field field--name-'
            'body field--type-text-with-summary field--label-hidden field__item">'
            + _body(paragraphs)
            + "</div></div></article></div>"
            '<div class="views-element-container block block-views block-views-blockrelated-'
            'content-block-1"><h2>Related content</h2><div class="view view-related-content">'
            '<div class="view-content"><ul>' + _links(related) + "</ul></div></div></div>"
            "</div></div></main>"
            '<footer role="contentinfo"><div class="region region-footer"><nav class="menu--'
            'footer"><ul class="menu">'
            + _links(("Privacy", "Accessibility", "Press"))
            + "</ul></nav><p>Water Justice Network is a registered charity, number 1140000. "
            "Content is published under a Creative Commons licence unless stated otherwise."
            '</p></div></footer></div></div><div id="sliding-popup" class="sliding-popup-bottom'
            ' eu-cookie-compliance-banner"><div class="eu-cookie-compliance-message"><p>We use '
            "cookies on this site to enhance your user experience and to count visits.</p></div>"
            "</div></body></html>"
        )
    if shape is Shape.LEGACY:
        return (
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            f"<title>{_esc(title)}</title></head>"
            '<body bgcolor="#ffffff"><table width="760" border="0" cellpadding="0"><tr>'
            '<td colspan="3"><img src="/img/logo.gif" alt="Helsinki Committee"></td></tr>'
            '<tr><td width="150" valign="top" class="leftcol">'
            + "".join(
                f'<a href="/{i}.html">{_esc(t)}</a><br>'
                for i, t in enumerate(("Home", "Press releases", "Reports", "Links"))
            )
            + f'</td><td width="460" valign="top"><font size="4"><b>{_esc(title)}</b></font>'
            + _body(paragraphs)
            + '</td><td width="150" valign="top" class="rightcol"><b>Latest</b><br>'
            + "".join(f'<a href="/n{i}.html">{_esc(t)}</a><br>' for i, t in enumerate(related))
            + f"<p>Visitors this month: {1200 + seed * 37}</p>"
            + "</td></tr></table></body></html>"
        )
    return (
        '<!DOCTYPE html><html lang="en-GB" class="no-js"><head><meta charset="utf-8">'
        f"<title>{_esc(title)} - Europe Daily</title>"
        '<meta property="og:type" content="article">'
        '<script type="application/ld+json">{"@context":"https://schema.org","@type":'
        f'"NewsArticle","headline":"{_esc(title)}"}}</script>'
        "<style>.ssrcss-1ocoo3l-Wrap{max-width:1280px}</style></head><body>"
        f"<!-- request-id: {seed * 7919 % 100000:05d}-{seed} -->"
        '<div id="main-wrapper"><header role="banner" data-testid="header-content">'
        '<a href="#main-content" class="skip-link">Skip to content</a>'
        '<nav aria-label="Europe Daily"><ul>'
        + _links(("Home", "News", "Sport", "Business", "Culture", "Weather"))
        + '</ul></nav></header><div class="ssrcss-1ocoo3l-Wrap"><main id="main-content" '
        'data-testid="main-content"><article>'
        f'<header data-component="headline-block"><h1 id="main-heading">{_esc(title)}</h1>'
        '</header><div data-component="byline-block"><span>By Staff reporter</span></div>'
        '<div data-component="image-block"><figure><img src="/img/1.jpg" alt="">'
        "<figcaption>The square in front of the city hall</figcaption></figure></div>"
        + _body(paragraphs, "div", ' data-component="text-block"')
        + '<div data-component="links-block"><h2>Related</h2><ul>'
        + _links(related[:3])
        + "</ul></div></article></main>"
        '<section data-component="most-read" aria-labelledby="most-read-heading" class='
        '"ssrcss-most-read"><h2 id="most-read-heading">Most read</h2><ol>'
        + _links(related[::-1])
        + '</ol></section><div class="ssrcss-you-may-also-like promo"><h2>You may also like'
        "</h2><p>"
        + _esc(" ".join(related[1:4]))
        + '</p></div></div><footer data-testid="footer"><p>Copyright 2026 Europe Daily. We '
        "are not responsible for the content of external sites. Read about our approach to "
        "external linking.</p></footer></div></body></html>"
    )


class PairKind(StrEnum):
    SAME = "same"  # the page again, another day: other sidebar, other request id
    UPDATED = "updated"  # the same article, an "Updated on" paragraph, a figure corrected
    OTHER_ARTICLE = "other article"  # the id reused for another story
    REWRITTEN = "rewritten"  # the same title, the body written anew

    @property
    def is_drift(self) -> bool:
        return self in (PairKind.OTHER_ARTICLE, PairKind.REWRITTEN)


@dataclass(frozen=True)
class Pair:
    kind: PairKind
    shape: Shape
    snapshot: str
    live: str
    name: str


def _corrected(paragraphs: tuple[str, ...]) -> tuple[str, ...]:
    """One figure corrected and one sentence reworded, as editors do after publication."""
    first, *rest = paragraphs
    edited = first.replace("three", "four").replace("six", "seven").replace("eleven", "twelve")
    return (edited + " The article has been corrected.", *rest)


def pairs() -> list[Pair]:
    """Every (snapshot, live) pair of every shape, named for the test ids."""
    made: list[Pair] = []
    for shape in Shape:
        for index, article in enumerate(ARTICLES):
            snapshot = page(shape, article.title, article.paragraphs, seed=index)
            name = f"{shape.value}-{index}"
            lives: list[tuple[PairKind, str, str]] = [
                (
                    PairKind.SAME,
                    page(shape, article.title, article.paragraphs, seed=index + 3),
                    "",
                ),
                (
                    PairKind.UPDATED,
                    page(
                        shape,
                        article.title,
                        _corrected(article.paragraphs),
                        seed=index + 5,
                        updated="Updated on 12 May 2016 at 14:20: this article was updated "
                        "with the response of the authorities, received after publication.",
                    ),
                    "",
                ),
            ]
            for other_index, other in enumerate(ARTICLES):
                if other_index != index:
                    live = page(shape, other.title, other.paragraphs, seed=index + 1)
                    lives.append((PairKind.OTHER_ARTICLE, live, f"-{other_index}"))
            rewritten = page(shape, article.title, REWRITES[index], seed=index + 2)
            lives.append((PairKind.REWRITTEN, rewritten, ""))
            made.extend(
                Pair(kind, shape, snapshot, live, f"{name}-{kind.value}{suffix}")
                for kind, live, suffix in lives
            )
    return made
