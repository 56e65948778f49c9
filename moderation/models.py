"""The moderation log: every moderation action of the forum and of the chat, in one table.

An entry names its target (a forum post or topic, a chat message) by content type and id, and keeps
a text snapshot of it, so it outlives the target's deletion. The place (a forum, a chat room) is
named the same way, for filtering: each app reads the entries of its own places (forum/moderation.py,
chat admin). This app sits below the forum and the chat: it knows neither, only content types.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ModerationEntry(models.Model):
    """Who did what to which post, topic or message, where, when and why."""

    class Action(models.TextChoices):
        # The forum (machina's moderation, our reports)
        LOCK = "lock", _("Verrouillage")
        UNLOCK = "unlock", _("Déverrouillage")
        MOVE = "move", _("Déplacement")
        PIN = "pin", _("Épinglage")
        UNPIN = "unpin", _("Retour en sujet normal")
        DELETE_TOPIC = "delete_topic", _("Suppression d'un sujet")
        DELETE_POST = "delete_post", _("Suppression d'un message")
        APPROVE = "approve", _("Approbation")
        DISAPPROVE = "disapprove", _("Refus")
        REPORT_CLOSED = "report_closed", _("Signalement traité")
        # The chat
        DELETE_CHAT_MESSAGE = "delete_chat_message", _("Suppression")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              related_name="+", verbose_name=_("auteur de l'action"))
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    place_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("type de lieu"))
    place_id = models.PositiveBigIntegerField(_("lieu"), null=True, blank=True)
    place = GenericForeignKey("place_type", "place_id")
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("type de contenu"))
    target_id = models.PositiveBigIntegerField(_("contenu"), null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    # The forum topic the target belongs to (the topic itself, or a post's topic): the log links to it.
    topic_id_ref = models.PositiveBigIntegerField(_("sujet"), null=True, blank=True)
    target_author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", verbose_name=_("auteur·rice du contenu"))
    # What was moderated, as it was: a forum title, a chat message's text.
    snapshot = models.TextField(_("contenu concerné"), blank=True)
    # What the action changed, when the action alone does not say it: the destination of a move,
    # the new type of a pinned topic, the report a closure answers.
    detail = models.CharField(_("précision"), max_length=255, blank=True)
    reason = models.TextField(_("motif"), blank=True)
    # A default rather than auto_now_add: the entries copied from the former logs keep their dates.
    created_at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("action de modération")
        verbose_name_plural = _("journal de modération")
        indexes = [models.Index(fields=["place_type", "place_id"], name="moderation_place_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} — {self.snapshot[:80]}"

