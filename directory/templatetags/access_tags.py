"""Role tests for templates: a template asks directory.access, never a user flag or group itself.

    {% load access_tags %}
    {% if user|opens_site_admin %}…{% endif %}
    {% if user|has_role:"director" %}…{% endif %}
"""

from django import template

from directory import access

register = template.Library()


@register.filter
def is_network_member(user) -> bool:
    """access.is_member: the person belongs to the network."""
    return access.is_member(user)


@register.filter
def is_federal_staff(user) -> bool:
    """access.is_federal_staff: a member of the federal team (or a superuser)."""
    return access.is_federal_staff(user)


@register.filter
def has_role(user, role: str) -> bool:
    """access.has_role: a member holding `role` (a directory.roles.Role value)."""
    return access.has_role(user, role)


@register.filter
def opens_site_admin(user) -> bool:
    """access.opens_site_admin: the person opens Django's /admin/."""
    return access.opens_site_admin(user)
