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


class ForumSubscription(models.Model):
    """A person follows a whole forum: they hear of every new topic and reply in it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_subscriptions")
    forum = models.ForeignKey("forum.Forum", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("abonnement à un forum")
        verbose_name_plural = _("abonnements aux forums")
        constraints = [models.UniqueConstraint(fields=["user", "forum"], name="one_subscription_per_forum")]

    def __str__(self) -> str:
        return f"{self.user} → {self.forum}"


class Notification(models.Model):
    """An in-site notification; e-mailed at once, in the daily digest or never, per the person's choice."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Nouvelle réponse")
        NEW_TOPIC = "new_topic", _("Nouveau sujet")
        MENTION = "mention", _("Mention")
        MEETING = "meeting", _("Réunion nationale")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    topic = models.ForeignKey("forum_conversation.Topic", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey("forum_conversation.Post", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+")
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("envoyée par courriel le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "post"], name="one_notification_per_post",
                                    condition=models.Q(post__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"


class PostReport(models.Model):
    """A member reports a post to the moderators, with a reason."""

    class Status(models.TextChoices):
        OPEN = "open", _("À traiter")
        CLOSED = "closed", _("Traité")

    post = models.ForeignKey("forum_conversation.Post", on_delete=models.SET_NULL, null=True, related_name="+")
    forum = models.ForeignKey("forum.Forum", on_delete=models.SET_NULL, null=True, related_name="+")
    post_excerpt = models.TextField(_("extrait du message"), blank=True)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                 related_name="post_reports")
    reason = models.TextField(_("motif du signalement"), max_length=2000)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(_("signalé le"), auto_now_add=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    handled_at = models.DateTimeField(_("traité le"), null=True, blank=True)
    resolution = models.TextField(_("suite donnée"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signalement")
        verbose_name_plural = _("signalements")
        constraints = [
            models.UniqueConstraint(fields=["post", "reporter"], condition=models.Q(status="open"),
                                    name="one_open_report_per_person_and_post"),
        ]

    def __str__(self) -> str:
        return f"Signalement {self.pk}"
