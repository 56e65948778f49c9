"""The Django groups the directory manages, found by their stable keys (directory.roles).

A managed group is a `ManagedGroup` row tying a key (`role:director`, `region:3`, `wg:5`) to an
`auth.Group`. The group's name is only a label for people (Wagtail's privacy dialog, machina's
permission screens, /admin/): it follows the region's or working group's name when that changes,
but no access answer ever reads it. Forum permissions, page and collection restrictions and
search audiences are granted to the groups these functions return.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction

from directory.models import ManagedGroup, Region, WorkingGroup
from directory.roles import (
    ROLE_GROUP_NAMES,
    Role,
    region_group_key,
    region_group_name,
    role_group_key,
    working_group_group_key,
    working_group_group_name,
)


def _scope(key: str) -> tuple[str, str]:
    prefix, _sep, rest = key.partition(":")
    if not rest or prefix not in {"role", "region", "wg"}:
        raise ValueError(f"Unknown group key: {key}")
    return prefix, rest


def labels(keys: Iterable[str]) -> dict[str, str]:
    """The label each key's group should carry now (keys whose region or working group is gone are left out)."""
    keys = set(keys)
    by_kind: dict[str, set[str]] = {"role": set(), "region": set(), "wg": set()}
    for key in keys:
        kind, rest = _scope(key)
        by_kind[kind].add(rest)
    result = {role_group_key(role): ROLE_GROUP_NAMES[role] for role in by_kind["role"] if role in ROLE_GROUP_NAMES}
    if by_kind["region"]:
        ids = [int(pk) for pk in by_kind["region"] if pk.isdigit()]
        for pk, name in Region.objects.filter(pk__in=ids).values_list("pk", "name"):
            result[region_group_key(pk)] = region_group_name(name)
    if by_kind["wg"]:
        ids = [int(pk) for pk in by_kind["wg"] if pk.isdigit()]
        for pk, name in WorkingGroup.objects.filter(pk__in=ids).values_list("pk", "name"):
            result[working_group_group_key(pk)] = working_group_group_name(name)
    return result


def _free_name(label: str, taken: set[str]) -> str:
    """`label`, or `label (2)`… when a hand-made group already has that name."""
    name, n = label[:150], 2
    while name in taken:
        suffix = f" ({n})"
        name, n = label[: 150 - len(suffix)] + suffix, n + 1
    return name


@transaction.atomic
def groups_for_keys(keys: Iterable[str]) -> dict[str, Group]:
    """The managed group of each key, created when missing (a key whose scope is gone is skipped)."""
    keys = set(keys)
    if not keys:
        return {}
    found = {m.key: m.group for m in ManagedGroup.objects.filter(key__in=keys).select_related("group")}
    missing = keys - found.keys()
    if missing:
        wanted = labels(missing)
        taken = set(Group.objects.filter(name__in=[label[:150] for label in wanted.values()])
                    .values_list("name", flat=True))
        for key, label in sorted(wanted.items()):
            name = _free_name(label, taken)
            taken.add(name)
            group = Group.objects.create(name=name)
            ManagedGroup.objects.create(key=key, group=group)
            found[key] = group
    return found


def group_ids_for_keys(keys: Iterable[str]) -> set[int]:
    return {group.pk for group in groups_for_keys(keys).values()}


def all_keys() -> set[str]:
    """Every key the directory manages today: each role, each region, each working group."""
    keys = {role_group_key(role) for role in Role.values}
    keys.update(region_group_key(pk) for pk in Region.objects.values_list("pk", flat=True))
    keys.update(working_group_group_key(pk) for pk in WorkingGroup.objects.values_list("pk", flat=True))
    return keys


@transaction.atomic
def ensure_groups() -> dict[str, int]:
    """Create the missing managed groups, give each its current label, drop those whose scope is gone.

    Idempotent; run by `setup_site` and whenever a region or working group is created, renamed or
    deleted. A dropped group takes its forum permissions and page restrictions with it, so the forum
    of a deleted working group stays readable only by federal staff.
    """
    keys = all_keys()
    created = len(keys - set(ManagedGroup.objects.filter(key__in=keys).values_list("key", flat=True)))
    groups_for_keys(keys)
    stale = ManagedGroup.objects.exclude(key__in=keys)
    removed = stale.count()
    if removed:
        Group.objects.filter(managed__in=stale).delete()
    renamed = 0
    wanted = labels(keys)
    managed = list(ManagedGroup.objects.select_related("group"))
    taken = {m.group.name for m in managed} | set(
        Group.objects.filter(managed__isnull=True, name__in=[label[:150] for label in wanted.values()])
        .values_list("name", flat=True))
    for entry in managed:
        label = wanted.get(entry.key)
        if label is None or entry.group.name == label[:150]:
            continue
        taken.discard(entry.group.name)
        entry.group.name = _free_name(label, taken)
        taken.add(entry.group.name)
        entry.group.save(update_fields=["name"])
        renamed += 1
    return {"created": created, "renamed": renamed, "removed": removed}


def managed_group_ids() -> set[int]:
    return set(ManagedGroup.objects.values_list("group_id", flat=True))


def keys_of_groups(group_ids: Iterable[int]) -> dict[int, str]:
    """Group id → key, for the managed ones among `group_ids`."""
    return dict(ManagedGroup.objects.filter(group_id__in=list(group_ids)).values_list("group_id", "key"))


def on_access_changed(change) -> None:
    """The directory's own handler (registered first): groups follow the regions and working groups."""
    if change.scopes or change.everyone:
        ensure_groups()
