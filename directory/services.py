"""Services that change the directory. Each runs in one transaction and keeps groups in sync.

Anything that changes a person's roles or association goes through here, so that the Django
groups (and with them forum permissions, page privacy and search audiences) follow at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from directory import access
from directory.models import (
    Association,
    CourDAppel,
    Juridiction,
    Parrainage,
    Region,
    RoleAssignment,
    Theme,
    User,
    WorkingGroup,
)
from directory.roles import (
    REGION_GROUP_PREFIX,
    REGION_SCOPED,
    ROLE_GROUP_NAMES,
    THEME_SCOPED,
    WORKING_GROUP_GROUP_PREFIX,
    WORKING_GROUP_SCOPED,
    Role,
)


class DirectoryError(ValueError):
    """A directory change that the rules refuse; the message is French and shown to the user."""


@dataclass(frozen=True)
class RoleSpec:
    """A role to hold, with its scope when the role needs one."""

    role: str
    region: Region | None = None
    theme: Theme | None = None
    working_group: WorkingGroup | None = None


def _is_managed_group(name: str) -> bool:
    return name in ROLE_GROUP_NAMES.values() or name.startswith((REGION_GROUP_PREFIX, WORKING_GROUP_GROUP_PREFIX))


def check_role_spec(spec: RoleSpec) -> None:
    if spec.role not in Role.values:
        raise DirectoryError(f"Rôle inconnu : {spec.role}")
    if spec.role in REGION_SCOPED and spec.region is None:
        raise DirectoryError("Ce rôle doit préciser sa région.")
    if spec.role in THEME_SCOPED and spec.theme is None:
        raise DirectoryError("Ce rôle doit préciser sa thématique.")
    if spec.role in WORKING_GROUP_SCOPED and spec.working_group is None:
        raise DirectoryError("Ce rôle doit préciser son groupe de travail.")


@transaction.atomic
def sync_groups(user: User) -> set[str]:
    """Make the person's managed Django groups exactly those the access module derives.

    Groups that this project does not manage (created by hand in the admin) are left alone.
    Returns the names of the managed groups the person now belongs to.
    """
    access.forget(user)
    wanted = access.group_names(user)
    current = {g.name: g for g in user.groups.all()}
    to_remove = [g for name, g in current.items() if _is_managed_group(name) and name not in wanted]
    to_add_names = wanted - current.keys()
    if to_remove:
        user.groups.remove(*to_remove)
    if to_add_names:
        existing = {g.name: g for g in Group.objects.filter(name__in=to_add_names)}
        missing = [Group(name=name) for name in to_add_names if name not in existing]
        if missing:
            Group.objects.bulk_create(missing, ignore_conflicts=True)
            existing = {g.name: g for g in Group.objects.filter(name__in=to_add_names)}
        user.groups.add(*existing.values())
    access.forget(user)
    _access_changed(user)
    # The hook computed access on this instance: drop that cache too, callers may reload the person.
    access.forget(user)
    return wanted


def _access_changed(user: User) -> None:
    """Tell the apps that keep state derived from access that this person's access changed.

    An explicit call rather than a signal (STYLE.md, point 4): chat re-syncs the person's room
    memberships in this transaction and, after commit, makes their open websocket connections
    re-check the rooms they are in. The import is lazy because chat depends on directory.
    """
    from chat import services as chat_services

    chat_services.on_access_changed(user)


@transaction.atomic
def set_roles(user: User, specs: Iterable[RoleSpec]) -> None:
    """Replace all of a person's roles with `specs`, then resync their groups."""
    specs = list(dict.fromkeys(specs))
    for spec in specs:
        check_role_spec(spec)
    RoleAssignment.objects.filter(user=user).delete()
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(
                user=user, role=s.role, region=s.region, theme=s.theme, working_group=s.working_group
            )
            for s in specs
        ]
    )
    sync_groups(user)


@transaction.atomic
def grant_role(user: User, spec: RoleSpec) -> RoleAssignment:
    check_role_spec(spec)
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=spec.role, region=spec.region, theme=spec.theme, working_group=spec.working_group
    )
    sync_groups(user)
    return assignment


@transaction.atomic
def revoke_role(user: User, spec: RoleSpec) -> None:
    RoleAssignment.objects.filter(
        user=user, role=spec.role, region=spec.region, theme=spec.theme, working_group=spec.working_group
    ).delete()
    sync_groups(user)


@transaction.atomic
def move_person(user: User, association: Association | None) -> None:
    """Attach a person to another association (or none); their regional groups follow."""
    user.association = association
    user.save(update_fields=["association"])
    sync_groups(user)


@transaction.atomic
def create_person(
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str = "",
    association: Association | None = None,
    job_title: str = "",
    roles: Iterable[RoleSpec] = (),
    password: str | None = None,
    bio: str = "",
    phone: str = "",
    contact_visible_to_members: bool = True,
    expertise: Iterable[Theme] = (),
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a person with their roles; groups are synced before returning."""
    if User.objects.filter(username=username).exists():
        raise DirectoryError(f"L'identifiant « {username} » est déjà utilisé.")
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        association=association,
        job_title=job_title,
        bio=bio,
        phone=phone,
        contact_visible_to_members=contact_visible_to_members,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if expertise:
        user.expertise.set(expertise)
    set_roles(user, roles)
    return user


@transaction.atomic
def set_association_status(association: Association, status: str) -> None:
    """Admit, exclude or re-admit an association: its people's access follows at once."""
    if status not in Association.Status.values:
        raise DirectoryError("Statut d'association inconnu.")
    association.status = status
    association.save(update_fields=["status"])
    for person in association.people.all():
        sync_groups(person)


@transaction.atomic
def set_coverage(
    association: Association,
    juridictions: Iterable[Juridiction],
    extra_cours: Iterable[CourDAppel] = (),
) -> None:
    """Set the juridictions an association serves; the cours d'appel served follow from them."""
    juridictions = list(juridictions)
    association.juridictions.set(juridictions)
    cour_ids = {j.cour_id for j in juridictions} | {c.pk for c in extra_cours}
    association.cours.set(cour_ids)


@transaction.atomic
def start_parrainage(parrain: Association, filleul: Association, started_on=None) -> Parrainage:
    """Record an active sponsorship (issue 7 adds the proposal and acceptance steps)."""
    if parrain.pk == filleul.pk:
        raise DirectoryError("Une association ne peut pas être sa propre marraine.")
    if Parrainage.objects.filter(filleul=filleul, status=Parrainage.Status.ACTIVE).exclude(parrain=parrain).exists():
        raise DirectoryError("Cette association a déjà un parrain.")
    parrainage, _created = Parrainage.objects.update_or_create(
        parrain=parrain,
        filleul=filleul,
        defaults={"status": Parrainage.Status.ACTIVE, "started_on": started_on},
    )
    return parrainage
