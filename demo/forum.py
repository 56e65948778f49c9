"""Forum demo content: the tree, French topics and replies in every forum, national meetings.

Called by `demo.directory.seed()` after the directory step. Deterministic (fixed random seed,
fixed reference date for the past) and idempotent (topics are found again by forum and subject;
generated topics are numbered and only the missing ones are created). `scale` adds generated
topics and posts in bulk for benchmarks: at scale 20, over 10 000 topics and 100 000 posts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.text import slugify
from machina.apps.forum.models import Forum
from machina.apps.forum_conversation.models import Post, Topic

from directory.models import User
from forum import notifications, selectors, services
from forum.models import ForumSpace, MeetingResponse, NationalMeeting

SEED = 20251002
# Every past date of the demo threads is computed from this one, never from today.
REFERENCE_MOMENT = datetime(2025, 9, 15, 9, 0, tzinfo=UTC)
GENERATED_TOPICS_PER_FORUM_AND_SCALE = 14
GENERATED_REPLIES = (4, 14)
CHUNK = 2000


@dataclass(frozen=True)
class Thread:
    subject: str
    body: str
    replies: tuple[str, ...]


# --- Content bank -------------------------------------------------------------------------------

THEME_THREADS: dict[str, list[Thread]] = {
    "controle-judiciaire-socio-educatif-cjse": [
        Thread(
            "Trame de rapport de fin de mesure CJSE : vous faites comment ?",
            "Bonjour à toutes et tous,\n\nNous révisons notre trame de rapport de fin de contrôle judiciaire "
            "socio-éducatif. Les magistrats de notre juridiction nous demandent plus de synthèse et moins de "
            "récit. Qui accepterait de partager sa trame (anonymisée bien sûr) ?\n\nMerci d'avance !",
            ("Nous avons une trame en trois parties : situation à l'entrée, évolution, préconisations. Je la "
             "dépose en pièce jointe dès lundi.",
             "Chez nous le juge des libertés et de la détention a validé un format de deux pages maximum. "
             "C'est un vrai gain de temps pour tout le monde.",
             "Merci beaucoup, cela va nous aider pour la réunion avec le parquet du mois prochain."),
        ),
        Thread(
            "Délais de saisine et premier entretien",
            "Nous constatons des délais de plus en plus longs entre l'ordonnance et la réception du dossier. "
            "Avez-vous mis en place une convention avec le greffe pour accélérer la transmission ?",
            ("Oui, une transmission par courriel sécurisé le jour même depuis l'an dernier. Le premier "
             "entretien a lieu sous huit jours.",
             "Pas encore, mais c'est un point que nous porterons à la prochaine réunion régionale."),
        ),
    ],
    "placement-a-lexterieur": [
        Thread(
            "Placement à l'extérieur : recherche de places d'hébergement",
            "Nous cherchons à développer des places d'hébergement pour le placement à l'extérieur. Qui a "
            "travaillé avec un bailleur social ou une résidence sociale ? Quelles conditions ?",
            ("Nous avons une convention avec un bailleur depuis trois ans : six logements en diffus, "
             "l'association porte le bail glissant.",
             "Attention à bien prévoir la médiation locative dans le budget, c'est ce qui a fait la "
             "différence chez nous."),
        ),
    ],
    "accompagnement-des-auteurs-de-violences-conjugales": [
        Thread(
            "Groupes de parole auteurs de violences conjugales : quelle durée ?",
            "Nous ouvrons un programme de groupes de parole. Les retours d'expérience parlent de 8 à 15 "
            "séances. Qu'avez-vous retenu, et avec quels intervenants ?",
            ("Douze séances de deux heures, co-animées par une psychologue et une intervenante "
             "socio-judiciaire. Le binôme est essentiel.",
             "Nous travaillons aussi avec le centre de prise en charge des auteurs (CPCA) de notre "
             "département pour l'orientation."),
        ),
    ],
    "financement": [
        Thread(
            "Appels à projets 2026 : qui répond en commun ?",
            "Le fonds interministériel ouvre un appel à projets sur la prévention de la récidive. Certaines "
            "associations de la région souhaitent-elles répondre ensemble (fiche II.9) ?",
            ("Intéressés ! Nous avons déjà un partenariat avec deux associations voisines.",
             "Je vous mets en lien avec notre chargée de développement, elle a monté le dossier l'an dernier."),
        ),
    ],
    "ethique": [
        Thread(
            "Secret professionnel partagé et réunions partenariales",
            "Jusqu'où partager des informations en réunion partenariale avec le SPIP et les services "
            "sociaux ? Nous aimerions élaborer une note interne.",
            ("Le groupe de travail éthique prépare justement une fiche sur ce sujet.",
             "Chez nous : ne partager que ce qui est strictement nécessaire à l'accompagnement, et en "
             "informer la personne."),
        ),
    ],
}

GENERIC_THEME_THREADS = [
    Thread(
        "Partage de pratiques : {theme}",
        "Bonjour,\n\nJe lance ce fil pour partager nos pratiques sur « {theme} ». Quels outils utilisez-vous, "
        "quelles difficultés rencontrez-vous en ce moment ?",
        ("De notre côté, nous avons formalisé une procédure l'an dernier ; je peux la présenter à la "
         "prochaine journée thématique.",
         "La principale difficulté reste le manque de moyens humains face à l'augmentation des mesures.",
         "Merci pour ce fil, très utile pour une association comme la nôtre qui démarre sur ce sujet."),
    ),
    Thread(
        "Ressources et formations sur « {theme} »",
        "Connaissez-vous des formations de qualité pour les équipes sur ce thème ? Nous préparons notre plan "
        "de développement des compétences.",
        ("La fédération a organisé une journée thématique l'an dernier, les supports sont dans les "
         "ressources.",),
    ),
]

SPACE_THREADS: dict[str, list[Thread]] = {
    "direction": [
        Thread(
            "Isolement de la fonction de direction : on en parle ?",
            "Je suis directrice depuis dix-huit mois. Entre le conseil d'administration, les financeurs et les "
            "équipes, je me sens parfois seule. Comment faites-vous pour prendre du recul ?",
            ("Un groupe d'analyse de pratiques entre directeurs, une fois par trimestre : indispensable.",
             "Le réseau des anciens directeurs peut aussi accompagner, n'hésite pas à demander à la "
             "fédération.",
             "Merci à vous, cela fait du bien de lire que ce n'est pas qu'une impression."),
        ),
        Thread(
            "Négociation annuelle obligatoire et revalorisations",
            "Comment avez-vous anticipé les revalorisations salariales dans vos budgets prévisionnels ?",
            ("Nous avons présenté deux scénarios au conseil d'administration, avec et sans revalorisation "
             "financée.",),
        ),
    ],
    "presidency:meetings": [
        Thread(
            "Compte rendu de la réunion nationale des Président·es de juin",
            "Vous trouverez ci-dessous le compte rendu de notre dernière réunion : gouvernance, renouvellement "
            "des conseils d'administration, point sur le projet stratégique.",
            ("Merci pour ce compte rendu très complet.",
             "Pourrions-nous inscrire le recrutement des administrateurs à l'ordre du jour de la prochaine "
             "réunion ?"),
        ),
    ],
    "board": [
        Thread(
            "Préparation du conseil d'administration de décembre",
            "Documents à relire avant la séance : budget prévisionnel, rapport des commissions, calendrier "
            "des journées thématiques.",
            ("Lu et approuvé pour ma part ; une question sur la ligne formation du budget.",),
        ),
    ],
    "welcome": [
        Thread(
            "Bienvenue aux nouvelles associations adhérentes !",
            "Ce forum vous permet de vous présenter et de poser toutes vos questions sur le fonctionnement du "
            "réseau. Chaque nouvelle association est accompagnée par une association marraine.",
            ("Bonjour à tous, nous venons d'adhérer et sommes ravis de rejoindre le réseau !",
             "Bienvenue ! N'hésitez pas à venir à la prochaine réunion régionale."),
        ),
    ],
}

REGION_THREADS = [
    Thread(
        "Prochaine réunion régionale en {region}",
        "La prochaine réunion régionale aura lieu au printemps. Quels sujets souhaitez-vous inscrire à "
        "l'ordre du jour ?",
        ("Les relations avec les nouveaux magistrats du parquet.",
         "Un point sur les stages de sensibilisation aux violences conjugales serait bienvenu."),
    ),
]

WORKING_GROUP_THREADS = [
    Thread(
        "{group} : feuille de route de l'année",
        "Voici la proposition de feuille de route du groupe pour l'année. Vos remarques sont attendues avant "
        "la prochaine séance.",
        ("D'accord sur l'ensemble, je propose d'ajouter un temps de restitution au conseil d'administration.",
         "Je peux prendre en charge la rédaction de la première fiche."),
    ),
]

GENERATED_SUBJECTS = [
    "Question sur {theme}", "Retour d'expérience : {theme}", "Outil à partager ({theme})",
    "Besoin d'un avis : {theme}", "Actualité réglementaire et {theme}", "Coopération locale sur {theme}",
]
GENERATED_BODIES = [
    "Bonjour,\n\nNous rencontrons une situation nouvelle et aimerions avoir vos avis. **Merci** de vos retours.",
    "Je partage ici notre retour d'expérience après un an de mise en œuvre. Les questions sont bienvenues.",
    "Quelqu'un a-t-il déjà travaillé ce point avec les services du parquet ? Nous cherchons des exemples.",
]
GENERATED_REPLY_BODIES = [
    "Merci pour ce partage, nous avons vécu la même chose.",
    "Chez nous, la solution a été de formaliser une convention avec nos partenaires.",
    "Je vous envoie notre document de travail en message privé.",
    "Bonne question ; je suis preneur des réponses.",
    "Nous en avons parlé en réunion régionale, le compte rendu est dans les ressources.",
]


# --- Helpers --------------------------------------------------------------------------------------


def _readers(forum: Forum, space: ForumSpace) -> list[User]:
    """People who take part in the forum, through the groups its audience names (sorted: deterministic)."""
    audience = services.audience_for_space(space)
    groups = Group.objects.filter(managed__key__in=audience.participants)
    return list(User.objects.filter(groups__in=groups, is_active=True).distinct().order_by("username"))


def _at(days_ago: float) -> datetime:
    return REFERENCE_MOMENT - timedelta(days=days_ago)


def _create_thread(forum: Forum, thread: Thread, authors: Sequence[User], rng: random.Random,
                   days_ago: float) -> bool:
    """Create one topic with its replies unless a topic with that subject exists in the forum."""
    subject = thread.subject[:255]
    if Topic.objects.filter(forum=forum, subject=subject).exists() or not authors:
        return False
    poster = authors[rng.randrange(len(authors))]
    topic = Topic.objects.create(forum=forum, subject=subject, poster=poster, type=Topic.TOPIC_POST,
                                 status=Topic.TOPIC_UNLOCKED, approved=True)
    moments = [_at(days_ago - i * 0.7) for i in range(len(thread.replies) + 1)]
    first = Post.objects.create(topic=topic, poster=poster, subject=subject, content=thread.body, approved=True)
    Post.objects.filter(pk=first.pk).update(created=moments[0], updated=moments[0])
    for i, reply in enumerate(thread.replies, start=1):
        author = authors[rng.randrange(len(authors))]
        post = Post.objects.create(topic=topic, poster=author, subject=f"Re: {subject}"[:255], content=reply,
                                   approved=True)
        Post.objects.filter(pk=post.pk).update(created=moments[i], updated=moments[i])
    Topic.objects.filter(pk=topic.pk).update(created=moments[0])
    topic.refresh_from_db()
    topic.update_trackers()
    return True


def _threads_for(space: ForumSpace) -> list[Thread]:
    if space.kind == ForumSpace.Kind.THEME:
        name = space.theme.name if space.theme else space.forum.name
        specific = THEME_THREADS.get(space.theme.slug if space.theme else "", [])
        generic = [Thread(t.subject.format(theme=name), t.body.format(theme=name), t.replies)
                   for t in GENERIC_THEME_THREADS]
        return specific + generic
    if space.kind == ForumSpace.Kind.REGION:
        name = space.region.name if space.region else space.forum.name
        return [Thread(t.subject.format(region=name), t.body, t.replies) for t in REGION_THREADS]
    if space.kind == ForumSpace.Kind.WORKING_GROUP:
        name = space.working_group.name if space.working_group else space.forum.name
        return [Thread(t.subject.format(group=name), t.body, t.replies) for t in WORKING_GROUP_THREADS]
    return SPACE_THREADS.get(space.key, [])


def _seed_meetings(rng: random.Random) -> int:
    """Two upcoming and one past national meeting of the presidents, with some answers."""
    staff = User.objects.filter(username="equipe").first()
    if staff is None:
        return 0
    today = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    plans = [
        ("Réunion nationale des Président·es — session d'automne", today - timedelta(days=70),
         "Maison de la vie associative, Bordeaux", ""),
        ("Réunion nationale des Président·es — session de printemps", today + timedelta(days=24),
         "Espace associatif, 12 rue de la République, Lyon", "https://visio.federation-passerelles.exemple.fr/pres"),
        ("Visioconférence des Président·es : recrutement des administrateurs", today + timedelta(days=52),
         "", "https://visio.federation-passerelles.exemple.fr/ca"),
    ]
    created = 0
    presidents = list(selectors.meeting_audience_users(NationalMeeting.Audience.PRESIDENTS).order_by("username"))
    for title, start, place, link in plans:
        if NationalMeeting.objects.filter(title=title).exists():
            continue
        meeting = services.create_meeting(staff, services.MeetingData(
            title=title, starts_at=start, ends_at=start + timedelta(hours=4), place=place, video_link=link,
            agenda="1. Accueil et tour de table\n2. Point sur le projet stratégique fédéral\n"
                   "3. Gouvernance associative : renouveler son conseil d'administration\n4. Questions diverses",
        ))
        answers = [MeetingResponse.Answer.YES, MeetingResponse.Answer.YES, MeetingResponse.Answer.MAYBE,
                   MeetingResponse.Answer.NO]
        for person in presidents[: min(len(presidents), 9)]:
            if person.username == "president":
                continue  # the demo president answers by themself
            MeetingResponse.objects.get_or_create(meeting=meeting, user=person,
                                                  defaults={"answer": answers[rng.randrange(len(answers))]})
        created += 1
    return created


def _generate_bulk(spaces: Sequence[ForumSpace], scale: int, rng: random.Random) -> tuple[int, int]:
    """Numbered topics with replies, bulk-inserted, then every counter recomputed in a few queries."""
    wanted = GENERATED_TOPICS_PER_FORUM_AND_SCALE * scale
    new_topics = new_posts = 0
    for space in spaces:
        forum = space.forum
        authors = _readers(forum, space)
        if not authors:
            continue
        theme = space.theme.name if space.theme else forum.name
        existing = Topic.objects.filter(forum=forum, subject__startswith="[").count()
        topics = []
        for n in range(existing + 1, wanted + 1):
            subject = f"[{n:05d}] " + GENERATED_SUBJECTS[n % len(GENERATED_SUBJECTS)].format(theme=theme)
            topics.append(Topic(forum=forum, subject=subject[:255], slug=slugify(subject)[:255],
                                poster=authors[rng.randrange(len(authors))], type=Topic.TOPIC_POST,
                                status=Topic.TOPIC_UNLOCKED, approved=True))
        if not topics:
            continue
        created_topics = Topic.objects.bulk_create(topics, batch_size=CHUNK)
        if created_topics and created_topics[0].pk is None:  # backends that do not return ids
            created_topics = list(Topic.objects.filter(forum=forum, subject__startswith="[")
                                  .order_by("pk")[existing:])
        posts = []
        for index, topic in enumerate(created_topics):
            start = _at(400 - (index % 380))
            count = 1 + rng.randint(*GENERATED_REPLIES)
            for i in range(count):
                body = GENERATED_BODIES[index % len(GENERATED_BODIES)] if i == 0 else \
                    GENERATED_REPLY_BODIES[(index + i) % len(GENERATED_REPLY_BODIES)]
                moment = start + timedelta(hours=i * 5)
                posts.append(Post(topic=topic, poster=topic.poster if i == 0 else authors[rng.randrange(len(authors))],
                                  subject=topic.subject if i == 0 else f"Re: {topic.subject}"[:255],
                                  content=body, approved=True, created=moment, updated=moment))
        _render_content(posts)
        for start in range(0, len(posts), CHUNK):
            batch = posts[start:start + CHUNK]
            Post.objects.bulk_create(batch, batch_size=CHUNK)
        new_topics += len(created_topics)
        new_posts += len(posts)
        _recount_forum(forum)
    return new_topics, new_posts


def _render_content(posts: Sequence[Post]) -> None:
    """Give posts about to be bulk-created the rendered HTML that saving one gives it.

    machina's MarkupTextField renders `content` into its `_content_rendered` companion in a pre_save
    receiver, which bulk_create does not send: without this, generated posts show no text (and their
    pages cost less to render than real ones). The field's own hook renders (MACHINA_MARKUP_LANGUAGE,
    core.markup.render); generated bodies repeat, so each distinct body is rendered once.
    """
    content_field = Post._meta.get_field("content")
    rendered: dict[str, str] = {}
    for post in posts:
        raw = post.content.raw
        if raw not in rendered:
            content_field.render_data(None, Post, instance=post)
            rendered[raw] = post._content_rendered
        post._content_rendered = rendered[raw]


def _render_unrendered_posts() -> int:
    """Render the posts that an earlier seed bulk-created without their HTML; how many were fixed.

    Generated topics are only created when missing, so a database seeded before bulk posts were
    rendered would otherwise keep empty posts forever.
    """
    fixed, last_pk = 0, 0
    pending = Post.objects.filter(_content_rendered__isnull=True).order_by("pk")
    while batch := list(pending.filter(pk__gt=last_pk)[:CHUNK]):
        _render_content(batch)
        Post.objects.bulk_update(batch, ["_content_rendered"], batch_size=CHUNK)
        fixed, last_pk = fixed + len(batch), batch[-1].pk
    return fixed


def _recount_forum(forum: Forum) -> None:
    """Recompute topic and forum trackers (first/last post, counts) with aggregate queries."""
    stats = (Post.objects.filter(topic__forum=forum, approved=True).values("topic_id")
             .annotate(n=Count("id"), first=Min("id"), last=Max("id"), last_on=Max("created")))
    topics = []
    for row in stats:
        topics.append(Topic(pk=row["topic_id"], posts_count=row["n"], first_post_id=row["first"],
                            last_post_id=row["last"], last_post_on=row["last_on"]))
    for start in range(0, len(topics), CHUNK):
        Topic.objects.bulk_update(topics[start:start + CHUNK],
                                  ["posts_count", "first_post", "last_post", "last_post_on"])
    forum.refresh_from_db()
    forum.update_trackers()
    for ancestor in forum.get_ancestors():
        ancestor.update_trackers()


@transaction.atomic
def seed_forum(scale: int = 1, stdout=None) -> dict[str, int]:
    """Build the forum tree, then demo threads in every forum, meetings, and generated volume at scale > 1.

    Notifications are muted: demo posts are history, not news for anyone.
    """
    with notifications.muted():
        return _seed_forum(scale, stdout)


def _seed_forum(scale: int, stdout) -> dict[str, int]:
    services.ensure_forum_tree()
    rng = random.Random(SEED)
    spaces = list(ForumSpace.objects.exclude(kind=ForumSpace.Kind.CATEGORY)
                  .select_related("forum", "theme", "region", "working_group").order_by("key"))
    created = 0
    for position, space in enumerate(spaces):
        authors = _readers(space.forum, space)
        for offset, thread in enumerate(_threads_for(space)):
            if _create_thread(space.forum, thread, authors, rng, days_ago=30 + (position * 3 + offset * 11) % 200):
                created += 1
    meetings = _seed_meetings(rng)
    generated_topics = generated_posts = 0
    if scale > 1:
        generated_topics, generated_posts = _generate_bulk(spaces, scale, rng)
    _render_unrendered_posts()
    counts = {"forums": len(spaces), "topics": Topic.objects.count(), "posts": Post.objects.count(),
              "meetings": NationalMeeting.objects.count()}
    if stdout is not None:
        stdout.write(f"Forum : {counts['forums']} forums, {counts['topics']} sujets, {counts['posts']} messages "
                     f"({created} fils de démonstration créés, {meetings} réunions, "
                     f"{generated_topics} sujets et {generated_posts} messages générés).")
    return counts
