"""Who speaks for an association in a parrainage: its directors (the services and the e-mails both ask)."""

from __future__ import annotations

from directory.models import User
from directory.roles import Role


def directors(association_id: int | None):
    """Active directors of an association, by name: the people a parrainage speaks to."""
    return (
        User.objects.filter(association_id=association_id, is_active=True, role_assignments__role=Role.DIRECTOR)
        .distinct()
        .order_by("last_name", "first_name", "username", "pk")
    )


def first_director(association_id: int | None) -> User | None:
    """The director whose direct-message room represents the association in a parrainage.

    When an association has several directors, the first by last name, first name, then username
    is chosen (each side's other people can still write from "Mon parrainage").
    """
    return directors(association_id).first()
