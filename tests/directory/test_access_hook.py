"""The directory's one "access changed" hook: every app hears a change once, and access is keyed by
stable ids, so renaming a region, a working group or a theme in /admin/ changes nobody's access."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from machina.apps.forum_permission.handler import PermissionHandler

from chat.models import ChatMembership, ChatRoom
from directory import access, hooks, services
from directory.access import CmsAudience
from directory.models import Association, ManagedGroup, Region, Theme, WorkingGroup
from directory.roles import Role, region_group_key, working_group_group_key
from forum.models import ForumSpace
from search import indexing
from tests.factories import RoleSpec, make_person, region
from tests.factories.cms import add_event
from tests.search.helpers import add_topic, client_for, search_json, titles

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(working_group):
    """The site as a deploy leaves it (`setup_site`): forums, rooms, CMS structure, groups."""
    call_command("setup_site")


@pytest.fixture
def admin_client(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    return client


@pytest.fixture
def recorded(monkeypatch):
    """Every change the handlers hear, and every replacement of the access version."""
    changes, versions = [], []
    monkeypatch.setattr(hooks, "_handlers", [*hooks._handlers, changes.append])
    replace = access._replace_version

    def counted() -> None:
        versions.append(1)
        replace()

    monkeypatch.setattr(access, "_replace_version", counted)
    return changes, versions


def test_each_app_answers_the_hook():
    names = {f"{handler.__module__}.{handler.__name__}" for handler in hooks.handlers()}
    assert {
        "directory.groups.on_access_changed", "forum.services.on_access_changed",
        "chat.memberships.on_access_changed", "cms.setup.on_access_changed", "search.audiences.on_access_changed",
    } <= names
    # The directory's own handler runs first: the others grant rights to the groups it keeps.
    assert hooks.handlers()[0].__module__ == "directory.groups"


def test_one_role_change_is_heard_once_and_replaces_the_access_version_once(director, recorded):
    changes, versions = recorded
    services.set_roles(director, [RoleSpec(Role.DIRECTOR), RoleSpec(Role.PRESIDENT), RoleSpec(Role.DICA,
                                                                                              region=region("centre-est"))])
    assert len(changes) == 1
    assert changes[0].user_ids == {director.pk}
    assert len(versions) == 1
    assert "role:president" in access.audience_keys(director)


def test_excluding_an_association_is_one_change_for_all_its_people(director, president, member, association,
                                                                   recorded):
    changes, versions = recorded
    services.set_association_status(association, Association.Status.FORMER)
    assert [change.user_ids for change in changes] == [{director.pk, president.pk, member.pk}]
    assert len(versions) == 1
    assert not ChatMembership.objects.filter(user__in=[director, president, member]).exists()


def test_a_change_outside_a_unit_of_work_is_heard_after_commit(django_capture_on_commit_callbacks, recorded):
    changes, _versions = recorded
    with django_capture_on_commit_callbacks(execute=True):
        Region.objects.create(name="Outre-mer Pacifique", slug="outre-mer-pacifique")
        Theme.objects.create(name="Justice restaurative", slug="justice-restaurative")
        assert changes == []
    assert len(changes) == 1 and changes[0].scopes
    assert ForumSpace.objects.filter(key="region:outre-mer-pacifique").exists()
    assert ForumSpace.objects.filter(key="theme:justice-restaurative").exists()


def test_groups_are_found_by_key_whatever_their_name(director, site):
    sud_ouest = region("sud-ouest")
    Group.objects.filter(managed__key=region_group_key(sud_ouest.pk)).update(name="Un nom changé à la main")
    forum = ForumSpace.objects.get(key="region:sud-ouest").forum
    assert PermissionHandler().can_read_forum(forum, director)
    call_command("setup_site")
    assert Group.objects.get(managed__key=region_group_key(sud_ouest.pk)).name == "Région : Sud-Ouest"


# --- Through the admin pages --------------------------------------------------------------------


def _rename(admin_client, model, obj, **changes):
    url = reverse(f"admin:directory_{model._meta.model_name}_change", args=[obj.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(changes)
    data = {key: value for key, value in data.items() if value is not None}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    obj.refresh_from_db()
    return obj


def test_renaming_a_region_in_the_admin_keeps_everyones_access(admin_client, site, director, dica, member):
    sud_ouest = region("sud-ouest")
    forum = ForumSpace.objects.get(key="region:sud-ouest").forum
    room = ChatRoom.objects.get(key=f"region:{sud_ouest.pk}")
    add_topic(forum, director, "Réunion régionale de printemps", "Ordre du jour : mandragore.")
    event = add_event("Réunion régionale Sud-Ouest", audience=CmsAudience.REGION, region=sud_ouest)
    indexing.rebuild()

    _rename(admin_client, Region, sud_ouest, name="Grand Sud-Ouest")

    assert sud_ouest.slug == "sud-ouest"
    forum.refresh_from_db()
    room.refresh_from_db()
    assert forum.name == "Région Grand Sud-Ouest"
    assert room.name == "Région Grand Sud-Ouest"
    assert Group.objects.get(managed__key=region_group_key(sud_ouest.pk)).name == "Région : Grand Sud-Ouest"
    forum_url = reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk})
    for person in (director, member):
        client = client_for(person)
        assert client.get(forum_url).status_code == 200, person
        assert client.get(room.get_absolute_url()).status_code == 200, person
        assert "M'inscrire" in client.get(event.url).content.decode().replace("&#x27;", "'"), person
        assert "Réunion régionale de printemps" in titles(search_json(client, "mandragore"))
    outsider = client_for(dica)  # DICA of Nord-Est, association in Nord-Est
    assert outsider.get(forum_url).status_code in (403, 404)
    assert outsider.get(room.get_absolute_url()).status_code in (403, 404)
    assert "M'inscrire" not in outsider.get(event.url).content.decode().replace("&#x27;", "'")
    assert search_json(outsider, "mandragore")["total"] == 0


def test_renaming_a_working_group_in_the_admin_keeps_its_members_access(admin_client, site, working_group,
                                                                           association, member):
    wg_member = make_person("membre.gt", association=association,
                            roles=[RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=working_group)])
    forum = ForumSpace.objects.get(key="wg:ethique").forum
    room = ChatRoom.objects.get(key="wg:ethique")
    add_topic(forum, wg_member, "Charte de déontologie", "Premier jet : asphodèle.")
    indexing.rebuild()

    _rename(admin_client, WorkingGroup, working_group, name="Éthique et déontologie")

    forum.refresh_from_db()
    room.refresh_from_db()
    assert forum.name == "Éthique et déontologie"
    assert room.name == "Groupe de travail Éthique et déontologie"
    forum_url = reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk})
    inside, outside = client_for(wg_member), client_for(member)
    assert inside.get(forum_url).status_code == 200
    assert inside.get(room.get_absolute_url()).status_code == 200
    assert "Charte de déontologie" in titles(search_json(inside, "asphodèle"))
    assert outside.get(forum_url).status_code in (403, 404)
    assert outside.get(room.get_absolute_url()).status_code in (403, 404)
    assert search_json(outside, "asphodèle")["total"] == 0


def test_renaming_a_theme_in_the_admin_renames_its_forum_and_room(admin_client, site, director):
    theme = Theme.objects.get(slug="financement")
    services.create_person(username="experte", first_name="Experte", last_name="Financement",
                           association=director.association, roles=[RoleSpec(Role.REFERENT, theme=theme)])
    expert = access_user("experte")
    _rename(admin_client, Theme, theme, name="Financement des associations")
    space = ForumSpace.objects.select_related("forum").get(key="theme:financement")
    room = ChatRoom.objects.get(key="theme:financement")
    assert space.forum.name == "Financement des associations"
    assert room.name == "Thématique : Financement des associations"
    forum_url = reverse("forum:forum", kwargs={"slug": space.forum.slug, "pk": space.forum.pk})
    assert client_for(director).get(forum_url).status_code == 200
    assert client_for(expert).get(room.get_absolute_url()).status_code == 200


def test_a_new_working_group_gets_its_forum_room_and_group_at_once(admin_client, site, association):
    response = admin_client.post(reverse("admin:directory_workinggroup_add"), {
        "name": "Justice des enfants", "slug": "justice-des-enfants", "description": "Le groupe des mineurs.",
        "theme": "",
    })
    assert response.status_code == 302
    group = WorkingGroup.objects.get(slug="justice-des-enfants")
    space = ForumSpace.objects.select_related("forum").get(key="wg:justice-des-enfants")
    assert ChatRoom.objects.filter(key="wg:justice-des-enfants").exists()
    assert ManagedGroup.objects.filter(key=working_group_group_key(group.pk)).exists()
    newcomer = make_person("nouveau.gt", association=association,
                           roles=[RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=group)])
    forum_url = reverse("forum:forum", kwargs={"slug": space.forum.slug, "pk": space.forum.pk})
    assert client_for(newcomer).get(forum_url).status_code == 200
    room = ChatRoom.objects.get(key="wg:justice-des-enfants")
    assert client_for(newcomer).get(room.get_absolute_url()).status_code == 200
    space_page = client_for(newcomer).get("/ressources/groupes-de-travail/justice-des-enfants/")
    assert space_page.status_code == 200
    assert "Le groupe des mineurs." in space_page.content.decode()


def test_the_slug_of_a_region_cannot_be_changed_once_created(admin_client):
    sud_ouest = region("sud-ouest")
    renamed = _rename(admin_client, Region, sud_ouest, name="Sud-Ouest", slug="autre-chose")
    assert renamed.slug == "sud-ouest"


def access_user(username):
    from directory.models import User

    return User.objects.get(username=username)
