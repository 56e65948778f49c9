"""The network's forum domain around machina's models."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from directory.access import ForumKind


class ForumSpace(models.Model):
    """Ties a machina forum (or category) to what it is for in the network, hence to its audience."""

    class Kind(models.TextChoices):
        CATEGORY = "category", _("Catégorie")
        THEME = ForumKind.THEME, _("Espace thématique")
        DIRECTION = ForumKind.DIRECTION, _("Direction")
        PRESIDENCY = ForumKind.PRESIDENCY, _("Présidence")
        BOARD = ForumKind.BOARD, _("Conseil d'administration")
        REGION = ForumKind.REGION, _("Région")
        WORKING_GROUP = ForumKind.WORKING_GROUP, _("Groupe de travail")
        WELCOME = ForumKind.WELCOME, _("Accueil des nouveaux adhérents")

    key = models.CharField(_("clé"), max_length=150, unique=True)
    forum = models.OneToOneField("forum.Forum", on_delete=models.CASCADE, related_name="space")
    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    theme = models.ForeignKey("directory.Theme", on_delete=models.CASCADE, null=True, blank=True)
    region = models.ForeignKey("directory.Region", on_delete=models.CASCADE, null=True, blank=True)
    working_group = models.ForeignKey("directory.WorkingGroup", on_delete=models.CASCADE, null=True, blank=True)
    is_meetings_forum = models.BooleanField(_("forum des réunions nationales"), default=False)

    class Meta:
        verbose_name = _("espace de forum")
        verbose_name_plural = _("espaces de forum")

    def __str__(self) -> str:
        return self.key


class ModerationLogEntry(models.Model):
    """Who did what to which post or topic, when and why: visible to federal staff."""

    class Action(models.TextChoices):
        LOCK = "lock", _("Verrouillage")
        UNLOCK = "unlock", _("Déverrouillage")
        MOVE = "move", _("Déplacement")
        PIN = "pin", _("Épinglage")
        DELETE_TOPIC = "delete_topic", _("Suppression d'un sujet")
        DELETE_POST = "delete_post", _("Suppression d'un message")
        APPROVE = "approve", _("Approbation")
        DISAPPROVE = "disapprove", _("Refus")
        REPORT_CLOSED = "report_closed", _("Signalement traité")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              related_name="+", verbose_name=_("auteur de l'action"))
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    forum = models.ForeignKey("forum.Forum", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    topic_id_ref = models.PositiveIntegerField(_("sujet"), null=True, blank=True)
    post_id_ref = models.PositiveIntegerField(_("message"), null=True, blank=True)
    subject = models.CharField(_("titre concerné"), max_length=255, blank=True)
    reason = models.TextField(_("motif"), blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("action de modération")
        verbose_name_plural = _("journal de modération")

    def __str__(self) -> str:
        return f"{self.get_action_display()} — {self.subject}"


class NationalMeeting(models.Model):
    """A national meeting (réunion nationale des Président·es by default) and its forum thread."""

    class Audience(models.TextChoices):
        PRESIDENTS = "president", _("Président·es")
        DIRECTORS = "director", _("Directeurs et directrices")
        BOARD = "board_admin", _("Conseil d'administration")

    title = models.CharField(_("titre"), max_length=200)
    starts_at = models.DateTimeField(_("début"), db_index=True)
    ends_at = models.DateTimeField(_("fin"))
    place = models.CharField(_("lieu"), max_length=250, blank=True)
    video_link = models.URLField(_("lien de visioconférence"), blank=True)
    agenda = models.TextField(_("ordre du jour"), blank=True)
    agenda_document = models.FileField(_("ordre du jour (document)"), upload_to="private/reunions/", blank=True)
    audience = models.CharField(_("public"), max_length=20, choices=Audience.choices, default=Audience.PRESIDENTS)
    topic = models.OneToOneField("forum_conversation.Topic", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="meeting", verbose_name=_("fil de discussion"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+", verbose_name=_("créée par"))
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    sequence = models.PositiveIntegerField(default=0, help_text="ICS SEQUENCE, incremented on each change.")

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("réunion nationale")
        verbose_name_plural = _("réunions nationales")
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="meeting_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.title


class MeetingResponse(models.Model):
    """A person's answer to a meeting invitation (RSVP)."""

    class Answer(models.TextChoices):
        YES = "yes", _("Je viens")
        NO = "no", _("Je ne viens pas")
        MAYBE = "maybe", _("Peut-être")

    meeting = models.ForeignKey(NationalMeeting, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_responses")
    answer = models.CharField(_("réponse"), max_length=5, choices=Answer.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("réponse à une réunion")
        verbose_name_plural = _("réponses aux réunions")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="one_response_per_person")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_answer_display()}"
