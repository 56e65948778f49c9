"""Django admin screens of the membership applications: looked up and corrected, never examined there."""

import html

import pytest
from django.urls import reverse

from membership import services as membership
from membership.models import MembershipApplication
from tests.factories import make_person
from tests.membership.support import draft, submitted


@pytest.fixture
def admin_client(client, db):
    superuser = make_person("admin.test", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


@pytest.fixture
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def examined(_private_media, staff):
    """A submitted application with a question answered and an examiner's comment, through the services."""
    application, token = submitted()
    question = membership.request_information(application, staff, "Pouvez-vous joindre votre budget ?")
    membership.answer_information_request(application, question.pk, answer="Le voici.")
    membership.add_comment(application, staff, "Dossier complet.", "favorable")
    return MembershipApplication.objects.get(pk=application.pk)


def test_admin_lists_the_membership_applications(admin_client, examined):
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:membership_membershipapplication_changelist") in index
    assert admin_client.get(reverse("admin:membership_membershipapplication_changelist")).status_code == 200


def test_applications_are_listed_and_filtered_by_status(admin_client, examined, _private_media):
    draft(name="Association au brouillon", siret="44306184100047")
    url = reverse("admin:membership_membershipapplication_changelist")
    listed = admin_client.get(url, {"status__exact": MembershipApplication.Status.EXAMINING})
    assert [a.pk for a in listed.context["cl"].result_list] == [examined.pk]
    drafts = admin_client.get(url, {"status__exact": MembershipApplication.Status.DRAFT})
    assert [a.name for a in drafts.context["cl"].result_list] == ["Association au brouillon"]


@pytest.mark.parametrize("term", ["Arcachonnaise", "73282932000074", "732 829 320 00074"])
def test_applications_are_found_by_name_or_siret_typed_with_spaces(admin_client, examined, term):
    response = admin_client.get(reverse("admin:membership_membershipapplication_changelist"), {"q": term})
    assert [a.pk for a in response.context["cl"].result_list] == [examined.pk]


def test_the_application_list_query_count_does_not_grow_with_applications(admin_client, examined,
                                                                         django_assert_max_num_queries):
    url = reverse("admin:membership_membershipapplication_changelist")
    admin_client.get(url)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(url)
    for _index in range(4):
        submitted()
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(url)


def test_an_application_shows_its_token_hash_state_and_log_read_only(admin_client, examined):
    response = admin_client.get(reverse("admin:membership_membershipapplication_change", args=[examined.pk]))
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
    assert admin_client.get(reverse("admin:membership_membershipapplication_add")).status_code == 403


def test_a_corrected_contact_address_is_saved_and_the_log_stays(admin_client, examined):
    url = reverse("admin:membership_membershipapplication_change", args=[examined.pk])
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
