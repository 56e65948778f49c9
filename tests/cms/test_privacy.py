"""Who gets what: anonymous / non-member / member / president / staff × public page, members' guide,
presidents' guide, documents of the members' and presidents' collections. Private things never show
their title to those who may not open them, and never land in a shared cache."""

import html

import pytest

from directory.access import CmsAudience
from directory.roles import Role
from tests.factories import AssociationFactory, RoleSpec, make_person, theme
from tests.factories.cms import (
    add_document,
    add_guide,
    document_block,
    paragraph,
    presidents_collection,
)

pytestmark = pytest.mark.django_db

LOGIN = "/compte/connexion/"
MEMBERS_GUIDE = "Guide du financement"
PRESIDENTS_GUIDE = "Guide des conseils d'administration"
MEMBERS_DOC = "Trame de budget prévisionnel"
PRESIDENTS_DOC = "Charte de l'administrateur"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def content(db):
    members_doc = add_document(MEMBERS_DOC, filename="budget.odt", themes=[theme("financement")])
    presidents_doc = add_document(PRESIDENTS_DOC, collection=presidents_collection(), filename="charte.pdf",
                                  themes=[theme("vie-associative-et-conseils-dadministration")])
    members_guide = add_guide(MEMBERS_GUIDE, themes=[theme("financement")], blocks=[
        paragraph("Le financement des mesures."), document_block(members_doc), document_block(presidents_doc)])
    presidents_guide = add_guide(PRESIDENTS_GUIDE, audience=CmsAudience.PRESIDENTS,
                                 themes=[theme("vie-associative-et-conseils-dadministration")],
                                 blocks=[paragraph("Recruter des administrateurs."), document_block(presidents_doc)])
    return {
        "public": "/",
        "members_guide": members_guide.url,
        "presidents_guide": presidents_guide.url,
        "members_doc": members_doc.url,
        "presidents_doc": presidents_doc.url,
        "resources": "/ressources/",
    }


@pytest.fixture
def people(association, member, president, staff, candidate_person):
    return {"member": member, "president": president, "staff": staff, "candidate": candidate_person}


EXPECTED = {
    # who:        public, members_guide, presidents_guide, members_doc, presidents_doc, resources
    "anonymous": (200, 302, 302, 302, 302, 302),
    "candidate": (403, 403, 403, 403, 403, 403),
    "member": (200, 200, 404, 200, 404, 200),
    "president": (200, 200, 200, 200, 200, 200),
    "staff": (200, 200, 200, 200, 200, 200),
}
KEYS = ("public", "members_guide", "presidents_guide", "members_doc", "presidents_doc", "resources")


@pytest.mark.parametrize("who", list(EXPECTED))
def test_privacy_matrix(client, content, people, who):
    if who != "anonymous":
        client.force_login(people[who])
    for key, expected in zip(KEYS, EXPECTED[who], strict=True):
        response = client.get(content[key])
        assert response.status_code == expected, (who, key, response.status_code)
        if expected == 302:
            assert response["Location"].startswith(f"{LOGIN}?next="), (who, key)
        if expected in (403, 404):
            body = text(response)
            assert PRESIDENTS_GUIDE not in body and PRESIDENTS_DOC not in body


def test_an_unknown_address_under_the_resources_sends_anonymous_visitors_to_login(client, content):
    response = client.get("/ressources/un-guide-qui-n-existe-pas/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_members_get_404_for_an_unknown_address_as_for_a_private_one(client, content, member):
    client.force_login(member)
    assert client.get("/ressources/un-guide-qui-n-existe-pas/").status_code == 404


@pytest.mark.parametrize(("who", "sees_presidents"), [("member", False), ("president", True), ("staff", True)])
def test_private_titles_show_only_to_those_who_may_open_them(client, content, people, who, sees_presidents):
    client.force_login(people[who])
    listing = text(client.get("/ressources/"))
    guide = text(client.get(content["members_guide"]))
    documents = text(client.get("/ressources/?type=document"))
    assert MEMBERS_GUIDE in listing and MEMBERS_DOC in documents and MEMBERS_DOC in guide
    assert (PRESIDENTS_GUIDE in listing) is sees_presidents
    for page in (listing, guide, documents):
        assert (PRESIDENTS_DOC in page) is sees_presidents


def test_the_dashboard_never_lists_a_guide_the_reader_may_not_open(client, content, association):
    person = make_person("admin.test", association=association, roles=[RoleSpec(Role.MEMBER)],
                         expertise=[theme("vie-associative-et-conseils-dadministration")])
    client.force_login(person)
    page = text(client.get("/"))
    assert PRESIDENTS_GUIDE not in page
    assert "Aucun guide publié dans vos thématiques" in page


def test_private_pages_and_documents_are_never_kept_by_shared_caches(client, content, member):
    client.force_login(member)
    for key in ("public", "members_guide", "members_doc", "resources"):
        cache_control = client.get(content[key])["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, key


def test_documents_are_downloaded_as_attachments_with_their_type(client, content, member):
    client.force_login(member)
    response = client.get(content["members_doc"])
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.text"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"PK")


def test_documents_are_not_served_as_plain_media(client, content, member, settings):
    client.force_login(member)
    from wagtail.documents import get_document_model

    document = get_document_model().objects.get(title=MEMBERS_DOC)
    assert client.get(f"{settings.MEDIA_URL}{document.file.name}").status_code == 404


def test_a_role_change_opens_the_presidents_guide_at_once(client, content, member):
    from directory import services as directory_services

    client.force_login(member)
    assert client.get(content["presidents_guide"]).status_code == 404
    directory_services.grant_role(member, RoleSpec(Role.PRESIDENT))
    assert client.get(content["presidents_guide"]).status_code == 200


def test_a_former_member_association_loses_access(client, content, member):
    from directory import services as directory_services

    client.force_login(member)
    assert client.get(content["members_guide"]).status_code == 200
    directory_services.set_association_status(member.association, "former")
    assert client.get(content["members_guide"]).status_code == 403


def test_a_superuser_without_roles_sees_everything_like_wagtail_says(client, content):
    boss = make_person("admin.site", is_superuser=True, is_staff=True, association=AssociationFactory())
    client.force_login(boss)
    assert client.get(content["presidents_guide"]).status_code == 200
    assert client.get(content["presidents_doc"]).status_code == 200
