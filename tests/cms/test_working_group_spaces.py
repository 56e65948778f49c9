"""Each working group gets its private space in the CMS as soon as it exists (cms.setup), restricted
to exactly its members and federal staff, renamed with it, and kept for staff when it is deleted."""

import html

import pytest
from django.urls import reverse
from wagtail.models import PageViewRestriction

from cms.models import GuidePage, ResourcesIndexPage, WorkingGroupIndexPage, WorkingGroupPage
from cms.setup import WORKING_GROUPS_SLUG, ensure_working_group_spaces
from directory import access, hooks
from directory.models import WorkingGroup
from directory.roles import STAFF_GROUP_KEY, Role, working_group_group_key
from search import backend, indexing
from tests.factories import AssociationFactory, RoleSpec, make_person
from tests.factories.cms import body, paragraph, publish

pytestmark = pytest.mark.django_db

LOGIN = "/compte/connexion/"
DESCRIPTION = "Le groupe rédige la charte déontologique des intervenant·es."


def text(response) -> str:
    return html.unescape(response.content.decode())


def create_group(name: str, slug: str, description: str = DESCRIPTION) -> WorkingGroup:
    with hooks.unit_of_work():
        return WorkingGroup.objects.create(name=name, slug=slug, description=description)


def space_of(working_group: WorkingGroup) -> WorkingGroupPage:
    return WorkingGroupPage.objects.get(working_group=working_group)


def restriction_keys(page) -> set[str]:
    restriction = PageViewRestriction.objects.get(page=page)
    assert restriction.restriction_type == PageViewRestriction.GROUPS
    return set(restriction.groups.values_list("managed__key", flat=True))


def group_member(username: str, working_group: WorkingGroup, association=None):
    return make_person(username, association=association or AssociationFactory(),
                       roles=[RoleSpec(Role.MEMBER), RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=working_group)])


@pytest.fixture
def ethics(db):
    return create_group("Éthique et déontologie", "ethique-deontologie")


@pytest.fixture
def ethics_member(association, ethics):
    return group_member("alice.ethique", ethics, association)


@pytest.fixture
def _embedded_search(settings):
    settings.SEARCH_ELASTICSEARCH_URL = ""
    backend._elastic.cache_clear()
    yield
    backend._elastic.cache_clear()


# --- Creation, renaming, idempotence -------------------------------------------------------------


def test_a_new_working_group_gets_a_live_space_under_the_working_groups_index(ethics):
    page = space_of(ethics)
    index = WorkingGroupIndexPage.objects.get()
    assert page.live and page.title == "Groupe de travail Éthique et déontologie"
    assert page.slug == "ethique-deontologie"
    assert page.get_parent().specific == index
    assert index.slug == WORKING_GROUPS_SLUG and index.live
    assert index.get_parent().specific == ResourcesIndexPage.objects.get()
    assert page.url == "/ressources/groupes-de-travail/ethique-deontologie/"


def test_the_space_is_restricted_to_exactly_the_group_and_federal_staff(ethics):
    assert restriction_keys(space_of(ethics)) == {working_group_group_key(ethics.pk), STAFF_GROUP_KEY}
    assert restriction_keys(space_of(ethics)) == set(access.working_group_space_groups(ethics.pk))


def test_renaming_the_group_renames_its_space_and_keeps_its_access_exact(ethics):
    page_id = space_of(ethics).pk
    with hooks.unit_of_work():
        ethics.name = "Éthique"
        ethics.save()
    page = WorkingGroupPage.objects.get(pk=page_id)
    assert page.title == "Groupe de travail Éthique"
    assert page.get_latest_revision().as_object().title == "Groupe de travail Éthique"
    assert restriction_keys(page) == {working_group_group_key(ethics.pk), STAFF_GROUP_KEY}


def test_renaming_the_group_leaves_an_editor_draft_a_draft(ethics):
    page = space_of(ethics)
    page.intro = "Brouillon de présentation."
    page.save_revision()
    with hooks.unit_of_work():
        ethics.name = "Éthique"
        ethics.save()
    page = WorkingGroupPage.objects.get(pk=page.pk)
    assert page.title == "Groupe de travail Éthique" and page.live
    assert page.has_unpublished_changes and page.intro == ""
    assert page.get_latest_revision().as_object().intro == "Brouillon de présentation."


def test_running_the_setup_again_creates_and_changes_nothing(ethics):
    counts = (WorkingGroupPage.objects.count(), WorkingGroupIndexPage.objects.count(),
              PageViewRestriction.objects.count())
    result = ensure_working_group_spaces()
    assert (result.created, result.renamed, result.restricted) == ([], [], [])
    assert ensure_working_group_spaces().created == []
    assert (WorkingGroupPage.objects.count(), WorkingGroupIndexPage.objects.count(),
            PageViewRestriction.objects.count()) == counts


def test_a_restriction_changed_by_hand_is_set_back_to_the_group_and_staff(ethics):
    page = space_of(ethics)
    PageViewRestriction.objects.get(page=page).groups.clear()
    assert ensure_working_group_spaces().restricted == [page.title]
    assert restriction_keys(page) == {working_group_group_key(ethics.pk), STAFF_GROUP_KEY}


def test_a_deleted_group_leaves_its_space_and_content_to_federal_staff_only(client, ethics, ethics_member, staff):
    page = space_of(ethics)
    with hooks.unit_of_work():
        ethics.delete()
    page.refresh_from_db()
    assert page.working_group is None
    assert restriction_keys(page) == {STAFF_GROUP_KEY}
    client.force_login(ethics_member)
    assert client.get(page.url).status_code == 404
    client.force_login(staff)
    response = client.get(page.url)
    assert response.status_code == 200
    assert "Ce groupe de travail a été supprimé" in text(response)


def test_a_new_group_with_the_slug_of_a_deleted_one_gets_its_own_space(ethics):
    old = space_of(ethics)
    with hooks.unit_of_work():
        ethics.delete()
    again = create_group("Éthique et déontologie", "ethique-deontologie")
    new = space_of(again)
    assert new.pk != old.pk and new.slug == "ethique-deontologie-2"
    assert restriction_keys(new) == {working_group_group_key(again.pk), STAFF_GROUP_KEY}
    assert restriction_keys(old) == {STAFF_GROUP_KEY}


# --- Who opens the space -------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "expected"), [
    ("anonymous", 302), ("candidate", 403), ("other_member", 404), ("group_member", 200), ("staff", 200),
])
def test_only_the_group_and_federal_staff_open_the_space(client, ethics, ethics_member, member, staff,
                                                         candidate_person, who, expected):
    people = {"candidate": candidate_person, "other_member": member, "group_member": ethics_member, "staff": staff}
    if who != "anonymous":
        client.force_login(people[who])
    response = client.get(space_of(ethics).url)
    assert response.status_code == expected
    body_text = text(response)
    if expected == 200:
        assert DESCRIPTION in body_text
    else:
        assert DESCRIPTION not in body_text and "Éthique et déontologie" not in body_text
    if expected == 302:
        assert response["Location"].startswith(f"{LOGIN}?next=")


def test_the_space_lists_the_group_members_and_no_one_else(client, ethics, ethics_member, member):
    colleague = group_member("bruno.ethique", ethics)
    client.force_login(ethics_member)
    page = text(client.get(space_of(ethics).url))
    assert str(ethics_member) in page and str(colleague) in page
    assert str(member) not in page
    assert "2 membres" in page and "Vous en êtes membre" in page


def test_the_space_links_to_the_group_forum_and_room(client, ethics, ethics_member):
    from chat.models import ChatRoom
    from forum.models import ForumSpace

    # The forum and the room are made by the forum's and the chat's handlers of the same hook.
    forum = ForumSpace.objects.select_related("forum").get(working_group=ethics).forum
    room = ChatRoom.objects.get(key=access.chat_room_key(access.ChatRoomKind.WORKING_GROUP, ethics.slug))
    client.force_login(ethics_member)
    page = text(client.get(space_of(ethics).url))
    assert reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk}) in page
    assert reverse("chat:room-detail", args=[room.pk]) in page


def test_a_page_of_the_space_is_private_like_the_space(client, ethics, ethics_member, member):
    guide = publish(space_of(ethics), GuidePage(title="Compte rendu de la réunion de mars",
                                                summary="Relevé de décisions.", body=body(paragraph("Décisions."))))
    client.force_login(member)
    assert client.get(guide.url).status_code == 404
    client.force_login(ethics_member)
    assert client.get(guide.url).status_code == 200
    assert "Compte rendu de la réunion de mars" in text(client.get(space_of(ethics).url))


def test_the_index_lists_only_the_spaces_the_reader_opens(client, ethics, ethics_member, member, staff):
    other = create_group("Mesures alternatives", "mesures-alternatives", "Un autre groupe.")
    index_url = WorkingGroupIndexPage.objects.get().url
    client.force_login(member)
    page = text(client.get(index_url))
    assert "Éthique et déontologie" not in page and "Mesures alternatives" not in page
    assert "aucun groupe de travail" in page
    client.force_login(ethics_member)
    page = text(client.get(index_url))
    assert "Groupe de travail Éthique et déontologie" in page and other.name not in page
    client.force_login(staff)
    page = text(client.get(index_url))
    assert "Groupe de travail Éthique et déontologie" in page and "Groupe de travail Mesures alternatives" in page


def test_the_resources_index_links_to_the_working_groups_index(client, ethics, member):
    client.force_login(member)
    response = client.get("/ressources/")
    assert response.status_code == 200
    assert f'href="{WorkingGroupIndexPage.objects.get().url}"' in text(response)


@pytest.mark.usefixtures("_embedded_search")
def test_search_shows_the_space_to_its_members_only(client, ethics, ethics_member, member):
    indexing.rebuild()
    client.force_login(member)
    assert "Groupe de travail Éthique et déontologie" not in {
        r["title"] for r in client.get("/recherche/", {"q": "déontologie", "format": "json"}).json()["results"]}
    client.force_login(ethics_member)
    assert "Groupe de travail Éthique et déontologie" in {
        r["title"] for r in client.get("/recherche/", {"q": "déontologie", "format": "json"}).json()["results"]}


# --- Queries -------------------------------------------------------------------------------------


def test_the_space_is_served_in_a_constant_number_of_queries(client, ethics, ethics_member,
                                                             django_assert_max_num_queries):
    url = space_of(ethics).url
    client.force_login(ethics_member)
    client.get(url)
    with django_assert_max_num_queries(28) as few:
        assert client.get(url).status_code == 200
    for n in range(6):
        group_member(f"personne{n}.ethique", ethics)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
