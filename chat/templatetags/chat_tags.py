from django import template
from django.utils.safestring import mark_safe

from core.markup import render_plain_text

register = template.Library()


@register.filter
def chat_text(value: str) -> str:
    """A chat message for display: escaped plain text, links made clickable (core.markup)."""
    return mark_safe(render_plain_text(value or ""))
