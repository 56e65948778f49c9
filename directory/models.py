"""Who is who in the network: geography, themes, associations, people and their roles."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from directory.roles import Role
from directory.siret import siret_error


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
    """Model validator: 14 digits with the right key (the rule lives in directory.siret)."""
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


class LoginBlock(models.Model):
    """A login block or lock, kept so that federal staff see and lift it (docs/access.md, Login limits).

    The counters themselves live in the cache (core/ratelimit.py, directory/lockout.py); a row is written
    when a limit is reached: a (account, address) pair or an address refused for a while (`blocked_until`),
    or an account locked until its owner's e-mailed link or staff lift it (`blocked_until` empty). Lifting
    sets `lifted_at`; rows that ended long ago are deleted (LOGIN_BLOCK_KEEP_DAYS)."""

    class Kind(models.TextChoices):
        PAIR = "pair", _("compte + adresse")
        ADDRESS = "address", _("adresse")
        ACCOUNT = "account", _("compte verrouillé")

    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    # The name as typed, normalised (directory.lockout.normalise_account); empty for an address block.
    account = models.CharField(_("identifiant saisi"), max_length=150, blank=True, db_index=True)
    person = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                               verbose_name=_("personne"))
    address = models.CharField(_("adresse IP"), max_length=64, blank=True)
    failures = models.PositiveIntegerField(_("échecs comptés"), default=0)
    addresses = models.PositiveIntegerField(_("adresses différentes"), default=0)
    blocked_at = models.DateTimeField(_("bloqué le"))
    blocked_until = models.DateTimeField(_("bloqué jusqu'au"), null=True, blank=True)
    unlock_sent_at = models.DateTimeField(_("lien de déblocage envoyé le"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("levé le"), null=True, blank=True)
    lifted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("levé par"))

    class Meta:
        ordering = ["-blocked_at"]
        verbose_name = _("blocage de connexion")
        verbose_name_plural = _("blocages de connexion")
        indexes = [models.Index(fields=["kind", "account", "lifted_at"], name="directory_loginblock_active")]
        constraints = [models.UniqueConstraint(fields=["account"], condition=Q(kind="account", lifted_at=None),
                                               name="directory_loginblock_one_lock")]

    def __str__(self) -> str:
        return " · ".join(part for part in (self.get_kind_display(), self.account, self.address) if part)
