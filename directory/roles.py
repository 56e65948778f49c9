"""The federation's roles (docs/architecture.md, The network's words) and the Django groups they map to.

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

# The labels of the role groups. Groups are found by their keys (below, directory.groups), never by
# these names: a label can be changed in /admin/ without changing anyone's access.
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
    """The label of a region's group (its key is `region_group_key`)."""
    return f"{REGION_GROUP_PREFIX}{region_name}"


def working_group_group_name(working_group_name: str) -> str:
    """The label of a working group's group (its key is `working_group_group_key`)."""
    return f"{WORKING_GROUP_GROUP_PREFIX}{working_group_name}"


# Stable keys of the groups the directory manages (directory.models.ManagedGroup): roles by their
# code, regions and working groups by their primary key. Access rules speak only in these keys.


def role_group_key(role: str) -> str:
    return f"role:{role}"


def region_group_key(region_id: int) -> str:
    return f"region:{region_id}"


def working_group_group_key(working_group_id: int) -> str:
    return f"wg:{working_group_id}"


MEMBERS_GROUP_KEY = role_group_key(Role.MEMBER)
STAFF_GROUP_KEY = role_group_key(Role.FEDERAL_STAFF)
