"""Django admin screens of the directory: groups follow roles, and are never edited by hand."""

import html

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from directory.models import Association, MembershipApplication, RoleAssignment
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
    for model in ["region", "courdappel", "juridiction", "theme", "workinggroup", "association", "parrainage", "user"]:
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


# --- Membership applications and parrainages ----------------------------------------------------------


@pytest.fixture
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def examined(_private_media, staff):
    """A submitted application with a question answered and an examiner's comment, through the services."""
    from directory import membership
    from tests.directory.membership_support import submitted

    application, token = submitted()
    question = membership.request_information(application, staff, "Pouvez-vous joindre votre budget ?")
    membership.answer_information_request(application, question.pk, answer="Le voici.")
    membership.add_comment(application, staff, "Dossier complet.", "favorable")
    return MembershipApplication.objects.get(pk=application.pk)


def test_admin_lists_the_membership_applications_and_onboarding_steps(admin_client, examined):
    index = admin_client.get(reverse("admin:index")).content.decode()
    for model in ["membershipapplication", "onboardingstep"]:
        assert reverse(f"admin:directory_{model}_changelist") in index
        assert admin_client.get(reverse(f"admin:directory_{model}_changelist")).status_code == 200, model


def test_applications_are_listed_and_filtered_by_status(admin_client, examined, _private_media):
    from tests.directory.membership_support import draft

    draft(name="Association au brouillon", siret="44306184100047")
    url = reverse("admin:directory_membershipapplication_changelist")
    listed = admin_client.get(url, {"status__exact": MembershipApplication.Status.EXAMINING})
    assert [a.pk for a in listed.context["cl"].result_list] == [examined.pk]
    drafts = admin_client.get(url, {"status__exact": MembershipApplication.Status.DRAFT})
    assert [a.name for a in drafts.context["cl"].result_list] == ["Association au brouillon"]


@pytest.mark.parametrize("term", ["Arcachonnaise", "73282932000074", "732 829 320 00074"])
def test_applications_are_found_by_name_or_siret_typed_with_spaces(admin_client, examined, term):
    response = admin_client.get(reverse("admin:directory_membershipapplication_changelist"), {"q": term})
    assert [a.pk for a in response.context["cl"].result_list] == [examined.pk]


def test_the_application_list_query_count_does_not_grow_with_applications(admin_client, examined,
                                                                         django_assert_max_num_queries):
    from tests.directory.membership_support import submitted

    url = reverse("admin:directory_membershipapplication_changelist")
    admin_client.get(url)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(url)
    for _index in range(4):
        submitted()
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(url)


def test_an_application_shows_its_token_hash_state_and_log_read_only(admin_client, examined):
    response = admin_client.get(reverse("admin:directory_membershipapplication_change", args=[examined.pk]))
    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    assert examined.token_hash in content
    for field in ["token_hash", "status", "decision_reason", "statutes"]:
        assert f'name="{field}"' not in content, field
    assert 'name="contact_email"' in content
    assert "Pouvez-vous joindre votre budget ?" in content and "Le voici." in content
    assert "Avis favorable." in content
    assert 'name="events-0-message"' not in content and 'name="requests-0-answer"' not in content
    assert reverse("parrainage:commission-application", kwargs={"pk": examined.pk}) in content
    assert reverse("parrainage:commission-document", kwargs={"pk": examined.pk, "kind": "statuts"}) in content


def test_applications_are_not_added_in_the_admin(admin_client, db):
    assert admin_client.get(reverse("admin:directory_membershipapplication_add")).status_code == 403


def test_a_corrected_contact_address_is_saved_and_the_log_stays(admin_client, examined):
    url = reverse("admin:directory_membershipapplication_change", args=[examined.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in data.items()}
    data["contact_email"] = "nouvelle.adresse@arcachon.example.org"
    for prefix in ("requests", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    log_length = examined.events.count()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    examined.refresh_from_db()
    assert examined.contact_email == "nouvelle.adresse@arcachon.example.org"
    assert examined.status == MembershipApplication.Status.EXAMINING
    assert examined.events.count() == log_length


def test_a_parrainage_shows_its_proposal_and_the_parrain_s_answer(admin_client, staff):
    from datetime import timedelta

    from django.utils import timezone

    from parrainage import services as journey
    from tests.factories import RoleSpec, juridiction, theme

    today = timezone.localdate()
    newcomer = AssociationFactory(name="Nouvelle Association Landaise", juridictions=[juridiction("tj-mont-de-marsan")],
                                  themes=[theme("mediation-penale")], admitted_on=today - timedelta(days=20))
    pau = AssociationFactory(name="Association Paloise Marraine", juridictions=[juridiction("tj-pau")],
                             themes=[theme("mediation-penale")], admitted_on=today - timedelta(days=4000),
                             willing_to_sponsor=True)
    director = make_person("parrain.directeur", association=pau, roles=[RoleSpec(Role.DIRECTOR)])
    proposal = journey.choose_parrain(staff, newcomer, pau)
    journey.respond(director, proposal, accept=False, reason="Équipe trop prise cet automne.")

    response = admin_client.get(reverse("admin:directory_parrainage_change", args=[proposal.pk]))

    content = html.unescape(response.content.decode())
    proposal.refresh_from_db()
    assert proposal.reasons
    for reason in proposal.reasons:
        assert f"<li>{reason}</li>" in content
    assert str(proposal.score) in content
    assert "Équipe trop prise cet automne." in content
    assert director.get_full_name() in content
    assert 'name="decline_reason"' not in content and 'name="score"' not in content
    assert 'name="steps-TOTAL_FORMS"' in content
