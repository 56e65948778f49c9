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
