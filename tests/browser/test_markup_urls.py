"""Chromium reads the sanitised URLs the way core.markup.safe_url checked them (issue 16, item 4).

The corpus of URL tricks of tests/core/test_markup.py is rendered by core.markup.render (markdown and
HTML) into one page that Chromium opens at the site's address; every request is intercepted, none
leaves the machine. Chromium's own URL parser then says where each image and link points: no image
may load from, or resolve to, another host, no link may carry another scheme than http(s)/mailto, and
no request may go to another host than the site's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from core.markup import HTML, MARKDOWN, render
from tests.core.test_markup import OFF_SITE_IMAGE_SOURCES, SCRIPT_LINK_TARGETS

pytestmark = pytest.mark.browser

SITE = "https://passerelles.example.org"
PAGE = SITE + "/forum/sujet/1/"
ONE_PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def corpus_page() -> str:
    parts = []
    for kind in (MARKDOWN, HTML):
        for source in OFF_SITE_IMAGE_SOURCES:
            parts.append(render(f'<p><img src="{source}" alt="x"></p>', kind))
        for source in SCRIPT_LINK_TARGETS:
            parts.append(render(f'<p><a href="{source}">clic</a></p>', kind))
        # What must keep working: a local image and ordinary links.
        parts.append(render('<p><img src="/media/images/pl&#x0A;an.png" alt="plan"> '
                            '<a href="https://exemple.fr/guide">guide</a> <a href="/forum/">forum</a></p>', kind))
    head = '<!doctype html><html lang="fr"><head><title>corpus</title></head><body>'
    return head + "".join(parts) + "</body></html>"


def test_chromium_resolves_no_image_or_link_of_the_corpus_off_site(page):
    requested: list[str] = []
    body = corpus_page()

    def answer(route):
        url = route.request.url
        requested.append(url)
        if url == PAGE:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)
        elif urlsplit(url).hostname == urlsplit(SITE).hostname:
            route.fulfill(status=200, content_type="image/png", body=ONE_PIXEL_PNG)
        else:
            route.abort()

    page.route("**/*", answer)
    page.goto(PAGE)
    page.wait_for_load_state("load")

    image_sources = page.eval_on_selector_all("img", "images => images.map(image => image.src)")
    link_targets = page.eval_on_selector_all("a", "links => links.filter(a => a.hasAttribute('href'))"
                                                  ".map(a => a.href)")

    site_host = urlsplit(SITE).hostname
    assert [src for src in image_sources if src and urlsplit(src).hostname != site_host] == []
    assert [href for href in link_targets if urlsplit(href).scheme not in {"http", "https", "mailto"}] == []
    assert [url for url in requested if urlsplit(url).hostname != site_host] == []
    # The corpus's ordinary content still works: the local image (newline removed) and both links.
    assert SITE + "/media/images/plan.png" in image_sources
    assert "https://exemple.fr/guide" in link_targets and SITE + "/forum/" in link_targets
