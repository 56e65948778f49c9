from django import template

from search.documents import Kind

register = template.Library()


@register.filter
def kind_label(kind: str) -> str:
    """The French name of a search document's kind ("post" → "Message du forum")."""
    return str(Kind.LABELS.get(kind, kind))
