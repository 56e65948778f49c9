"""Content versions of cached fragments (directory.fragments), made new when the rows they show change.

One receiver for every model's save and delete (connected in DirectoryConfig.ready()), sorted by the
model's app, or the model itself: the directory imports none of the apps it names. A change made without
signals (a queryset's update()) is seen when the fragment expires (fragments.FRAGMENT_SECONDS).
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from directory import fragments

# The reference lists of the directory's filters (regions, cours d'appel, juridictions, themes).
REFERENCE_SCOPE = "directory-reference"
# The associations as the list and the dashboard show them (names, places, cours, themes).
ASSOCIATIONS_SCOPE = "directory-associations"
# The dashboard's panels (templates/cms/dashboard.html, directory.dashboard.panels).
DASHBOARD_FORUM = "dashboard-forum"
DASHBOARD_CMS = "dashboard-cms"
DASHBOARD_PARRAINAGE = "dashboard-parrainage"

BY_MODEL = {
    "directory.region": (REFERENCE_SCOPE, ASSOCIATIONS_SCOPE),
    "directory.courdappel": (REFERENCE_SCOPE, ASSOCIATIONS_SCOPE),
    "directory.juridiction": (REFERENCE_SCOPE,),
    "directory.theme": (REFERENCE_SCOPE, ASSOCIATIONS_SCOPE),
    "directory.association": (ASSOCIATIONS_SCOPE, DASHBOARD_PARRAINAGE),
    "directory.association_cours": (ASSOCIATIONS_SCOPE,),
    "directory.association_themes": (ASSOCIATIONS_SCOPE,),
}
BY_APP = {
    "forum_conversation": (DASHBOARD_FORUM,),
    "forum": (DASHBOARD_FORUM,),
    "exchange": (DASHBOARD_FORUM,),
    "cms": (DASHBOARD_CMS,),
    "wagtailcore": (DASHBOARD_CMS,),
    "parrainage": (DASHBOARD_PARRAINAGE,),
    "membership": (DASHBOARD_PARRAINAGE,),
}
# What one person read (forum_tracking): their "non lu" markers, a scope per person.
READ_TRACKING_APP = "forum_tracking"


def reads_scope(user_id) -> str:
    return f"reads:{user_id}"


def scopes_for(sender, instance) -> tuple[str, ...]:
    meta = getattr(sender, "_meta", None)
    if meta is None:
        return ()
    if meta.app_label == READ_TRACKING_APP:
        user_id = getattr(instance, "user_id", None)
        return (reads_scope(user_id),) if user_id is not None else ()
    return BY_MODEL.get(meta.label_lower) or BY_APP.get(meta.app_label, ())


def _changed(sender, instance=None, action=None, **kwargs) -> None:
    if action is not None and not action.startswith("post_"):  # m2m_changed: once, after the change
        return
    scopes = scopes_for(sender, instance)
    if scopes:
        fragments.content_changed(*scopes)


def connect() -> None:
    post_save.connect(_changed, dispatch_uid="directory.content_versions.saved")
    post_delete.connect(_changed, dispatch_uid="directory.content_versions.deleted")
    m2m_changed.connect(_changed, dispatch_uid="directory.content_versions.m2m")
