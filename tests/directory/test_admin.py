"""Django admin screens of the directory: groups follow roles, and are never edited by hand."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from directory.models import Association, RoleAssignment
from directory.roles import MEMBERS_GROUP_NAME, ROLE_GROUP_NAMES, Role, region_group_name
from tests.factories import AssociationFactory, make_person, region


@pytest.fixture
def admin_client(client, db):
    superuser = make_person("admin.test", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


def group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def change_form_data(person, roles: list[dict], *, initial: list[RoleAssignment] = ()) -> dict:
    """POST data of the person's admin change form with a RoleAssignment inline formset."""
    data = {
        "username": person.username,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "contact_visible_to_members": "on",
        "association": person.association_id or "",
        "job_title": person.job_title,
        "bio": person.bio,
        "is_active": "on",
        "role_assignments-TOTAL_FORMS": str(len(initial) + len(roles)),
        "role_assignments-INITIAL_FORMS": str(len(initial)),
        "role_assignments-MIN_NUM_FORMS": "0",
        "role_assignments-MAX_NUM_FORMS": "1000",
    }
    rows = [
        {"id": a.pk, "user": person.pk, "role": a.role, "region": a.region_id or "", "theme": a.theme_id or "",
         "working_group": a.working_group_id or ""}
        for a in initial
    ] + [{"id": "", "user": person.pk, "region": "", "theme": "", "working_group": "", **r} for r in roles]
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"role_assignments-{index}-{key}"] = value
    return data


def test_admin_lists_the_directory_models(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    for model in ["region", "courdappel", "juridiction", "theme", "workinggroup", "association", "user"]:
        assert reverse(f"admin:directory_{model}_changelist") in response.content.decode()
        assert admin_client.get(reverse(f"admin:directory_{model}_changelist")).status_code == 200, model


def test_person_change_form_shows_groups_read_only(admin_client, member):
    response = admin_client.get(reverse("admin:directory_user_change", args=[member.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="groups"' not in content
    assert MEMBERS_GROUP_NAME in content
    assert 'name="role_assignments-TOTAL_FORMS"' in content


def test_adding_a_role_in_the_admin_syncs_groups(admin_client, member):
    assert ROLE_GROUP_NAMES[Role.PRESIDENT] not in group_names(member)
    initial = list(member.role_assignments.all())
    data = change_form_data(member, [{"role": Role.PRESIDENT}], initial=initial)
    response = admin_client.post(reverse("admin:directory_user_change", args=[member.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert ROLE_GROUP_NAMES[Role.PRESIDENT] in group_names(member)
    assert MEMBERS_GROUP_NAME in group_names(member)


def test_removing_a_role_in_the_admin_syncs_groups(admin_client, director):
    assignment = director.role_assignments.get(role=Role.DIRECTOR)
    data = change_form_data(director, [], initial=[assignment])
    data["role_assignments-0-DELETE"] = "on"
    response = admin_client.post(reverse("admin:directory_user_change", args=[director.pk]), data)
    assert response.status_code == 302
    assert ROLE_GROUP_NAMES[Role.DIRECTOR] not in group_names(director)


def test_a_scoped_role_with_its_region_adds_the_regional_group(admin_client, member):
    nord_est = region("nord-est")
    data = change_form_data(member, [{"role": Role.DICA, "region": nord_est.pk}],
                            initial=list(member.role_assignments.all()))
    response = admin_client.post(reverse("admin:directory_user_change", args=[member.pk]), data)
    assert response.status_code == 302
    assert {ROLE_GROUP_NAMES[Role.DICA], region_group_name(nord_est.name)} <= group_names(member)


def test_a_scoped_role_without_its_scope_is_refused(admin_client, member):
    data = change_form_data(member, [{"role": Role.DICA}], initial=list(member.role_assignments.all()))
    response = admin_client.post(reverse("admin:directory_user_change", args=[member.pk]), data)
    assert response.status_code == 200
    assert "Ce rôle doit préciser sa région." in response.content.decode()
    assert ROLE_GROUP_NAMES[Role.DICA] not in group_names(member)


def test_moving_a_person_to_another_association_in_the_admin_syncs_regional_groups(admin_client, member):
    lille = AssociationFactory(name="Association du Nord", region=region("nord-est"))
    data = change_form_data(member, [], initial=list(member.role_assignments.all()))
    data["association"] = lille.pk
    response = admin_client.post(reverse("admin:directory_user_change", args=[member.pk]), data)
    assert response.status_code == 302
    names = group_names(member)
    assert region_group_name("Nord-Est") in names
    assert region_group_name("Sud-Ouest") not in names


def test_hand_made_groups_cannot_be_set_from_the_person_form(admin_client, member):
    hand_made = Group.objects.create(name="Groupe fait main")
    data = change_form_data(member, [], initial=list(member.role_assignments.all()))
    data["groups"] = [hand_made.pk]
    admin_client.post(reverse("admin:directory_user_change", args=[member.pk]), data)
    assert "Groupe fait main" not in group_names(member)


def test_adding_a_person_in_the_admin_then_a_role(admin_client, association):
    response = admin_client.post(
        reverse("admin:directory_user_add"),
        {
            "username": "nouvelle.personne",
            "usable_password": "true",
            "password1": "Un-mot-de-passe-solide-1",
            "password2": "Un-mot-de-passe-solide-1",
            "first_name": "Nouvelle",
            "last_name": "Personne",
            "email": "nouvelle@exemple.org",
            "association": association.pk,
            "job_title": "Intervenante",
            "role_assignments-TOTAL_FORMS": "1",
            "role_assignments-INITIAL_FORMS": "0",
            "role_assignments-MIN_NUM_FORMS": "0",
            "role_assignments-MAX_NUM_FORMS": "1000",
            "role_assignments-0-role": Role.MEMBER,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    from directory.models import User

    person = User.objects.get(username="nouvelle.personne")
    assert person.association == association
    assert MEMBERS_GROUP_NAME in group_names(person)


def test_changing_an_association_status_in_the_admin_syncs_its_people(admin_client, association, member):
    assert MEMBERS_GROUP_NAME in group_names(member)
    response = admin_client.get(reverse("admin:directory_association_change", args=[association.pk]))
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in data.items()}
    data["admitted_on"] = ""
    data["status"] = Association.Status.FORMER
    response = admin_client.post(reverse("admin:directory_association_change", args=[association.pk]), data)
    assert response.status_code == 302
    assert group_names(member) == set()
