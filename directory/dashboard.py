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
from django.utils.functional import SimpleLazyObject

from directory import access, content_versions, fragments
from directory.models import RoleAssignment, User
from directory.selectors import recently_admitted

Section = Callable[[HttpRequest, User], dict]
_sections: list[Section] = []
# The keys each section returned the first time it ran in this process (a section returns the same keys
# every time): from then on its values are lazy, so a panel served from the cache runs no query.
_section_keys: dict[Section, tuple[str, ...]] = {}

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
        "roles": SimpleLazyObject(lambda: list(
            RoleAssignment.objects.filter(user_id=person.pk)
            .select_related("region", "theme", "working_group")
            .order_by("role")
        )),
        "recent_associations": SimpleLazyObject(recently_admitted),
    }


def _lazy_section(section: Section, request: HttpRequest, person: User) -> dict:
    keys = _section_keys.get(section)
    if keys is None:  # first run in this process: learn its keys
        values = section(request, person)
        _section_keys[section] = tuple(values)
        return values
    results: dict = {}

    def value(key: str):
        if not results:
            results.update(section(request, person))
        return results.get(key)

    return {key: SimpleLazyObject(lambda key=key: value(key)) for key in keys}


def panels(request: HttpRequest) -> dict:
    """The audiences and stamps of the dashboard's cached panels (templates/cms/dashboard.html).

    - personal panels (the person's roles, their forum topics with "non lu" markers and meetings, their
      events): the person's id;
    - the parrainage and commission panel: who the person is in the network (their association, roles…:
      two directors of the same association see the same panel, the commission's members their figures);
    - the associations recently admitted: the same for every member.
    """
    user = request.user
    return {
        "personal": fragments.personal_audience(user),
        "profile": fragments.profile_audience(user),
        "members": fragments.audience("network-members"),
        "forum_stamp": fragments.stamp(fragments.content_version(content_versions.DASHBOARD_FORUM),
                                       fragments.content_version(content_versions.reads_scope(user.pk))),
        "cms_stamp": fragments.stamp(fragments.content_version(content_versions.DASHBOARD_CMS)),
        "parrainage_stamp": fragments.stamp(fragments.content_version(content_versions.DASHBOARD_PARRAINAGE)),
        "associations_stamp": fragments.stamp(fragments.content_version(content_versions.ASSOCIATIONS_SCOPE)),
    }


def dashboard_context(request: HttpRequest) -> dict:
    """What the member's home page shows `request.user`: the directory's section, then each app's.

    Every section keeps a number of queries that does not grow with the content; a section's values
    are lazy (see _lazy_section): they are read only by the panels rendered, not those from the cache.
    """
    # The reader as loaded by the authentication middleware; their association and its region were
    # loaded with their access profile (access.profile) and kept on them.
    person = request.user
    access.profile(person)
    context = directory_section(request, person)
    for section in _sections:
        context.update(_lazy_section(section, request, person))
    context["dashboard_panels"] = panels(request)
    return context
