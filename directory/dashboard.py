"""The member's home page (cms.models.HomePage for a signed-in member), as sections from several apps.

It lives in the directory because a dashboard is about a person: the directory loads the reader's
person once (with their association and its region) and hands it to every section, so a section
that reads the association (parrainage's) needs no query of its own. The directory's own section
comes first: the person, their association, roles, and the associations recently admitted.

The apps above add theirs from their `AppConfig.ready()`, and the directory imports none of them
(the pattern of directory/hooks.py):

    dashboard.add_section(my_section)   # my_section(request, person) -> dict of template context

forum: upcoming national meetings and latest topics (forum.dashboard); parrainage: sponsorships and
the commission's figures (parrainage.selectors.dashboard_section); cms: its events, guides and news
(cms.dashboard). Each section decides access for `request.user` (the reader, whose per-request
caches it shares) and returns keys of its own; the template (templates/cms/dashboard.html) shows them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from directory import access
from directory.models import RoleAssignment, User
from directory.selectors import recently_admitted

Section = Callable[[HttpRequest, User], dict]
_sections: list[Section] = []


def add_section(section: Section) -> None:
    """Called from an app's `ready()`; registering the same function twice keeps one."""
    if section not in _sections:
        _sections.append(section)


def directory_section(request: HttpRequest, person: User) -> dict:
    """The reader's person, association (and whether they may open its page), roles, and the
    associations recently admitted to the network."""
    association = person.association
    return {
        "person": person,
        "association": association,
        "association_visible": bool(association and access.can_view_association(request.user, association)),
        "roles": list(
            RoleAssignment.objects.filter(user_id=person.pk)
            .select_related("region", "theme", "working_group")
            .order_by("role")
        ),
        "recent_associations": recently_admitted(),
    }


def dashboard_context(request: HttpRequest) -> dict:
    """What the member's home page shows `request.user`: the directory's section, then each app's.

    Every section keeps a number of queries that does not grow with the content.
    """
    person = User.objects.select_related("association__region").get(pk=request.user.pk)
    context = directory_section(request, person)
    for section in _sections:
        context.update(section(request, person))
    return context
