"""The page tree: where each page type may live, and the structure a real install starts with."""

import pytest
from django.core.management import call_command
from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction, Site, WorkflowPage

from cms.models import (
    EventIndexPage,
    EventPage,
    GuidePage,
    HomePage,
    NewsIndexPage,
    NewsPage,
    PeerReviewTask,
    ResourcesIndexPage,
    ToolLibraryPage,
)
from cms.setup import MEMBERS_COLLECTION_NAME, WORKFLOW_NAME, ensure_site_structure
from directory import access
from tests.factories.cms import agenda, news_index, resources_index

pytestmark = pytest.mark.django_db


def test_the_migration_puts_the_home_page_at_the_site_root_and_resources_under_it():
    site = Site.objects.get(is_default_site=True)
    home = site.root_page.specific
    assert isinstance(home, HomePage)
    assert home.url == "/"
    assert resources_index().url == "/ressources/"
    assert resources_index().get_parent().pk == home.pk
    # Wagtail's welcome page is gone.
    assert not Page.objects.filter(depth=2, slug="home").exists()


def test_the_resources_root_is_restricted_to_the_members_group():
    restriction = PageViewRestriction.objects.get(page=resources_index())
    assert restriction.restriction_type == PageViewRestriction.GROUPS
    assert list(restriction.groups.values_list("managed__key", flat=True)) == [access.cms_members_group()]


def test_the_members_collection_is_restricted_to_the_members_group():
    collection = Collection.objects.get(name=MEMBERS_COLLECTION_NAME)
    restriction = CollectionViewRestriction.objects.get(collection=collection)
    assert list(restriction.groups.values_list("managed__key", flat=True)) == [access.cms_members_group()]


def test_the_review_workflow_covers_the_home_page_and_the_resources():
    for page in (HomePage.objects.get(), resources_index()):
        assert WorkflowPage.objects.get(page=page).workflow.name == WORKFLOW_NAME
    task = PeerReviewTask.objects.get()
    assert list(task.groups.values_list("managed__key", flat=True)) == [access.cms_editors_group()]


@pytest.mark.parametrize(
    ("child", "parent", "allowed"),
    [
        (ResourcesIndexPage, HomePage, True),
        (GuidePage, ResourcesIndexPage, True),
        (GuidePage, HomePage, False),
        (ToolLibraryPage, ResourcesIndexPage, True),
        (EventPage, EventIndexPage, True),
        (EventPage, ResourcesIndexPage, False),
        (NewsPage, NewsIndexPage, True),
        (NewsPage, GuidePage, False),
        (HomePage, ResourcesIndexPage, False),
    ],
)
def test_page_types_only_go_where_the_tree_rules_say(child, parent, allowed):
    assert (child in parent.allowed_subpage_models()) is allowed
    assert (parent in child.allowed_parent_page_models()) is allowed


def test_there_is_one_home_page_one_resources_root_one_agenda_and_one_news_index():
    agenda()
    news_index()
    assert not HomePage.can_create_at(Page.objects.get(depth=1))
    assert not ResourcesIndexPage.can_create_at(HomePage.objects.get())
    assert not EventIndexPage.can_create_at(resources_index())
    assert not NewsIndexPage.can_create_at(resources_index())
    assert GuidePage.can_create_at(resources_index())


def test_guides_have_no_children():
    assert GuidePage.allowed_subpage_models() == []


def test_setup_site_is_idempotent_for_the_cms():
    call_command("setup_site")
    before = (Page.objects.count(), PageViewRestriction.objects.count(), Collection.objects.count(),
              WorkflowPage.objects.count(), PeerReviewTask.objects.count())
    call_command("setup_site")
    after = (Page.objects.count(), PageViewRestriction.objects.count(), Collection.objects.count(),
             WorkflowPage.objects.count(), PeerReviewTask.objects.count())
    assert after == before
    assert ensure_site_structure().created == []


def test_cms_setup_rebuilds_a_missing_structure_and_reasserts_the_restriction():
    home = HomePage.objects.get()
    root = Page.objects.get(depth=1)
    Site.objects.update(root_page=root)
    home.delete()
    result = ensure_site_structure()
    assert "page d'accueil" in result.created and "index des ressources" in result.created
    assert Site.objects.get(is_default_site=True).root_page_id == result.home_id
    assert resources_index().url == "/ressources/"
    restriction = PageViewRestriction.objects.get(page_id=result.resources_id)
    assert list(restriction.groups.values_list("managed__key", flat=True)) == [access.cms_members_group()]
    assert Page.objects.get(pk=root.pk).numchild == 1
