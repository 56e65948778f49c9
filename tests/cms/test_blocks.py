"""Safe and accessible StreamField output: sanitised Markdown, escaped text, heading order, required alt
texts, forum topics validated and shown only to their readers, documents only to theirs."""

import html

import pytest
from django.core.exceptions import ValidationError
from machina.apps.forum_conversation.models import Topic
from wagtail.blocks import StreamBlockValidationError

from cms.blocks import AccessibleImageBlock, BodyStreamBlock, ForumTopicBlock, MarkdownBlock, parse_topic_reference
from directory.access import CmsAudience
from forum import services as forum_services
from forum.models import ForumSpace
from forum.selectors import topic_url
from tests.factories.cms import (
    add_document,
    add_guide,
    document_block,
    heading,
    paragraph,
    presidents_collection,
    topic_block,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def topics(director, president):
    forum_services.ensure_forum_tree()
    public_forum = ForumSpace.objects.filter(kind="theme").order_by("key").first().forum
    presidents_forum = ForumSpace.objects.get(key="presidency:meetings").forum
    public = Topic.objects.create(forum=public_forum, subject="Trames de rapport CJSE", poster=director,
                                  type=Topic.TOPIC_POST, status=Topic.TOPIC_UNLOCKED, approved=True)
    private = Topic.objects.create(forum=presidents_forum, subject="Ordre du jour confidentiel", poster=president,
                                   type=Topic.TOPIC_POST, status=Topic.TOPIC_UNLOCKED, approved=True)
    return {"public": public, "private": private}


# --- Markdown pasted from elsewhere goes through the forum's sanitiser -----------------------------


def test_markdown_blocks_are_sanitised_like_forum_posts():
    rendered = str(MarkdownBlock().render(
        "**Gras** <script>alert('x')</script> [lien](javascript:alert(1)) <img src=x onerror=alert(1)> "
        "<a href=\"https://exemple.fr\" onclick=\"x()\">site</a>"))
    assert "<strong>Gras</strong>" in rendered
    assert "<script" not in rendered and "onerror" not in rendered and "onclick" not in rendered
    assert "javascript:" not in rendered
    assert 'rel="nofollow noopener"' in rendered


def test_a_guide_escapes_its_title_summary_and_block_texts(client, member):
    guide = add_guide("<b>Titre</b>", summary="<script>alert(1)</script>", blocks=[
        heading("<em>Intertitre</em>"),
        {"type": "checklist", "value": {"title": "<i>x</i>", "items": ["<script>point</script>"]}},
        {"type": "markdown", "value": "<iframe src='https://exemple.fr'></iframe>Texte"},
    ])
    client.force_login(member)
    page = client.get(guide.url).content.decode()
    assert "<script>" not in page.split("<body", 1)[1].replace('<script src="/static/', "")
    assert "&lt;b&gt;Titre&lt;/b&gt;" in page
    assert "&lt;em&gt;Intertitre&lt;/em&gt;" in page
    assert "<iframe" not in page


# --- Accessibility ---------------------------------------------------------------------------------


def stream(*blocks):
    block = BodyStreamBlock()
    return block.to_python(list(blocks))


def test_a_level_three_heading_must_follow_a_level_two_one():
    with pytest.raises(StreamBlockValidationError):
        BodyStreamBlock().clean(stream(heading("Détail", "h3"), heading("Section", "h2")))
    BodyStreamBlock().clean(stream(heading("Section", "h2"), heading("Détail", "h3")))


def test_headings_are_h2_or_h3_only():
    with pytest.raises(ValidationError):
        BodyStreamBlock().clean(stream({"type": "heading", "value": {"text": "Titre", "level": "h1"}}))


def test_an_image_needs_a_text_alternative():
    block = AccessibleImageBlock()
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"image": None, "alt": "", "caption": ""}))
    assert block.child_blocks["alt"].required


def test_the_table_of_contents_links_to_unique_anchors(client, member):
    guide = add_guide("Guide", blocks=[heading("Les frais de justice"), heading("Détail", "h3"),
                                       heading("Les frais de justice"), paragraph("Texte")])
    client.force_login(member)
    page = client.get(guide.url).content.decode()
    assert '<h2 id="les-frais-de-justice">' in page and '<h2 id="les-frais-de-justice-2">' in page
    assert '<h3 id="detail">' in page
    assert 'href="#les-frais-de-justice-2"' in page


def test_download_links_say_what_they_download(client, member):
    document = add_document("Trame de budget", filename="budget.odt")
    guide = add_guide("Guide", blocks=[document_block(document)])
    client.force_login(member)
    page = text(client.get(guide.url))
    assert "Télécharger : Trame de budget" in page
    assert "(Autre document · ODT" in page or "(Fiche technique · ODT" in page


# --- Forum topics ---------------------------------------------------------------------------------


def test_a_topic_is_chosen_by_number_or_address(topics):
    topic = topics["public"]
    assert parse_topic_reference(str(topic.pk)) == topic.pk
    assert parse_topic_reference(f"#{topic.pk}") == topic.pk
    assert parse_topic_reference(f"https://passerelles.exemple.fr{topic_url(topic)}") == topic.pk
    assert parse_topic_reference(topic_url(topic).rstrip("/")) == topic.pk
    assert parse_topic_reference("/annuaire/") is None
    assert parse_topic_reference("n'importe quoi") is None


def test_an_unknown_topic_is_refused_with_a_french_message(topics):
    block = ForumTopicBlock()
    assert block.clean(block.value_from_form(str(topics["public"].pk))) == topics["public"].pk
    with pytest.raises(ValidationError, match="Aucun sujet du forum"):
        block.clean(block.value_from_form("999999"))
    with pytest.raises(ValidationError, match="Aucun sujet du forum"):
        block.clean(block.value_from_form("/annuaire/"))
    with pytest.raises(ValidationError, match="Indiquez"):
        block.clean(block.value_from_form(""))


def test_a_topic_link_shows_only_to_those_who_may_read_its_forum(client, topics, member, president):
    guide = add_guide("Guide", blocks=[topic_block(topics["public"]), topic_block(topics["private"])])
    client.force_login(member)
    page = text(client.get(guide.url))
    assert "Trames de rapport CJSE" in page
    assert "Ordre du jour confidentiel" not in page
    client.force_login(president)
    page = text(client.get(guide.url))
    assert "Ordre du jour confidentiel" in page
    assert topic_url(topics["private"]) in page


def test_a_document_block_shows_only_to_those_who_may_download_it(client, member, president):
    secret = add_document("Kit d'accueil des administrateurs", collection=presidents_collection())
    guide = add_guide("Guide", blocks=[paragraph("Intro"), document_block(secret)])
    client.force_login(member)
    assert "Kit d'accueil des administrateurs" not in text(client.get(guide.url))
    client.force_login(president)
    assert "Kit d'accueil des administrateurs" in text(client.get(guide.url))


def test_a_restricted_event_is_invisible_through_its_routes_too(client, member, president):
    from cms import services
    from tests.factories.cms import add_event

    event = add_event("Atelier confidentiel")
    services.restrict_page(event, CmsAudience.PRESIDENTS)
    client.force_login(member)
    assert client.get(event.url + "calendrier/").status_code == 404
    assert client.post(event.url + "inscription/").status_code == 404
    client.force_login(president)
    assert client.get(event.url + "calendrier/").status_code == 200
