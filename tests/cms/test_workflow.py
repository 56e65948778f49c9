"""Brouillon → relu → publié: staff write and submit; another staff member approves, which publishes."""

import pytest
from django.urls import reverse
from wagtail.models import Page

from cms import services
from cms.models import GuidePage
from tests.factories.cms import add_guide, resources_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def guide(db):
    return add_guide("Guide du financement", summary="Version publiée.")


def edit(guide: GuidePage, summary: str) -> GuidePage:
    draft = GuidePage.objects.get(pk=guide.pk)
    draft.summary = summary
    return draft


def test_staff_get_the_wagtail_admin_through_their_role_group(client, staff, member):
    client.force_login(staff)
    assert client.get("/cms-admin/").status_code == 200
    client.force_login(member)
    response = client.get("/cms-admin/")
    assert response.status_code == 302


def test_staff_may_edit_but_not_publish_directly(staff, guide):
    permissions = guide.permissions_for_user(staff)
    assert permissions.can_edit()
    assert resources_index().permissions_for_user(staff).can_add_subpage()
    assert not permissions.can_publish()


def test_a_submitted_edit_waits_for_review_and_is_not_published(staff, guide):
    services.submit_for_review(edit(guide, "Version relue."), staff)
    guide.refresh_from_db()
    assert guide.summary == "Version publiée."
    assert guide.workflow_in_progress
    assert guide.current_workflow_state.requested_by == staff


def test_the_author_cannot_approve_their_own_edit(staff, guide):
    services.submit_for_review(edit(guide, "Version relue."), staff)
    task_state = guide.current_workflow_task_state
    assert task_state.task.specific.get_actions(guide, staff) == []
    with pytest.raises(services.CmsError, match="autre personne"):
        services.review_page(guide, staff, approve=True)
    guide.refresh_from_db()
    assert guide.summary == "Version publiée."


def test_the_review_list_of_the_author_leaves_out_their_own_submission(staff, other_staff, guide):
    services.submit_for_review(edit(guide, "Version relue."), staff)
    task = guide.current_workflow_task_state.task.specific
    assert not task.get_task_states_user_can_moderate(staff).exists()
    assert task.get_task_states_user_can_moderate(other_staff).count() == 1


def test_another_staff_member_approves_and_the_edit_is_published(staff, other_staff, guide):
    services.submit_for_review(edit(guide, "Version relue."), staff)
    services.review_page(guide, other_staff, approve=True, comment="Relu, merci.")
    guide.refresh_from_db()
    assert guide.summary == "Version relue."
    assert guide.live and not guide.workflow_in_progress


def test_a_reviewer_may_send_the_edit_back(staff, other_staff, guide):
    services.submit_for_review(edit(guide, "Version à revoir."), staff)
    services.review_page(guide, other_staff, approve=False, comment="À compléter.")
    guide.refresh_from_db()
    assert guide.summary == "Version publiée."
    assert guide.current_workflow_state.status == "needs_changes"


def test_members_cannot_review(staff, member, guide):
    services.submit_for_review(edit(guide, "Version relue."), staff)
    with pytest.raises(services.CmsError):
        services.review_page(guide, member, approve=True)


def test_a_new_guide_written_by_staff_goes_live_only_after_review(staff, other_staff):
    draft = GuidePage(title="Guide d'accueil", summary="Premiers pas.", body="[]", live=False)
    resources_index().add_child(instance=draft)
    services.submit_for_review(draft, staff)
    assert not Page.objects.get(pk=draft.pk).live
    services.review_page(draft, other_staff, approve=True)
    assert Page.objects.get(pk=draft.pk).live


def test_the_admin_refuses_the_authors_own_approval(client, staff, guide):
    services.submit_for_review(edit(guide, "Version relue."), staff)
    task_state = guide.current_workflow_task_state
    client.force_login(staff)
    url = reverse("wagtailadmin_pages:workflow_action", args=[guide.pk, "approve", task_state.pk])
    response = client.post(url, {})
    assert response.status_code in (302, 403)
    guide.refresh_from_db()
    assert guide.summary == "Version publiée."


def test_the_admin_lets_a_second_staff_member_approve(client, staff, other_staff, guide):
    services.submit_for_review(edit(guide, "Version relue."), staff)
    task_state = guide.current_workflow_task_state
    client.force_login(other_staff)
    url = reverse("wagtailadmin_pages:workflow_action", args=[guide.pk, "approve", task_state.pk])
    response = client.post(url, {})
    assert response.status_code in (200, 302)
    guide.refresh_from_db()
    assert guide.summary == "Version relue."
