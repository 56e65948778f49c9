"""Forum services: the tree and its permissions, derived from the directory's access rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from machina.apps.forum.models import Forum
from machina.apps.forum_conversation.models import Post, Topic
from machina.apps.forum_permission.models import ForumPermission, GroupForumPermission

from directory import access
from directory import groups as directory_groups
from forum import selectors, tasks
from forum.models import ForumSpace, MeetingResponse, NationalMeeting
from forum.structure import CategorySpec, ForumSpec, forum_tree

READ = ("can_see_forum", "can_read_forum")
PARTICIPATE = READ + (
    "can_start_new_topics", "can_reply_to_topics", "can_edit_own_posts", "can_delete_own_posts",
    "can_post_without_approval", "can_create_polls", "can_vote_in_polls", "can_attach_file", "can_download_file",
)
MODERATE = PARTICIPATE + (
    "can_post_announcements", "can_post_stickies", "can_lock_topics", "can_move_topics", "can_edit_posts",
    "can_delete_posts", "can_approve_posts", "can_reply_to_locked_topics",
)


def audience_for_space(space: ForumSpace | ForumSpec) -> access.ForumAudience:
    return access.forum_audience(
        space.kind,
        region_id=space.region.pk if space.region else None,
        working_group_id=space.working_group.pk if space.working_group else None,
    )


def _desired_permissions(audiences: list[access.ForumAudience], *, category: bool) -> set[tuple[str, str]]:
    """(group key, codename) pairs for a forum; a category only needs to be seen and read."""
    wanted: set[tuple[str, str]] = set()
    for audience in audiences:
        participant_codes = READ if category else PARTICIPATE
        moderator_codes = READ if category else MODERATE
        wanted.update((g, c) for g in audience.participants for c in participant_codes)
        wanted.update((g, c) for g in audience.moderators for c in moderator_codes)
    return wanted


def _apply_permissions(forum: Forum, wanted: set[tuple[str, str]], permissions: dict | None = None) -> None:
    """Make the forum's permissions for managed groups exactly `wanted` (hand-made groups' are kept)."""
    key_groups = directory_groups.groups_for_keys({g for g, _ in wanted})
    wanted_ids = {(key_groups[g].pk, c) for g, c in wanted if g in key_groups}
    permissions = permissions or {p.codename: p for p in ForumPermission.objects.all()}
    existing = {
        (gp.group_id, gp.permission.codename): gp
        for gp in GroupForumPermission.objects.filter(forum=forum, group__managed__isnull=False)
        .select_related("permission")
    }
    stale = [gp.pk for key, gp in existing.items() if key not in wanted_ids or not gp.has_perm]
    if stale:
        GroupForumPermission.objects.filter(pk__in=stale).delete()
    GroupForumPermission.objects.bulk_create([
        GroupForumPermission(forum=forum, group_id=g, permission=permissions[c], has_perm=True)
        for g, c in sorted(wanted_ids)
        if (g, c) not in existing or not existing[(g, c)].has_perm
    ])


def _ensure_forum(spec: ForumSpec | CategorySpec, *, parent: Forum | None, kind: str,
                  extra: dict | None = None) -> Forum:
    space = ForumSpace.objects.select_related("forum").filter(key=spec.key).first()
    forum_type = Forum.FORUM_CAT if parent is None else Forum.FORUM_POST
    if space is None:
        forum = Forum.objects.create(name=spec.name[:100], description=spec.description, parent=parent,
                                     type=forum_type)
        space = ForumSpace.objects.create(key=spec.key, forum=forum, kind=kind, **(extra or {}))
    else:
        forum = space.forum
        changed = forum.name != spec.name[:100] or forum.parent_id != (parent.pk if parent else None)
        if changed:
            forum.name = spec.name[:100]
            forum.parent = parent
            forum.save()
    return forum


@transaction.atomic
def ensure_forum_tree() -> dict[str, int]:
    """Create missing categories and forums, then set every forum's group permissions.

    Idempotent: forums are found again by their space key; names follow the directory. Nothing is
    granted per user: permissions go to the groups the access module derives from roles.
    """
    created = 0
    for category_spec in forum_tree():
        before = ForumSpace.objects.count()
        category = _ensure_forum(category_spec, parent=None, kind=ForumSpace.Kind.CATEGORY)
        audiences = []
        for forum_spec in category_spec.forums:
            forum = _ensure_forum(forum_spec, parent=category, kind=forum_spec.kind, extra={
                "theme": forum_spec.theme, "region": forum_spec.region,
                "working_group": forum_spec.working_group, "is_meetings_forum": forum_spec.is_meetings_forum,
            })
            audience = audience_for_space(forum_spec)
            audiences.append(audience)
            _apply_permissions(forum, _desired_permissions([audience], category=False))
        _apply_permissions(category, _desired_permissions(audiences, category=True))
        created += ForumSpace.objects.count() - before
    return {"created": created, "total": ForumSpace.objects.count()}


def on_access_changed(change) -> None:
    """The forum's handler of the directory's "access changed" hook (registered in ExchangeConfig.ready).

    A region, working group or theme created, renamed or deleted: the tree follows (its forum is
    created or renamed; permissions re-asserted). People's own changes need nothing here: machina's
    permissions are granted to groups, which the directory keeps in step.
    """
    if change.scopes or change.everyone:
        ensure_forum_tree()


def meetings_forum() -> Forum:
    return ForumSpace.objects.select_related("forum").get(is_meetings_forum=True).forum


# --- National meetings ----------------------------------------------------------------------------


class ForumError(ValueError):
    """A forum action the rules refuse; the message is French and shown to the person."""


class ForumPermissionError(ForumError):
    pass


# Where each audience's meeting thread lives: a forum that audience reads.
MEETING_FORUM_KEYS = {
    NationalMeeting.Audience.PRESIDENTS: "presidency:meetings",
    NationalMeeting.Audience.DIRECTORS: "direction",
    NationalMeeting.Audience.BOARD: "board",
}


@dataclass(frozen=True)
class MeetingData:
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    video_link: str = ""
    agenda: str = ""
    agenda_document: UploadedFile | None = None
    audience: str = NationalMeeting.Audience.PRESIDENTS


def check_create_meeting(actor, data: MeetingData) -> None:
    if not access.is_federal_staff(actor):
        raise ForumPermissionError("Seule l'équipe fédérale peut créer une réunion nationale.")
    if not data.title.strip():
        raise ForumError("Le titre est obligatoire.")
    if data.ends_at <= data.starts_at:
        raise ForumError("La fin de la réunion doit être postérieure à son début.")
    if not data.place.strip() and not data.video_link.strip():
        raise ForumError("Indiquez un lieu ou un lien de visioconférence.")
    if data.audience not in MEETING_FORUM_KEYS:
        raise ForumError("Public inconnu pour une réunion nationale.")


def _meeting_post_content(data: MeetingData) -> str:
    lines = [f"**{data.title}**", ""]
    if data.place:
        lines.append(f"Lieu : {data.place}")
    if data.video_link:
        lines.append(f"Visioconférence : {data.video_link}")
    if data.agenda:
        lines += ["", "**Ordre du jour**", "", data.agenda]
    lines += ["", "Merci d'indiquer votre présence avec les boutons de la fiche de la réunion."]
    return "\n".join(lines)


@transaction.atomic
def create_meeting(actor, data: MeetingData) -> NationalMeeting:
    """Create a meeting, open its thread in the audience's forum, subscribe the audience, invite them.

    Preconditions: `actor` is federal staff; dates and place are valid (check_create_meeting).
    Effects: the meeting, its topic and first post; every audience member subscribed to the topic;
    invitation e-mails sent by a task after commit.
    """
    check_create_meeting(actor, data)
    forum = ForumSpace.objects.select_related("forum").get(key=MEETING_FORUM_KEYS[data.audience]).forum
    topic = Topic.objects.create(forum=forum, subject=data.title[:255], poster=actor, type=Topic.TOPIC_STICKY,
                                 status=Topic.TOPIC_UNLOCKED, approved=True)
    Post.objects.create(topic=topic, poster=actor, subject=data.title[:255], content=_meeting_post_content(data),
                        approved=True)
    meeting = NationalMeeting.objects.create(
        title=data.title, starts_at=data.starts_at, ends_at=data.ends_at, place=data.place,
        video_link=data.video_link, agenda=data.agenda, audience=data.audience, topic=topic, created_by=actor,
    )
    if data.agenda_document is not None:
        meeting.agenda_document.save(data.agenda_document.name, data.agenda_document, save=True)
    topic.subscribers.add(*selectors.meeting_audience_users(data.audience))
    transaction.on_commit(lambda: tasks.send_meeting_invitations.enqueue(meeting.pk))
    return meeting


def can_view_meeting(user, meeting: NationalMeeting, handler=None) -> bool:
    """A meeting is visible to whoever may read its thread."""
    if meeting.topic_id is None:
        return access.is_federal_staff(user)
    handler = handler or access.forum_permission_handler()
    return handler.can_read_forum(meeting.topic.forum, user)


@transaction.atomic
def respond_to_meeting(user, meeting: NationalMeeting, answer: str) -> MeetingResponse:
    if answer not in MeetingResponse.Answer.values:
        raise ForumError("Réponse inconnue.")
    if not can_view_meeting(user, meeting):
        raise ForumPermissionError("Vous n'êtes pas invité·e à cette réunion.")
    response, _created = MeetingResponse.objects.update_or_create(
        meeting=meeting, user=user, defaults={"answer": answer}
    )
    return response
