"""The federation's roles (DOMAIN.md) and the Django groups they map to.

A role is held by a person through a RoleAssignment, possibly scoped to a region (DICA,
correspondents), a theme (thematic referents) or a working group. Groups are derived from roles
and from the person's association by `directory.services.sync_groups`; nobody edits them by hand.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DIRECTOR = "director", _("Directeur ou directrice")
    PRESIDENT = "president", _("Président·e")
    BOARD_ADMIN = "board_admin", _("Administrateur·rice de la fédération")
    DICA = "dica", _("DICA (délégué·e inter-cours d'appel)")
    CORRESPONDENT = "correspondent", _("Correspondant·e interrégional·e")
    REFERENT = "referent", _("Référent·e thématique")
    FEDERAL_STAFF = "federal_staff", _("Équipe fédérale")
    MEMBERSHIP_COMMISSION = "membership_commission", _("Commission d'adhésion")
    WORKING_GROUP_MEMBER = "working_group_member", _("Membre d'un groupe de travail")
    MEMBER = "member", _("Intervenant·e / membre")


# Roles whose assignment names a region, a theme or a working group.
REGION_SCOPED = {Role.DICA, Role.CORRESPONDENT}
THEME_SCOPED = {Role.REFERENT}
WORKING_GROUP_SCOPED = {Role.WORKING_GROUP_MEMBER}

# Group names are stable keys: forum permissions, page privacy and search audiences refer to them.
ROLE_GROUP_NAMES: dict[str, str] = {
    Role.DIRECTOR: "Directeurs et directrices",
    Role.PRESIDENT: "Président·es",
    Role.BOARD_ADMIN: "Conseil d'administration",
    Role.DICA: "DICA",
    Role.CORRESPONDENT: "Correspondant·es interrégionaux",
    Role.REFERENT: "Référent·es thématiques",
    Role.FEDERAL_STAFF: "Équipe fédérale",
    Role.MEMBERSHIP_COMMISSION: "Commission d'adhésion",
    Role.WORKING_GROUP_MEMBER: "Groupes de travail",
    Role.MEMBER: "Membres",
}
MEMBERS_GROUP_NAME = ROLE_GROUP_NAMES[Role.MEMBER]
REGION_GROUP_PREFIX = "Région : "
WORKING_GROUP_GROUP_PREFIX = "Groupe de travail : "


def region_group_name(region_name: str) -> str:
    return f"{REGION_GROUP_PREFIX}{region_name}"


def working_group_group_name(working_group_name: str) -> str:
    return f"{WORKING_GROUP_GROUP_PREFIX}{working_group_name}"
