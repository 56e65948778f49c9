"""Services that change the directory. Each runs in one transaction and keeps groups in sync.

Anything that changes a person's roles or association goes through here, so that the Django
groups (and with them forum permissions, page privacy and search audiences) follow at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from directory import access, groups, hooks
from directory.models import (
    Association,
    CourDAppel,
    Juridiction,
    Region,
    RoleAssignment,
    Theme,
    User,
    WorkingGroup,
)
from directory.roles import REGION_SCOPED, THEME_SCOPED, WORKING_GROUP_SCOPED, Role


class DirectoryError(ValueError):
    """A directory change that the rules refuse; the message is French and shown to the user."""


@dataclass(frozen=True)
class RoleSpec:
    """A role to hold, with its scope when the role needs one."""

    role: str
    region: Region | None = None
    theme: Theme | None = None
    working_group: WorkingGroup | None = None


def check_role_spec(spec: RoleSpec) -> None:
    if spec.role not in Role.values:
        raise DirectoryError(f"Rôle inconnu : {spec.role}")
    if spec.role in REGION_SCOPED and spec.region is None:
        raise DirectoryError("Ce rôle doit préciser sa région.")
    if spec.role in THEME_SCOPED and spec.theme is None:
        raise DirectoryError("Ce rôle doit préciser sa thématique.")
    if spec.role in WORKING_GROUP_SCOPED and spec.working_group is None:
        raise DirectoryError("Ce rôle doit préciser son groupe de travail.")


def sync_groups(user: User) -> set[str]:
    """Make the person's managed Django groups exactly those the access module derives.

    Groups that this project does not manage (created by hand in the admin) are left alone. Tells
    the other apps through the "access changed" hook (directory.hooks), once per unit of work.
    Returns the keys of the managed groups the person now belongs to.
    """
    with hooks.unit_of_work():
        access.forget(user)
        wanted = access.group_keys(user)
        wanted_ids = groups.group_ids_for_keys(wanted)
        current_managed = set(user.groups.filter(managed__isnull=False).values_list("pk", flat=True))
        if current_managed - wanted_ids:
            user.groups.remove(*(current_managed - wanted_ids))
        if wanted_ids - current_managed:
            user.groups.add(*(wanted_ids - current_managed))
        access.forget(user)
        hooks.access_changed(users=[user])
    return wanted


@hooks.unit_of_work()
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


@hooks.unit_of_work()
def grant_role(user: User, spec: RoleSpec) -> RoleAssignment:
    check_role_spec(spec)
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=spec.role, region=spec.region, theme=spec.theme, working_group=spec.working_group
    )
    sync_groups(user)
    return assignment


@hooks.unit_of_work()
def revoke_role(user: User, spec: RoleSpec) -> None:
    RoleAssignment.objects.filter(
        user=user, role=spec.role, region=spec.region, theme=spec.theme, working_group=spec.working_group
    ).delete()
    sync_groups(user)


@hooks.unit_of_work()
def move_person(user: User, association: Association | None) -> None:
    """Attach a person to another association (or none); their regional groups follow."""
    user.association = association
    user.save(update_fields=["association"])
    sync_groups(user)


@hooks.unit_of_work()
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


@hooks.unit_of_work()
def set_association_status(association: Association, status: str) -> None:
    """Admit, exclude or re-admit an association: its people's access follows at once."""
    if status not in Association.Status.values:
        raise DirectoryError("Statut d'association inconnu.")
    association.status = status
    association.save(update_fields=["status"])
    for person in association.people.all():
        sync_groups(person)


@hooks.unit_of_work()
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
