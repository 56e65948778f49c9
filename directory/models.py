"""Who is who in the network: geography, themes, associations, people and their roles."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from directory.roles import Role


class Region(models.Model):
    """An interregion of the federation: a set of cours d'appel animated by DICA and correspondents."""

    name = models.CharField(_("nom"), max_length=100, unique=True)
    slug = models.SlugField(_("identifiant"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("région")
        verbose_name_plural = _("régions")

    def __str__(self) -> str:
        return self.name


class CourDAppel(models.Model):
    name = models.CharField(_("nom"), max_length=100, unique=True)
    slug = models.SlugField(_("identifiant"), max_length=100, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="cours", verbose_name=_("région"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("cour d'appel")
        verbose_name_plural = _("cours d'appel")

    def __str__(self) -> str:
        return self.name


class Juridiction(models.Model):
    """A tribunal judiciaire, inside one cour d'appel."""

    name = models.CharField(_("nom"), max_length=120)
    slug = models.SlugField(_("identifiant"), max_length=120, unique=True)
    cour = models.ForeignKey(
        CourDAppel, on_delete=models.PROTECT, related_name="juridictions", verbose_name=_("cour d'appel")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("juridiction")
        verbose_name_plural = _("juridictions")

    def __str__(self) -> str:
        return self.name


class Theme(models.Model):
    """A theme of the network's work, or a measure (mesure) that associations carry out."""

    class Kind(models.TextChoices):
        THEME = "theme", _("Thématique")
        MEASURE = "measure", _("Mesure")

    name = models.CharField(_("nom"), max_length=150, unique=True)
    slug = models.SlugField(_("identifiant"), max_length=150, unique=True)
    kind = models.CharField(_("nature"), max_length=10, choices=Kind.choices, default=Kind.THEME)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("thématique ou mesure")
        verbose_name_plural = _("thématiques et mesures")

    def __str__(self) -> str:
        return self.name


class WorkingGroup(models.Model):
    """A working group of a national commission (éthique…): it works in private."""

    name = models.CharField(_("nom"), max_length=150, unique=True)
    slug = models.SlugField(_("identifiant"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    theme = models.ForeignKey(
        Theme, on_delete=models.SET_NULL, null=True, blank=True, related_name="working_groups",
        verbose_name=_("thématique"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("groupe de travail")
        verbose_name_plural = _("groupes de travail")

    def __str__(self) -> str:
        return self.name


class SizeBand(models.TextChoices):
    SMALL = "small", _("Moins de 10 salarié·es")
    MEDIUM = "medium", _("10 à 49 salarié·es")
    LARGE = "large", _("50 à 149 salarié·es")
    XLARGE = "xlarge", _("150 salarié·es et plus")

    @classmethod
    def for_staff_count(cls, staff_count: int) -> "SizeBand":
        if staff_count < 10:
            return cls.SMALL
        if staff_count < 50:
            return cls.MEDIUM
        if staff_count < 150:
            return cls.LARGE
        return cls.XLARGE


def validate_siret(value: str) -> None:
    """Model validator: 14 digits with the right key (the rule lives in directory.membership)."""
    from django.core.exceptions import ValidationError

    from directory.membership import siret_error

    error = siret_error(value) if value else None
    if error:
        raise ValidationError(error, code="invalid_siret")


class Association(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        MEMBER = "member", _("Adhérente")
        FORMER = "former", _("Ancienne adhérente")

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant"), max_length=200, unique=True)
    address = models.CharField(_("adresse"), max_length=250, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("ville"), max_length=120)
    departement = models.CharField(_("département"), max_length=3, help_text=_("Numéro, par exemple 33 ou 2A."))
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="associations", verbose_name=_("région")
    )
    juridictions = models.ManyToManyField(
        Juridiction, blank=True, related_name="associations", verbose_name=_("juridictions couvertes")
    )
    cours = models.ManyToManyField(
        CourDAppel, blank=True, related_name="associations", verbose_name=_("cours d'appel couvertes")
    )
    staff_count = models.PositiveIntegerField(_("nombre de salarié·es"), default=0)
    size_band = models.CharField(
        _("taille"), max_length=10, choices=SizeBand.choices, default=SizeBand.SMALL, editable=False,
        db_index=True,
    )
    themes = models.ManyToManyField(
        Theme, blank=True, related_name="associations", verbose_name=_("thématiques et mesures")
    )
    admitted_on = models.DateField(_("date d'adhésion"), null=True, blank=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.CANDIDATE, db_index=True
    )
    website = models.URLField(_("site internet"), blank=True)
    public_email = models.EmailField(_("courriel de contact"), blank=True)
    public_phone = models.CharField(_("téléphone de contact"), max_length=30, blank=True)
    description = models.TextField(_("présentation"), blank=True)
    willing_to_sponsor = models.BooleanField(_("volontaire pour parrainer"), default=False)
    # Issue 14: the network import finds an association again by its SIRET.
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, default="",
                             validators=[validate_siret],
                             help_text=_("14 chiffres ; sert à retrouver l'association lors d'un import du réseau."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("association")
        verbose_name_plural = _("associations")
        constraints = [
            models.UniqueConstraint(fields=["siret"], condition=~Q(siret=""), name="association_siret_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # The size band is derived from the staff count so that filters can use an index.
        self.size_band = SizeBand.for_staff_count(self.staff_count)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("directory:association-detail", kwargs={"slug": self.slug})


class Parrainage(models.Model):
    """A sponsorship: an established member association (parrain) accompanies a new one (filleul).

    The membership commission picks a parrain among the platform's proposals (score and reasons
    kept); the parrain's director accepts (→ active) or declines (→ declined, the next proposal
    comes); it ends when the onboarding is over.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposé")
        ACTIVE = "active", _("En cours")
        DECLINED = "declined", _("Décliné")
        ENDED = "ended", _("Terminé")

    parrain = models.ForeignKey(
        Association, on_delete=models.CASCADE, related_name="parrainages_given", verbose_name=_("parrain")
    )
    filleul = models.ForeignKey(
        Association, on_delete=models.CASCADE, related_name="parrainages_received", verbose_name=_("filleul")
    )
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    started_on = models.DateField(_("début"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    # The proposal as the commission saw it: matching score and its reasons in words.
    score = models.PositiveIntegerField(_("score de proximité"), null=True, blank=True)
    reasons = models.JSONField(_("raisons"), default=list, blank=True)
    proposed_by = models.ForeignKey(
        "directory.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("proposé par"),
    )
    responded_by = models.ForeignKey(
        "directory.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("réponse de"),
    )
    responded_at = models.DateTimeField(_("répondu le"), null=True, blank=True)
    decline_reason = models.TextField(_("motif du refus"), blank=True, max_length=2000)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("parrainage")
        verbose_name_plural = _("parrainages")
        constraints = [
            models.UniqueConstraint(
                fields=["filleul"], condition=Q(status="active"), name="one_active_parrain_per_filleul"
            ),
            models.UniqueConstraint(
                fields=["filleul"], condition=Q(status="proposed"), name="one_open_proposal_per_filleul"
            ),
            models.CheckConstraint(condition=~Q(parrain=models.F("filleul")), name="parrain_is_not_filleul"),
        ]

    def __str__(self) -> str:
        return f"{self.parrain} → {self.filleul}"


class OnboardingStep(models.Model):
    """One step of a new association's onboarding checklist, ticked by either side, with its date."""

    class Step(models.TextChoices):
        WELCOME_MEETING = "welcome_meeting", _("Rencontre de bienvenue")
        FORUM_INTRODUCTION = "forum_introduction", _("Présentation sur le forum « Accueil des nouveaux adhérents »")
        KEY_GUIDES = "key_guides", _("Guides clés lus")
        FIRST_REGIONAL_MEETING = "first_regional_meeting", _("Première réunion régionale")

    parrainage = models.ForeignKey(Parrainage, on_delete=models.CASCADE, related_name="steps",
                                   verbose_name=_("parrainage"))
    step = models.CharField(_("étape"), max_length=30, choices=Step.choices)
    done_on = models.DateField(_("fait le"))
    done_by = models.ForeignKey("directory.User", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("coché par"))
    recorded_at = models.DateTimeField(_("enregistré le"), auto_now=True)

    class Meta:
        ordering = ["parrainage", "step"]
        verbose_name = _("étape d'accueil")
        verbose_name_plural = _("étapes d'accueil")
        constraints = [models.UniqueConstraint(fields=["parrainage", "step"], name="onboarding_step_once")]

    def __str__(self) -> str:
        return f"{self.parrainage} · {self.get_step_display()}"


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
    decided_by = models.ForeignKey("directory.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("décision enregistrée par"))
    decision_reason = models.TextField(_("motif de la décision"), blank=True, max_length=5000)
    association = models.OneToOneField(Association, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="application", verbose_name=_("association créée"))

    class Meta:
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
    actor = models.ForeignKey("directory.User", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("par"))
    message = models.TextField(_("texte"), blank=True, max_length=5000)
    created_at = models.DateTimeField(_("le"), auto_now_add=True, db_index=True)

    class Meta:
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
    asked_by = models.ForeignKey("directory.User", on_delete=models.SET_NULL, null=True, related_name="+",
                                 verbose_name=_("demandé par"))
    asked_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    answer = models.TextField(_("réponse"), blank=True, max_length=10000)
    answer_file = models.FileField(_("pièce jointe"), upload_to="private/adhesion/", blank=True)
    answered_at = models.DateTimeField(_("répondu le"), null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "pk"]
        verbose_name = _("demande d'informations")
        verbose_name_plural = _("demandes d'informations")

    def __str__(self) -> str:
        return f"{self.application} · {self.asked_at:%d/%m/%Y}"


class NotificationFrequency(models.TextChoices):
    IMMEDIATE = "immediate", _("Immédiatement")
    DAILY = "daily", _("Un résumé quotidien")
    NEVER = "never", _("Jamais (seulement sur le site)")


class User(AbstractUser):
    """A person of the network. Roles live in RoleAssignment; groups are derived from them."""

    email = models.EmailField(_("adresse électronique"), blank=True)
    association = models.ForeignKey(
        Association, on_delete=models.SET_NULL, null=True, blank=True, related_name="people",
        verbose_name=_("association"),
    )
    job_title = models.CharField(_("fonction"), max_length=150, blank=True)
    bio = models.TextField(_("présentation courte"), max_length=1000, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    contact_visible_to_members = models.BooleanField(
        _("coordonnées visibles des membres"), default=True,
        help_text=_(
            "Si cette case est décochée, seuls l'équipe fédérale et vous-même voyez votre téléphone et votre "
            "courriel."
        ),
    )
    expertise = models.ManyToManyField(
        Theme, blank=True, related_name="experts", verbose_name=_("thématiques d'expertise")
    )
    notification_frequency = models.CharField(
        _("notifications par courriel"), max_length=10, choices=NotificationFrequency.choices,
        default=NotificationFrequency.IMMEDIATE,
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("personne")
        verbose_name_plural = _("personnes")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_absolute_url(self) -> str:
        return reverse("directory:person-detail", kwargs={"username": self.username})


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("rôle"), max_length=30, choices=Role.choices)
    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, null=True, blank=True, related_name="role_assignments",
        verbose_name=_("région"),
    )
    theme = models.ForeignKey(
        Theme, on_delete=models.CASCADE, null=True, blank=True, related_name="role_assignments",
        verbose_name=_("thématique"),
    )
    working_group = models.ForeignKey(
        WorkingGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="role_assignments",
        verbose_name=_("groupe de travail"),
    )

    class Meta:
        verbose_name = _("rôle attribué")
        verbose_name_plural = _("rôles attribués")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "region", "theme", "working_group"],
                name="unique_role_assignment",
            ),
        ]

    def __str__(self) -> str:
        scope = self.region or self.theme or self.working_group
        label = self.get_role_display()
        return f"{label} ({scope})" if scope else str(label)


class ManagedGroup(models.Model):
    """A Django group that the directory derives from roles, found by a stable key, never by its name.

    Keys: `role:<role>` (directors, presidents…), `region:<region id>`, `wg:<working group id>`. Forum
    permissions, page and collection restrictions and search audiences name these groups through their
    keys (directory.access), so renaming a region, a working group or the group itself in /admin/ changes
    nothing of who sees what; the group's name is only its label, kept in step by directory.groups.
    """

    key = models.CharField(_("clé"), max_length=100, unique=True)
    group = models.OneToOneField("auth.Group", on_delete=models.CASCADE, related_name="managed",
                                 verbose_name=_("groupe"))

    class Meta:
        ordering = ["key"]
        verbose_name = _("groupe géré par l'annuaire")
        verbose_name_plural = _("groupes gérés par l'annuaire")

    def __str__(self) -> str:
        return self.key


# --- Network import and invitations (issue 14) -----------------------------------------------------


class Invitation(models.Model):
    """The invitation of a person to choose their password: when, by whom, how many times, accepted when.

    One row per person; a resend updates `sent_at` and counts in `times_sent`. The link itself is a
    signed token (directory.invitations) that stops working once a password is set.
    """

    person = models.OneToOneField(User, on_delete=models.CASCADE, related_name="invitation",
                                  verbose_name=_("personne"))
    first_sent_at = models.DateTimeField(_("première invitation le"))
    sent_at = models.DateTimeField(_("dernière invitation le"), db_index=True)
    sent_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("envoyée par"))
    times_sent = models.PositiveIntegerField(_("nombre d'envois"), default=0)
    accepted_at = models.DateTimeField(_("activée le"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return str(self.person)
