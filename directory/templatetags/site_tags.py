"""Template helpers shared by every app's pages."""

from django import template

register = template.Library()


@register.simple_tag
def elided_pages(page_obj) -> list:
    """Page numbers around the current page, with Paginator.ELLIPSIS where pages are left out."""
    return list(page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1))
