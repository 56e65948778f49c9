"""A small but complete world for the permission audit (tests/test_permission_audit*.py).

One person per role, and one private thing of every kind: forums of every audience with a topic, a
reply, an attachment and a poll, a national meeting, a report, notifications and subscriptions;
guides, documents, an event and a draft page; chat rooms of every kind with a message; a candidate
association, an inactive person, a membership application with a question, an active and a proposed
parrainage. Everything is built through the services the apps use (a few rows the services only make
after long flows are created directly, said where).

Every private thing carries a MARKER: a made-up word found nowhere else in the project. If a marker
shows in an answer to someone who may not see its thing, that answer leaks. Who may see each marker
is computed from the access rules themselves (`visible_markers`): directory.access, machina's
permission handler (whose group permissions directory.access derives) and cms.selectors.Visibility.
Slugs, usernames and file names never contain markers, so a URL alone never "leaks" one. Every
marked text also holds the word COMMON, so that one search finds everything a person may see.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from machina.apps.forum_conversation.forum_attachments.models import Attachment
from machina.apps.forum_conversation.forum_polls.models import TopicPoll, TopicPollOption
from machina.apps.forum_conversation.models import Post, Topic
from machina.apps.forum_permission.handler import PermissionHandler
from wagtail.models import PageViewRestriction

from chat import messages as chat_messages
from chat import rooms as chat_rooms
from chat.models import ChatMembership, ChatRoom
from cms.models import GuidePage
from cms.selectors import Visibility
from directory import access
from directory import services as directory_services
from directory.access import ChatRoomKind, CmsAudience
from directory.models import Association
from directory.roles import Role
from forum import moderation
from forum import services as forum_services
from forum.models import ForumSpace, ForumSubscription, NationalMeeting, Notification
from membership import services as membership
from membership.models import MembershipApplication
from parrainage import services as parrainage_services
from parrainage.models import Parrainage
from tests.factories import AssociationFactory, RoleSpec, WorkingGroupFactory, make_person, region, theme
from tests.factories.cms import add_document, add_event, add_guide, members_collection, presidents_collection

User = get_user_model()

COMMON = "zephyrine"  # in every marked text, found nowhere else

# Every role that access rules tell apart (docs/architecture.md, The network's words), plus the two kinds of
# accounts around them.
ROLES = [
    "anonymous",  # not logged in
    "outsider",  # an account of a candidate association: not (yet) a member of the network
    "member",  # intervenant·e of a Sud-Ouest member association (association A)
    "director",  # director of A; follows médiation pénale (theme room)
    "president",  # president of A
    "board",  # administrateur·rice of the federation's board, from A
    "dica",  # DICA of the Nord-Est, from a Nord-Est association (B)
    "commission",  # membership commission, from A
    "wg_member",  # member of the "Éthique" working group, from A
    "newcomer",  # director of F, a newly admitted association sponsored by A
    "staff",  # federal staff (editor, moderator), is_staff for the admin screens
    "superuser",  # the site's technical administrator
]


@dataclass
class World:
    people: dict[str, object]  # role → user (no entry for "anonymous")
    forums: dict[str, object]  # space key → machina Forum
    topics: dict[str, Topic]
    posts: dict[str, Post]
    rooms: dict[str, ChatRoom]
    messages: dict[str, int]  # room key → id of its message
    message_authors: dict[str, int]  # room key → author's pk
    pages: dict[str, object]
    documents: dict[str, object]
    associations: dict[str, Association]
    parrainages: dict[str, Parrainage]
    application: MembershipApplication
    application_token: str
    information_request_id: int
    meeting: NationalMeeting
    notification: Notification
    report_id: int
    attachment: Attachment
    poll: TopicPoll
    inactive_person: object
    page_restriction: PageViewRestriction
    candidate_person: object = None  # the director of the candidate association
    markers: dict[str, Callable[[object], bool]] = field(default_factory=dict)  # marker → who may see it

    def user(self, role: str):
        return self.people.get(role)


# --- building --------------------------------------------------------------------------------------


def _person(username: str, association=None, roles=(), **fields):
    # No password: tests log in with force_login (hashing a password per person costs seconds).
    return make_person(username, association=association, roles=list(roles), password="", **fields)


def _topic(forum, poster, subject: str, content: str, *, approved: bool = True) -> Topic:
    """A topic and its first post, as machina's views create them; the slug is neutral (no marker)."""
    topic = Topic.objects.create(forum=forum, subject=subject, poster=poster, type=Topic.TOPIC_POST,
                                 status=Topic.TOPIC_UNLOCKED, approved=approved)
    Post.objects.create(topic=topic, poster=poster, subject=subject, content=content, approved=approved)
    Topic.objects.filter(pk=topic.pk).update(slug="sujet")
    topic.refresh_from_db()
    return topic


def _reply(topic: Topic, poster, content: str, *, approved: bool = True) -> Post:
    return Post.objects.create(topic=topic, poster=poster, subject=f"Re: {topic.subject}", content=content,
                               approved=approved)


def build_world() -> World:
    """Build the world in the current transaction (the caller rolls it back)."""
    # --- associations and people
    sud_ouest, nord_est = region("sud-ouest"), region("nord-est")
    assoc_a = AssociationFactory(name="Association Girondine d'Accompagnement", slug="association-a",
                                 region=sud_ouest, willing_to_sponsor=True)
    assoc_b = AssociationFactory(name="Association Lorraine d'Enquêtes", slug="association-b", region=nord_est,
                                 city="Nancy", departement="54")
    assoc_f = AssociationFactory(name="Association Landaise Nouvelle", slug="association-f", region=sud_ouest,
                                 city="Dax", departement="40")
    assoc_g = AssociationFactory(name="Association Basque Nouvelle", slug="association-g", region=sud_ouest,
                                 city="Bayonne", departement="64")
    outsider_assoc = AssociationFactory(name="Association candidate des Pyrénées", slug="association-c",
                                        status=Association.Status.CANDIDATE)
    candidate = AssociationFactory(name="Association zephyrine audmarkcandidate", slug="association-k",
                                   status=Association.Status.CANDIDATE)
    ethique = WorkingGroupFactory(name="Éthique", slug="ethique")
    # A second working group nobody of the roles belongs to (issue 16: every account's private things
    # are tried by every other account): its forum and room are federal staff's only.
    WorkingGroupFactory(name="Formation", slug="formation")

    people = {
        "member": _person("audit.intervenant", assoc_a, [RoleSpec(Role.MEMBER)]),
        "director": _person("audit.directrice", assoc_a, [RoleSpec(Role.DIRECTOR)],
                            expertise=[theme("mediation-penale")]),
        "president": _person("audit.president", assoc_a, [RoleSpec(Role.PRESIDENT)]),
        "board": _person("audit.administratrice", assoc_a, [RoleSpec(Role.BOARD_ADMIN)]),
        "dica": _person("audit.dica", assoc_b, [RoleSpec(Role.DICA, region=nord_est)]),
        "commission": _person("audit.commission", assoc_a, [RoleSpec(Role.MEMBERSHIP_COMMISSION)]),
        "wg_member": _person("audit.groupe", assoc_a, [RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=ethique)]),
        "newcomer": _person("audit.nouvelle", assoc_f, [RoleSpec(Role.DIRECTOR)]),
        "staff": _person("audit.equipe", None, [RoleSpec(Role.FEDERAL_STAFF)], is_staff=True),
        "superuser": _person("audit.admin", None, [], is_staff=True, is_superuser=True),
        "outsider": _person("audit.candidat", outsider_assoc, [RoleSpec(Role.DIRECTOR)]),
    }
    inactive = _person("audit.ancienne", assoc_a, [RoleSpec(Role.MEMBER)], first_name="Ancienne",
                       last_name="Audmarkinactive")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.refresh_from_db()
    directory_services.sync_groups(inactive)
    # The director of the candidate association (issue 16, item 1): shown only to whoever may see her
    # association (staff, the commission), not to the members.
    candidate_person = _person("audit.candidate", candidate, [RoleSpec(Role.DIRECTOR)], first_name="Candidate",
                               bio="Présentation zephyrine audmarkcandidatebio.")

    # --- forum
    forum_services.ensure_forum_tree()
    forums = {space.key: space.forum for space in ForumSpace.objects.select_related("forum")}
    member, director, staff = people["member"], people["director"], people["staff"]
    topics = {
        "theme": _topic(forums["theme:financement"], member, "Sujet zephyrine audmarkthemetopic",
                        "Premier message zephyrine audmarkthemepost."),
        "direction": _topic(forums["direction"], director, "Sujet zephyrine audmarkdirtopic",
                            "Entre nous zephyrine audmarkdirfirst."),
        "wg": _topic(forums["wg:ethique"], people["wg_member"], "Sujet zephyrine audmarkwgtopic",
                     "Travaux zephyrine audmarkwgpost."),
        "board": _topic(forums["board"], people["board"], "Sujet zephyrine audmarkboardtopic",
                        "Séance zephyrine audmarkboardpost."),
        "nord_est": _topic(forums["region:nord-est"], people["dica"], "Sujet zephyrine audmarknetopic",
                           "Réunion régionale zephyrine audmarknepost."),
        "wg2": _topic(forums["wg:formation"], staff, "Sujet zephyrine audmarkwg2topic",
                      "Travaux zephyrine audmarkwg2post."),
    }
    posts = {
        "theme": _reply(topics["theme"], director, "Réponse zephyrine audmarkthemereply."),
        "direction": _reply(topics["direction"], director, "Réponse confidentielle zephyrine audmarkdirpost."),
        "queued": _reply(topics["theme"], member, "En attente zephyrine audmarkqueued.", approved=False),
    }
    for topic in topics.values():
        topic.refresh_from_db()
    attachment = Attachment.objects.create(post=posts["direction"], comment="Pièce jointe")
    attachment.file.save("piece.pdf", ContentFile(b"%PDF-1.4\nzephyrine audmarkdirfile\n%%EOF\n"), save=True)
    poll = TopicPoll.objects.create(topic=topics["direction"], question="Sondage zephyrine audmarkdirpoll ?",
                                    max_options=1)
    TopicPollOption.objects.create(poll=poll, text="Oui")
    TopicPollOption.objects.create(poll=poll, text="Non")
    now = timezone.now().replace(microsecond=0)
    meeting = forum_services.create_meeting(staff, forum_services.MeetingData(
        title="Réunion zephyrine audmarkmeeting", starts_at=now + dt.timedelta(days=20),
        ends_at=now + dt.timedelta(days=20, hours=3), place="Paris",
        agenda="Ordre du jour zephyrine audmarkagenda.",
    ))
    # Its topic's slug comes from the title: neutral, as every slug here (a URL alone shows no marker).
    Topic.objects.filter(pk=meeting.topic_id).update(slug="reunion")
    meeting.agenda_document.save("ordre-du-jour.pdf",
                                 ContentFile(b"%PDF-1.4\nzephyrine audmarkagendafile\n%%EOF\n"), save=True)
    report = moderation.report_post(people["president"], posts["theme"], "Motif zephyrine audmarkreport.")
    # A notification of the director's about the directors' forum, and subscriptions of hers: the
    # rows notify_post and the subscription views write (their flows are tested in tests/forum).
    notification = Notification.objects.create(recipient=director, kind=Notification.Kind.REPLY, actor=director,
                                               topic=topics["direction"], post=posts["direction"])
    ForumSubscription.objects.create(user=director, forum=forums["direction"])
    topics["direction"].subscribers.add(director)

    # --- CMS
    guide_members = add_guide("Guide zephyrine audmarkmembersguide")
    guide_presidents = add_guide("Guide zephyrine audmarkpresguide", audience=CmsAudience.PRESIDENTS)
    guide_directors = add_guide("Guide zephyrine audmarkdirguide", audience=CmsAudience.DIRECTORS)
    event = add_event("Journée zephyrine audmarkevent", audience=CmsAudience.DIRECTORS)
    for page, slug in ((guide_members, "guide-membres"), (guide_presidents, "guide-presidences"),
                       (guide_directors, "guide-directions"), (event, "journee")):
        page.slug = slug
        page.save_revision().publish()
        page.refresh_from_db()
    from tests.factories.cms import resources_index

    draft = resources_index().add_child(instance=GuidePage(
        title="Brouillon zephyrine audmarkdraft", slug="brouillon", summary="Pas encore publié.", live=False))
    draft.save_revision()
    documents = {
        "members": add_document("Fiche zephyrine audmarkmembersdoc", collection=members_collection(),
                                filename="fiche.pdf"),
        "presidents": add_document("Fiche zephyrine audmarkpresdoc", collection=presidents_collection(),
                                   filename="fiche-p.pdf"),
    }
    from wagtail.models import Page

    pages = {"home": Page.objects.get(depth=2).specific, "resources": resources_index(),
             "guide_members": guide_members, "guide_presidents": guide_presidents,
             "guide_directors": guide_directors, "event": event, "draft": draft}
    page_restriction = PageViewRestriction.objects.get(page=guide_presidents)

    # --- chat
    chat_rooms.ensure_shared_rooms()
    rooms = {
        "region": ChatRoom.objects.get(key=access.chat_room_key(ChatRoomKind.REGION, sud_ouest.pk)),
        "nord_est": ChatRoom.objects.get(key=access.chat_room_key(ChatRoomKind.REGION, nord_est.pk)),
        "wg": ChatRoom.objects.get(key=access.chat_room_key(ChatRoomKind.WORKING_GROUP, "ethique")),
        "theme": ChatRoom.objects.get(key=access.chat_room_key(ChatRoomKind.THEME, "mediation-penale")),
        "direct": chat_rooms.open_direct_room(director, member),
        "adhoc": chat_rooms.create_adhoc_room(staff, name="Salon zephyrine audmarkadhocname",
                                              members=[people["president"], people["dica"]]),
        # issue 16: more accounts' private rooms, so that every account tries others' conversations
        "wg2": ChatRoom.objects.get(key=access.chat_room_key(ChatRoomKind.WORKING_GROUP, "formation")),
        "direct2": chat_rooms.open_direct_room(people["dica"], people["newcomer"]),
        "direct3": chat_rooms.open_direct_room(people["wg_member"], people["commission"]),
        "direct4": chat_rooms.open_direct_room(people["board"], staff),
    }
    authors = {"region": member, "nord_est": people["dica"], "wg": people["wg_member"], "theme": director,
               "direct": director, "adhoc": people["president"], "wg2": staff, "direct2": people["dica"],
               "direct3": people["commission"], "direct4": staff}
    messages, message_authors = {}, {}
    for key, room in rooms.items():
        posted = chat_messages.post_message(authors[key], room.pk, f"audit-{key}",
                                            f"Message zephyrine audmark{key}msg.", enforce_rate_limit=False)
        messages[key] = posted.frame["id"]
        message_authors[key] = authors[key].pk

    # --- membership application, parrainages
    from tests.membership.support import service_data

    application, token = membership.start_application(
        service_data(name="Association zephyrine audmarkapplication"))
    application = membership.submit_application(application, token=token)
    membership.start_examination(application, staff)
    information_request = membership.request_information(application, staff, "Question zephyrine audmarkquestion ?")
    # request_information issues a new private link: read it back from the application's e-mail is
    # not possible here, so the audit re-issues one it knows.
    token = _fresh_token(application)
    parrainages = {
        "active": parrainage_services.start_parrainage(assoc_a, assoc_f, started_on=timezone.localdate()),
        # A proposal awaiting the answer of A's director. choose_parrain needs a matching run (volunteer,
        # cap…); the row it writes is created directly.
        "proposed": Parrainage.objects.create(
            parrain=assoc_a, filleul=assoc_g, status=Parrainage.Status.PROPOSED, score=42,
            reasons=["Raison zephyrine audmarkreasons"], proposed_by=staff),
    }

    world = World(
        people=people, forums=forums, topics=topics, posts=posts, rooms=rooms, messages=messages,
        message_authors=message_authors, pages=pages, documents=documents,
        associations={"a": assoc_a, "b": assoc_b, "f": assoc_f, "g": assoc_g, "candidate": candidate,
                      "outsider": outsider_assoc},
        parrainages=parrainages, application=application, application_token=token,
        information_request_id=information_request.pk, meeting=meeting, notification=notification,
        report_id=report.pk, attachment=attachment, poll=poll, inactive_person=inactive,
        page_restriction=page_restriction, candidate_person=candidate_person,
    )
    world.markers = marker_rules(world)
    return world


def _fresh_token(application: MembershipApplication) -> str:
    """A private link the audit knows, stored as membership stores it (hash only)."""
    raw, hashed = membership._new_token()
    MembershipApplication.objects.filter(pk=application.pk).update(token_hash=hashed)
    assert membership.application_for_token(raw) is not None
    return raw


# --- who may see what ------------------------------------------------------------------------------


def _reads(forum) -> Callable[[object], bool]:
    return lambda user: user is not None and PermissionHandler().can_read_forum(forum, user)


def _page(page) -> Callable[[object], bool]:
    return lambda user: Visibility(user).can_view_page(page)


def _document(document) -> Callable[[object], bool]:
    return lambda user: Visibility(user).can_view_document(document)


def _room(room: ChatRoom) -> Callable[[object], bool]:
    def rule(user) -> bool:
        if user is None:
            return False
        participant = ChatMembership.objects.filter(room=room, user=user).exists()
        return access.can_join_chat_room(user, kind=room.kind, key=room.key, is_participant=participant)
    return rule


def marker_rules(world: World) -> dict[str, Callable[[object], bool]]:
    """marker → rule deciding whether a person (None: anonymous) may see the thing carrying it."""
    forums = world.forums
    theme_forum = forums["theme:financement"]

    def approver_or_poster(user) -> bool:
        if user is None:
            return False
        return (world.posts["queued"].poster_id == user.pk
                or PermissionHandler().can_approve_posts(theme_forum, user))

    def reviews_reports(user) -> bool:
        return user is not None and moderation.can_moderate_forum(user, theme_forum)

    def edits_cms(user) -> bool:
        return user is not None and (access.can_edit_cms(user) or user.is_superuser)

    def examines(user) -> bool:
        return user is not None and access.can_examine_applications(user)

    def sees_person(person):
        return lambda user: user is not None and person_is_visible(user, person)

    def sees_parrainage(parrainage):
        return lambda user: user is not None and access.can_view_parrainage(user, parrainage)

    rules = {
        "audmarkthemetopic": _reads(theme_forum), "audmarkthemepost": _reads(theme_forum),
        "audmarkthemereply": _reads(theme_forum),
        "audmarkqueued": approver_or_poster,
        "audmarkreport": reviews_reports,
        "audmarkdirtopic": _reads(forums["direction"]), "audmarkdirfirst": _reads(forums["direction"]),
        "audmarkdirpost": _reads(forums["direction"]), "audmarkdirfile": _reads(forums["direction"]),
        "audmarkdirpoll": _reads(forums["direction"]),
        "audmarkwgtopic": _reads(forums["wg:ethique"]), "audmarkwgpost": _reads(forums["wg:ethique"]),
        "audmarkboardtopic": _reads(forums["board"]), "audmarkboardpost": _reads(forums["board"]),
        "audmarknetopic": _reads(forums["region:nord-est"]), "audmarknepost": _reads(forums["region:nord-est"]),
        "audmarkwg2topic": _reads(forums["wg:formation"]), "audmarkwg2post": _reads(forums["wg:formation"]),
        "audmarkmeeting": lambda user: user is not None and forum_services.can_view_meeting(user, world.meeting),
        "audmarkagenda": lambda user: user is not None and forum_services.can_view_meeting(user, world.meeting),
        "audmarkagendafile": lambda user: user is not None and forum_services.can_view_meeting(user, world.meeting),
        "audmarkmembersguide": _page(world.pages["guide_members"]),
        "audmarkpresguide": _page(world.pages["guide_presidents"]),
        "audmarkdirguide": _page(world.pages["guide_directors"]),
        "audmarkevent": _page(world.pages["event"]),
        "audmarkdraft": edits_cms,
        "audmarkmembersdoc": _document(world.documents["members"]),
        "audmarkpresdoc": _document(world.documents["presidents"]),
        "audmarkcandidate": lambda user: user is not None and access.can_view_association(
            user, world.associations["candidate"]),
        "audmarkinactive": lambda user: user is not None and access.can_view_person(user, world.inactive_person),
        "audmarkcandidatebio": sees_person(world.candidate_person),
        "audmarkapplication": examines, "audmarkquestion": examines,
        "audmarkreasons": sees_parrainage(world.parrainages["proposed"]),
    }
    for key, room in world.rooms.items():
        rules[f"audmark{key}msg"] = _room(room)
    # Federal staff open and manage ad-hoc rooms (access.can_create_chat_room): they see their names and
    # participants without being in them; the messages stay among the participants.
    joins_adhoc = _room(world.rooms["adhoc"])
    rules["audmarkadhocname"] = lambda user: joins_adhoc(user) or (user is not None
                                                                  and access.can_create_chat_room(user))
    return rules


def person_is_visible(user, person) -> bool:
    """Whether `user` may see `person`'s page, profile and details: directory.access's rule (issue 16,
    item 1: the people of a candidate association show only to those who handle its application)."""
    return access.can_view_person(user, person)


def visible_markers(world: World, user) -> frozenset[str]:
    return frozenset(marker for marker, rule in world.markers.items() if rule(user))


@dataclass
class Audit:
    world: World
    clients: dict[str, Client]  # role → a client signed in as that role (anonymous: not signed in)
    hidden: dict[str, frozenset[str]]  # role → markers of the things that role may not see


@contextlib.contextmanager
def audit_world(media_root) -> Iterator[Audit]:
    """The world, its search index, a signed-in client per role and what each role may not see, in a
    transaction rolled back on exit (the caller unblocks the database, e.g. a module-scoped fixture)."""
    # 403 and 404 answers are logged with their traceback by django.request: thousands of them here.
    request_logger = logging.getLogger("django.request")
    level = request_logger.level
    request_logger.setLevel(logging.ERROR)
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    try:
        with override_settings(MEDIA_ROOT=media_root, PASSWORD_HASHERS=fast), transaction.atomic():
            world = build_world()
            from search import indexing

            indexing.rebuild()
            clients, hidden = {}, {}
            everything = frozenset(world.markers)
            for role in ROLES:
                user = world.user(role)
                client = Client()
                if user is not None:
                    client.force_login(user)
                clients[role] = client
                hidden[role] = everything - visible_markers(world, user)
            yield Audit(world, clients, hidden)
            transaction.set_rollback(True)
    finally:
        request_logger.setLevel(level)
