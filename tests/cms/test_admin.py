"""Staff edit in the Wagtail admin (in French): editors load, a submitted edit enters the review
workflow, and the blocks' validation (forum topics, heading order) answers in French."""

import pytest
from machina.apps.forum_conversation.models import Topic
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from cms.models import GuidePage
from forum import services as forum_services
from forum.models import ForumSpace
from forum.selectors import topic_url
from tests.factories import theme
from tests.factories.cms import add_document, add_event, add_guide, add_news, resources_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(director):
    forum_services.ensure_forum_tree()
    forum = ForumSpace.objects.filter(kind="theme").order_by("key").first().forum
    return Topic.objects.create(forum=forum, subject="Trames de rapport CJSE", poster=director,
                                type=Topic.TOPIC_POST, status=Topic.TOPIC_UNLOCKED, approved=True)


def edit_data(guide: GuidePage, blocks, **extra) -> dict:
    data = nested_form_data({
        "title": guide.title,
        "slug": guide.slug,
        "summary": guide.summary,
        "content_updated_on": "",
        "body": streamfield(blocks),
        "comments": inline_formset([]),
    })
    data["themes"] = [str(theme("financement").pk)]
    data.update(extra)
    return data


def test_the_admin_speaks_french(client, staff):
    client.force_login(staff)
    page = client.get("/cms-admin/").content.decode()
    assert 'lang="fr"' in page
    assert "Pages" in page and "Rechercher" in page


def test_staff_open_every_editor(client, staff):
    guide = add_guide("Guide", themes=[theme("financement")])
    event = add_event("Journée")
    news = add_news("Brève")
    document = add_document("Trame")
    client.force_login(staff)
    for url in [f"/cms-admin/pages/{guide.pk}/edit/", f"/cms-admin/pages/{event.pk}/edit/",
                f"/cms-admin/pages/{news.pk}/edit/", f"/cms-admin/pages/add/cms/guidepage/{resources_index().pk}/",
                "/cms-admin/documents/", f"/cms-admin/documents/edit/{document.pk}/"]:
        assert client.get(url).status_code == 200, url


def test_a_staff_edit_submitted_in_the_admin_waits_for_review(client, staff, topic):
    guide = add_guide("Guide du financement", summary="Version publiée.")
    client.force_login(staff)
    data = edit_data(guide, [
        ("heading", {"text": "Les frais de justice", "level": "h2"}),
        ("paragraph", rich_text("<p>Texte relu.</p>")),
        ("forum_topic", {"topic": f"https://passerelles.exemple.fr{topic_url(topic)}", "label": ""}),
    ], **{"action-submit": "1"})
    data["summary"] = "Version relue."
    response = client.post(f"/cms-admin/pages/{guide.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    guide.refresh_from_db()
    assert guide.summary == "Version publiée."
    assert guide.workflow_in_progress
    latest = guide.get_latest_revision_as_object()
    assert latest.summary == "Version relue."
    assert [child.value["topic"] for child in latest.body if child.block_type == "forum_topic"] == [topic.pk]


def test_an_unknown_forum_topic_is_refused_in_french(client, staff):
    guide = add_guide("Guide du financement")
    client.force_login(staff)
    response = client.post(f"/cms-admin/pages/{guide.pk}/edit/", edit_data(guide, [
        ("forum_topic", {"topic": "/annuaire/", "label": ""})]))
    assert response.status_code == 200
    assert "Aucun sujet du forum ne correspond" in response.content.decode()


def test_a_level_three_heading_first_is_refused_in_french(client, staff):
    guide = add_guide("Guide du financement")
    client.force_login(staff)
    response = client.post(f"/cms-admin/pages/{guide.pk}/edit/", edit_data(guide, [
        ("heading", {"text": "Détail", "level": "h3"})]))
    assert response.status_code == 200
    assert "Un intertitre de niveau 3 doit suivre un intertitre de niveau 2." in response.content.decode()
