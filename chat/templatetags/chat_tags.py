from django import template
from django.utils.safestring import mark_safe

from core import markup

register = template.Library()


@register.filter
def chat_text(value: str) -> str:
    """A chat message for display: escaped plain text, links made clickable (core.markup, kind PLAIN)."""
    return mark_safe(markup.render(value or "", markup.PLAIN))
