"""Template helpers of the CMS pages: breadcrumbs, document details."""

from django import template

from cms import selectors

register = template.Library()


@register.inclusion_tag("cms/includes/breadcrumbs.html")
def cms_breadcrumbs(page):
    """Home › … › the page: its live ancestors below the tree root (one query)."""
    ancestors = list(page.get_ancestors().filter(depth__gte=2).live()) if page and page.depth > 2 else []
    return {"ancestors": ancestors, "page": page}


@register.filter
def document_detail(document) -> str:
    """"Fiche technique · PDF · 12 Ko": what a download link announces."""
    return selectors.document_detail(document)
