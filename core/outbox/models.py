"""One row per outgoing e-mail, kept after sending: what left, to whom, when, after how many attempts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """Decides whether the recipient's `notification_frequency` may refuse the e-mail.

    Transactional e-mails (invitations, answers to an application, account links, a seat confirmed)
    always leave; notices and digests do not reach a person who chose "never".
    """

    TRANSACTIONAL = "transactional", _("Transactionnel (toujours envoyé)")
    NOTICE = "notice", _("Avis (selon la préférence de la personne)")
    DIGEST = "digest", _("Résumé (selon la préférence de la personne)")


class Email(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        SENDING = "sending", _("En cours d'envoi")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("Abandonné")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("destinataire"),
    )
    to_address = models.EmailField(_("adresse"), max_length=254)
    subject = models.CharField(_("objet"), max_length=500)
    text_body = models.TextField(_("texte"))
    html_body = models.TextField(_("version HTML"), blank=True)
    category = models.CharField(_("catégorie"), max_length=16, choices=Category.choices)
    kind = models.CharField(_("nature"), max_length=64,
                            help_text=_("Par exemple « forum.reply », « parrainage.proposed »."))
    dedupe_key = models.CharField(
        "clé d'unicité", max_length=200, blank=True,
        help_text=_("Deux courriels de même clé ne partent pas : remettre en file ne renvoie rien."),
    )
    private = models.BooleanField(
        _("contenu privé"), default=False,
        help_text=_("Le texte porte un lien personnel (invitation, candidature) : il est effacé une fois le "
                    "courriel envoyé ou abandonné."),
    )
    status = models.CharField(_("état"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("mis en file le"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), default=timezone.now)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("courriel")
        verbose_name_plural = _("courriels")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="outbox_email_dedupe_key"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_email_due")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address}"


ERASED_BODY = _("[Contenu effacé après l'envoi : ce courriel portait un lien personnel.]")


class Attachment(models.Model):
    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("nom"), max_length=255)
    mimetype = models.CharField(_("type"), max_length=100)
    content = models.BinaryField(_("contenu"))

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")

    def __str__(self) -> str:
        return self.filename
