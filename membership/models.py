"""Applications to join the federation (fiche II.6) and their examination by the commission.

The tables keep the names they had when these models lived in the directory app (db_table), so
that moving them here changed no data: see membership/migrations/0001_initial.py.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from directory.models import Association, Juridiction, Region, Theme


class MembershipApplication(models.Model):
    """A candidate association's application (fiche II.6), from draft to the commission's decision.

    The candidate reaches it through a private link whose token is stored only as a SHA-256 hash.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        SUBMITTED = "submitted", _("Déposée")
        EXAMINING = "examining", _("En cours d'examen")
        INFO_REQUESTED = "info_requested", _("Informations demandées")
        ADMITTED = "admitted", _("Admise")
        REFUSED = "refused", _("Refusée")
        POSTPONED = "postponed", _("Ajournée")

    DECIDED = (Status.ADMITTED, Status.REFUSED, Status.POSTPONED)

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices, default=Status.DRAFT,
                              db_index=True)
    # Identity
    name = models.CharField(_("nom de l'association"), max_length=200)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    address = models.CharField(_("adresse"), max_length=250, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    departement = models.CharField(_("département"), max_length=3, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("région"))
    juridictions = models.ManyToManyField(Juridiction, blank=True, related_name="+",
                                          verbose_name=_("juridictions desservies"))
    themes = models.ManyToManyField(Theme, blank=True, related_name="+", verbose_name=_("mesures et thématiques"))
    staff_count = models.PositiveIntegerField(_("nombre de salarié·es"), null=True, blank=True)
    website = models.URLField(_("site internet"), blank=True)
    # Contacts
    contact_email = models.EmailField(_("courriel de suivi de la candidature"))
    president_first_name = models.CharField(_("prénom du ou de la président·e"), max_length=150, blank=True)
    president_last_name = models.CharField(_("nom du ou de la président·e"), max_length=150, blank=True)
    president_email = models.EmailField(_("courriel du ou de la président·e"), blank=True)
    president_phone = models.CharField(_("téléphone du ou de la président·e"), max_length=30, blank=True)
    director_first_name = models.CharField(_("prénom du directeur ou de la directrice"), max_length=150, blank=True)
    director_last_name = models.CharField(_("nom du directeur ou de la directrice"), max_length=150, blank=True)
    director_email = models.EmailField(_("courriel du directeur ou de la directrice"), blank=True)
    director_phone = models.CharField(_("téléphone du directeur ou de la directrice"), max_length=30, blank=True)
    motivation = models.TextField(_("motivation"), blank=True, max_length=5000)
    # Uploads: private, served only through the permission-checked view.
    statutes = models.FileField(_("statuts"), upload_to="private/adhesion/", blank=True)
    activity_report = models.FileField(_("dernier rapport d'activité"), upload_to="private/adhesion/", blank=True)
    # Dates and outcome
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    submitted_at = models.DateTimeField(_("déposée le"), null=True, blank=True)
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("décision enregistrée par"))
    decision_reason = models.TextField(_("motif de la décision"), blank=True, max_length=5000)
    association = models.OneToOneField(Association, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="application", verbose_name=_("association créée"))

    class Meta:
        db_table = "directory_membershipapplication"
        ordering = ["-submitted_at", "-created_at"]
        verbose_name = _("candidature d'adhésion")
        verbose_name_plural = _("candidatures d'adhésion")

    def __str__(self) -> str:
        return self.name


class ApplicationEvent(models.Model):
    """The dated log of an application: every step, by whom, and the examiners' discussion."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Brouillon créé")
        SAVED = "saved", _("Brouillon enregistré")
        SUBMITTED = "submitted", _("Candidature déposée")
        EXAMINATION = "examination", _("Examen commencé")
        COMMENT = "comment", _("Avis d'un membre de la commission")
        INFO_REQUESTED = "info_requested", _("Informations demandées")
        INFO_ANSWERED = "info_answered", _("Réponse de l'association")
        DECISION = "decision", _("Décision")
        ACCOUNTS = "accounts", _("Comptes créés")

    application = models.ForeignKey(MembershipApplication, on_delete=models.CASCADE, related_name="events",
                                    verbose_name=_("candidature"))
    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("par"))
    message = models.TextField(_("texte"), blank=True, max_length=5000)
    created_at = models.DateTimeField(_("le"), auto_now_add=True, db_index=True)

    class Meta:
        db_table = "directory_applicationevent"
        ordering = ["created_at", "pk"]
        verbose_name = _("étape de candidature")
        verbose_name_plural = _("étapes de candidature")

    def __str__(self) -> str:
        return f"{self.application} · {self.get_kind_display()}"


class InformationRequest(models.Model):
    """A question of the commission to the candidate, answered through the private link."""

    application = models.ForeignKey(MembershipApplication, on_delete=models.CASCADE, related_name="requests",
                                    verbose_name=_("candidature"))
    question = models.TextField(_("question"), max_length=5000)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                                 verbose_name=_("demandé par"))
    asked_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    answer = models.TextField(_("réponse"), blank=True, max_length=10000)
    answer_file = models.FileField(_("pièce jointe"), upload_to="private/adhesion/", blank=True)
    answered_at = models.DateTimeField(_("répondu le"), null=True, blank=True)

    class Meta:
        db_table = "directory_informationrequest"
        ordering = ["asked_at", "pk"]
        verbose_name = _("demande d'informations")
        verbose_name_plural = _("demandes d'informations")

    def __str__(self) -> str:
        return f"{self.application} · {self.asked_at:%d/%m/%Y}"
