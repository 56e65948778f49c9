"""The forum bench's data: the demo network, its forum tree grown to TARGET_FORUMS forums, and one long topic.

Built once and kept between runs while a marker (bench/framework.seed_marker) says the same parameters and
the same seed code, like the load bench:

- `seed_demo --scale BASE_SCALE` (notifications muted): people, associations, role groups, the forum tree
  of the network (categories, one forum per theme, region, working group, and the restricted spaces)
  with its demo threads and generated topics;
- the tree grown to TARGET_FORUMS forums by sub-forums under every forum of the network, in turn: each
  sub-forum gets its parent's audience (the same group permissions, a forum space of the same kind), so
  the mix of audiences stays the network's (themes for every member, regions, working groups, direction,
  presidency, board); each gets a few generated topics (bulk-inserted, posts rendered as saving does);
- one topic of LONG_TOPIC_POSTS posts in the busiest forum `directrice` may write in (bulk-inserted, dates
  spread over years, as a long-lived thread): its first and last pages show whether pagination keeps a
  very long topic cheap.

Everything is bulk-inserted and every counter recomputed once at the end (topic and forum trackers).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from bench.framework import BENCH_DIR, ROOT, reset_server_database, seed_fingerprint, seed_marker

BASE_SCALE = 2
TARGET_FORUMS = 300
LONG_TOPIC_POSTS = 10_000
LONG_TOPIC_SUBJECT = "Comptes rendus des réunions régionales : le fil de suivi"
SUBFORUM_TOPICS = (4, 30)
SUBFORUM_REPLIES = (0, 9)
SEED = 18_2026
CHUNK = 2000
DEMO_USERNAME = "directrice"
SUBFORUM_NAMES = [
    "Outils et modèles", "Questions juridiques", "Formations", "Partenariats locaux", "Agenda",
    "Retours d'expérience", "Financements", "Archives", "Accueil des nouveaux salariés", "Documentation",
]
SEED_SOURCES = [
    ROOT / "demo" / "directory.py",
    ROOT / "directory" / "reference.py",
    ROOT / "demo" / "management" / "commands" / "seed_demo.py",
    ROOT / "demo" / "forum.py",
    ROOT / "forum" / "structure.py",
    ROOT / "forum" / "services.py",
    Path(__file__),
]
DATABASE = BENCH_DIR / "forum-http.sqlite3"


def fingerprint() -> dict:
    return {**seed_fingerprint(SEED_SOURCES, BASE_SCALE), "target_forums": TARGET_FORUMS,
            "long_topic_posts": LONG_TOPIC_POSTS}


def prepare() -> tuple[bool, float]:
    """Migrate, and build the data unless the marker shows this very build is here. (reused, seconds spent)."""
    import time

    from django.core.management import call_command
    from django.db import connection

    from forum import notifications

    start = time.monotonic()
    wanted = fingerprint()
    marker = seed_marker("forum-http")
    same = marker.exists() and json.loads(marker.read_text()) == wanted
    if connection.vendor == "sqlite":
        if not (same and DATABASE.exists()):
            connection.close()
            for path in (DATABASE, marker, *(Path(f"{DATABASE}{s}") for s in ("-wal", "-shm", "-journal"))):
                path.unlink(missing_ok=True)
            same = False
    elif connection.vendor == "postgresql":
        reset_server_database(required_word="bench", create_only=same)
    else:
        raise RuntimeError(f"Base non prise en charge par le banc forum : {connection.vendor}")
    call_command("migrate", interactive=False, verbosity=0)
    if same and long_topic() is not None:
        return True, time.monotonic() - start
    print(f"Données du banc forum : seed_demo --scale {BASE_SCALE}, arbre porté à {TARGET_FORUMS} forums, "
          f"un sujet de {LONG_TOPIC_POSTS} messages…", flush=True)
    with notifications.muted():
        call_command("seed_demo", scale=BASE_SCALE, stdout=io.StringIO())  # its long summary is not ours
        grow_tree(TARGET_FORUMS)
        create_long_topic()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(wanted) + "\n")
    return False, time.monotonic() - start


@contextlib.contextmanager
def _dates_as_given(*models):
    """bulk_create keeps the `created`/`updated` dates given (machina's fields are auto_now_add/auto_now)."""
    fields = [(m._meta.get_field(name), attribute) for m in models
              for name, attribute in (("created", "auto_now_add"), ("updated", "auto_now"))]
    for field, attribute in fields:
        setattr(field, attribute, False)
    try:
        yield
    finally:
        for field, attribute in fields:
            setattr(field, attribute, True)


def grow_tree(target: int) -> int:
    """Sub-forums under the network's forums, in turn, until the tree has `target` forums; how many were made."""
    from django.db import transaction
    from django.utils.text import slugify
    from machina.apps.forum.models import Forum
    from machina.apps.forum_conversation.models import Post, Topic
    from machina.apps.forum_permission.models import GroupForumPermission

    from demo import forum as demo_forum
    from forum.models import ForumSpace

    rng = random.Random(SEED)
    parents = list(Forum.objects.filter(type=Forum.FORUM_POST, level=1).select_related(
        "space", "space__theme", "space__region", "space__working_group").order_by("tree_id", "lft"))
    grants = defaultdict(list)
    for grant in GroupForumPermission.objects.filter(forum__in=parents):
        grants[grant.forum_id].append(grant)
    authors = {parent.pk: demo_forum._readers(parent, parent.space) for parent in parents}
    made = []
    with transaction.atomic():
        count, turn = Forum.objects.count(), 0
        while count < target:
            parent = parents[turn % len(parents)]
            number = turn // len(parents) + 1
            name = f"{SUBFORUM_NAMES[(number - 1) % len(SUBFORUM_NAMES)]} · {parent.name}"[:100]
            forum = Forum.objects.create(name=name, parent=parent, type=Forum.FORUM_POST,
                                         description=f"{SUBFORUM_NAMES[(number - 1) % len(SUBFORUM_NAMES)]}.")
            space = parent.space
            ForumSpace.objects.create(key=f"bench:{space.key}:{number}", forum=forum, kind=space.kind,
                                      theme=space.theme, region=space.region, working_group=space.working_group)
            GroupForumPermission.objects.bulk_create([
                GroupForumPermission(forum=forum, group_id=g.group_id, permission_id=g.permission_id,
                                     has_perm=g.has_perm) for g in grants[parent.pk]])
            made.append((forum, authors[parent.pk]))
            count, turn = count + 1, turn + 1

        topics, plans = [], []
        for forum, people in made:
            if not people:
                continue
            for n in range(rng.randint(*SUBFORUM_TOPICS)):
                subject = demo_forum.GENERATED_SUBJECTS[n % len(demo_forum.GENERATED_SUBJECTS)].format(
                    theme=forum.name)[:200]
                moment = demo_forum._at(rng.uniform(1, 700))
                topics.append(Topic(forum=forum, subject=subject, slug=slugify(subject)[:255],
                                    poster=people[rng.randrange(len(people))], type=Topic.TOPIC_POST,
                                    status=Topic.TOPIC_UNLOCKED, approved=True, created=moment, updated=moment))
                plans.append((people, moment, 1 + rng.randint(*SUBFORUM_REPLIES)))
        with _dates_as_given(Topic, Post):
            created = Topic.objects.bulk_create(topics, batch_size=CHUNK)
            if created and created[0].pk is None:
                raise RuntimeError("La base ne rend pas les identifiants des insertions groupées.")
            posts = []
            for index, (topic, (people, moment, count)) in enumerate(zip(created, plans, strict=True)):
                for i in range(count):
                    at = moment + timedelta(hours=7 * i)
                    body = demo_forum.GENERATED_BODIES[index % len(demo_forum.GENERATED_BODIES)] if i == 0 else \
                        demo_forum.GENERATED_REPLY_BODIES[(index + i) % len(demo_forum.GENERATED_REPLY_BODIES)]
                    poster = topic.poster if i == 0 else people[rng.randrange(len(people))]
                    posts.append(Post(topic=topic, poster=poster,
                                      subject=topic.subject if i == 0 else f"Re: {topic.subject}"[:255],
                                      content=body, approved=True, created=at, updated=at))
            demo_forum._render_content(posts)
            Post.objects.bulk_create(posts, batch_size=CHUNK)
        _recount_topics(Topic.objects.filter(forum__in=[forum for forum, _people in made]))
        _recount_forums()
    return len(made)


def _recount_topics(topics) -> None:
    """Topic trackers (posts count, first and last post, last post date) from aggregates, in bulk."""
    from django.db.models import Count, Max, Min
    from machina.apps.forum_conversation.models import Post, Topic

    rows = (Post.objects.filter(topic__in=topics, approved=True).values("topic_id")
            .annotate(n=Count("id"), first=Min("id"), last=Max("id"), last_on=Max("created")))
    updated = [Topic(pk=r["topic_id"], posts_count=r["n"], first_post_id=r["first"], last_post_id=r["last"],
                     last_post_on=r["last_on"]) for r in rows]
    Topic.objects.bulk_update(updated, ["posts_count", "first_post", "last_post", "last_post_on"],
                              batch_size=CHUNK)


def _recount_forums() -> None:
    """Every forum's trackers (machina's own update_trackers), the deepest first."""
    from machina.apps.forum.models import Forum

    for forum in Forum.objects.order_by("-level", "pk"):
        forum.update_trackers()


def busiest_forum(user):
    """The forum with the most topics among those the person may read and start topics in."""
    from machina.apps.forum.models import Forum

    from directory import access

    handler = access.forum_permission_handler()
    readable = handler.get_readable_forums(Forum.objects.filter(type=Forum.FORUM_POST), user)
    for forum in readable.order_by("-direct_topics_count", "pk"):
        if handler.can_add_topic(forum, user):
            return forum
    raise RuntimeError(f"{user} ne peut écrire dans aucun forum.")


def long_topic():
    from machina.apps.forum_conversation.models import Topic

    return (Topic.objects.filter(subject=LONG_TOPIC_SUBJECT, posts_count__gte=LONG_TOPIC_POSTS)
            .select_related("forum").order_by("pk").first())


def create_long_topic():
    """The topic of LONG_TOPIC_POSTS posts (about one a day for years: a long-lived thread), bulk-inserted."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone
    from machina.apps.forum_conversation.models import Post, Topic

    from demo import forum as demo_forum

    user = get_user_model().objects.get(username=DEMO_USERNAME)
    forum = busiest_forum(user)
    people = [p.pk for p in demo_forum._readers(forum, forum.space)[:40]] or [user.pk]
    rng = random.Random(SEED)
    start = timezone.now() - timedelta(days=LONG_TOPIC_POSTS // 4)
    with transaction.atomic(), _dates_as_given(Topic, Post):
        topic = Topic.objects.create(forum=forum, subject=LONG_TOPIC_SUBJECT, poster=user, type=Topic.TOPIC_POST,
                                     status=Topic.TOPIC_UNLOCKED, approved=True, created=start, updated=start)
        bodies = [_long_topic_body(i) for i in range(20)]
        posts = []
        for i in range(LONG_TOPIC_POSTS):
            at = start + timedelta(hours=6 * i, minutes=rng.randrange(300))
            posts.append(Post(topic=topic, poster_id=user.pk if i == 0 else people[rng.randrange(len(people))],
                              subject=LONG_TOPIC_SUBJECT if i == 0 else f"Re: {LONG_TOPIC_SUBJECT}",
                              content=bodies[0] if i == 0 else bodies[1 + i % 19], approved=True,
                              created=at, updated=at))
        demo_forum._render_content(posts)
        Post.objects.bulk_create(posts, batch_size=CHUNK)
        _recount_topics(Topic.objects.filter(pk=topic.pk))
        for ancestor in forum.get_ancestors(include_self=True).order_by("-level"):
            ancestor.update_trackers()
    return topic


def _long_topic_body(i: int) -> str:
    if i == 0:
        return ("Bonjour à toutes et tous,\n\nJe propose de regrouper ici les comptes rendus des réunions "
                "régionales, pour que chacun retrouve décisions et documents au même endroit.")
    return (f"Compte rendu (modèle {i}) : points abordés, **décisions** et prochaines étapes. "
            "Merci aux associations présentes ; les documents sont disponibles sur demande.")


def normal_topic(forum):
    """A topic of the forum that fits on one page, with several posts (the usual topic page)."""
    from machina.apps.forum_conversation.models import Topic

    topic = (Topic.approved_objects.filter(forum=forum, posts_count__gte=5, posts_count__lte=15)
             .order_by("-posts_count", "pk").first())
    others = Topic.approved_objects.filter(forum=forum).exclude(subject=LONG_TOPIC_SUBJECT)
    return topic or others.order_by("pk").first()


def sizes() -> dict:
    from machina.apps.forum.models import Forum
    from machina.apps.forum_conversation.models import Post, Topic

    return {"forums": Forum.objects.count(), "categories": Forum.objects.filter(type=Forum.FORUM_CAT).count(),
            "sub_forums": Forum.objects.filter(level__gte=2).count(), "topics": Topic.objects.count(),
            "posts": Post.objects.count()}
