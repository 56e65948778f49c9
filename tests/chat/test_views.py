"""The chat pages: room list with unread badges, history readable and writable without JavaScript."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from chat import messages, rooms
from chat.models import ChatMessage, ChatRoom
from moderation.models import ModerationEntry
from tests.factories import Role, RoleSpec, make_person


def post(user, room, client_id, body="Bonjour"):
    return messages.post_message(user, room.pk, client_id, body, enforce_rate_limit=False).frame


def many(user, room, count, prefix="m"):
    return [post(user, room, f"{prefix}-{number}", f"Message numéro {number}")["id"] for number in range(count)]


def test_the_room_list_links_each_room_with_its_unread_badge(client, alice, bruno, region_room, direct_room):
    post(alice, region_room, "r-1")
    post(alice, region_room, "r-2")
    post(alice, direct_room, "d-1")
    client.force_login(bruno)

    html = client.get("/discussions/").content.decode()

    assert f'href="{region_room.get_absolute_url()}"' in html
    assert f'href="{direct_room.get_absolute_url()}"' in html
    assert re.search(rf'data-unread-room="{region_room.pk}">2<', html)
    assert re.search(rf'data-unread-room="{direct_room.pk}">1<', html)
    assert "Alice Lamarque" in html  # a direct conversation is named after the other person


def test_the_navigation_shows_the_total_unread_count(client, alice, bruno, region_room, direct_room):
    post(alice, region_room, "r-1")
    post(alice, direct_room, "d-1")
    client.force_login(bruno)

    html = client.get("/annuaire/").content.decode()

    assert re.search(r'data-chat-unread-total>2<span class="visually-hidden"> messages non lus', html)


def test_the_room_page_carries_its_websocket_path(client, alice, region_room):
    client.force_login(alice)

    html = client.get(region_room.get_absolute_url()).content.decode()

    assert f'data-ws-url="/ws/discussions/{region_room.pk}/"' in html
    assert 'aria-live="polite"' in html
    assert '<label for="id_body">Votre message</label>' in html


def test_opening_the_latest_page_marks_the_room_read(client, alice, bruno, region_room):
    post(alice, region_room, "r-1")
    client.force_login(bruno)

    client.get(region_room.get_absolute_url())

    assert "data-chat-unread-total" not in client.get("/discussions/").content.decode()


@override_settings(CHAT_HISTORY_PAGE_SIZE=10)
def test_history_pages_back_and_forth_without_javascript(client, alice, region_room):
    ids = many(alice, region_room, 25)
    client.force_login(alice)

    latest = client.get(region_room.get_absolute_url()).content.decode()
    older = client.get(f"{region_room.get_absolute_url()}?avant={ids[15]}").content.decode()
    newer = client.get(f"{region_room.get_absolute_url()}?apres={ids[14]}").content.decode()

    assert re.findall(r'id="message-(\d+)"', latest) == [str(pk) for pk in ids[15:]]
    assert f'href="?avant={ids[15]}"' in latest
    assert re.findall(r'id="message-(\d+)"', older) == [str(pk) for pk in ids[5:15]]
    assert 'data-live="false"' in older and "Messages plus récents" in older
    assert re.findall(r'id="message-(\d+)"', newer) == [str(pk) for pk in ids[15:25]]


def count_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


# Session, user, access profile (2), room and membership checks, theme keys, room, page, read marker,
# navigation badges (forum notifications, chat).
ROOM_PAGE_MAX_QUERIES = 13
# Session, user, access profile (2), memberships, unread counts, direct rooms' other people, parrainage
# contacts, navigation badges.
ROOM_LIST_MAX_QUERIES = 10


def test_the_room_page_query_count_does_not_grow_with_messages(client, alice, bruno, region_room,
                                                              django_assert_max_num_queries):
    many(bruno, region_room, 5, "a")
    client.force_login(alice)
    small = count_queries(client, region_room.get_absolute_url())
    many(bruno, region_room, 80, "b")
    many(alice, region_room, 20, "c")

    large = count_queries(client, region_room.get_absolute_url())

    assert small == large
    with django_assert_max_num_queries(ROOM_PAGE_MAX_QUERIES):
        client.get(region_room.get_absolute_url())


def test_the_room_list_query_count_does_not_grow_with_rooms(client, alice, bruno, federal_staff, region_room,
                                                           django_assert_max_num_queries):
    rooms.open_direct_room(alice, bruno)
    client.force_login(alice)
    small = count_queries(client, "/discussions/")
    for number in range(6):
        other = make_person(f"membre.{number}", association=bruno.association, roles=[RoleSpec(Role.MEMBER)])
        room = rooms.open_direct_room(alice, other)
        post(other, room, "d")
        rooms.create_adhoc_room(federal_staff, name=f"Salon {number}", members=[alice])

    large = count_queries(client, "/discussions/")

    assert small == large
    with django_assert_max_num_queries(ROOM_LIST_MAX_QUERIES):
        client.get("/discussions/")


def test_the_plain_form_sends_a_message_once_even_if_posted_twice(client, alice, region_room):
    client.force_login(alice)
    url = f"{region_room.get_absolute_url()}envoyer/"
    data = {"client_id": "formulaire-1", "body": "Envoyé sans JavaScript"}

    first = client.post(url, data)
    second = client.post(url, data)

    assert first.status_code == second.status_code == 302
    assert ChatMessage.objects.filter(room=region_room, body="Envoyé sans JavaScript").count() == 1


@override_settings(CHAT_RATE_LIMIT=1, CHAT_RATE_LIMIT_SECONDS=60)
def test_the_plain_form_shows_the_rate_limit_in_french(client, alice, region_room):
    client.force_login(alice)
    url = f"{region_room.get_absolute_url()}envoyer/"
    client.post(url, {"client_id": "f-1", "body": "Un"})

    response = client.post(url, {"client_id": "f-2", "body": "Deux"})

    assert response.status_code == 400
    assert "Vous envoyez trop de messages" in response.content.decode()
    assert ">Deux</textarea>" in response.content.decode()


def test_a_non_member_cannot_post_through_the_form(client, chloe, region_room):
    client.force_login(chloe)

    response = client.post(f"{region_room.get_absolute_url()}envoyer/", {"client_id": "x", "body": "Intrus"})

    assert response.status_code == 403
    assert not ChatMessage.objects.exists()


def test_html_injection_shows_as_text_and_links_are_clickable(client, alice, region_room):
    post(alice, region_room, "x", '<img src=x onerror="alert(1)"> voir https://exemple.fr/guide')
    client.force_login(alice)

    html = client.get(region_room.get_absolute_url()).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=" in html
    assert '<a href="https://exemple.fr/guide" rel="nofollow noopener">https://exemple.fr/guide</a>' in html


def test_authors_edit_their_message_through_a_page(client, alice, bruno, region_room):
    message_id = post(alice, region_room, "x", "Premier jet")["id"]
    url = f"{region_room.get_absolute_url()}messages/{message_id}/modifier/"
    client.force_login(bruno)
    assert client.get(url).status_code == 403
    client.force_login(alice)

    response = client.post(url, {"body": "Version corrigée"})

    assert response.status_code == 302
    assert ChatMessage.objects.get(pk=message_id).body == "Version corrigée"


def test_staff_delete_with_a_reason_through_a_page(client, alice, bruno, federal_staff, region_room):
    message_id = post(alice, region_room, "x", "Hors sujet")["id"]
    url = f"{region_room.get_absolute_url()}messages/{message_id}/supprimer/"
    client.force_login(bruno)
    assert client.post(url, {"reason": "Je ne suis pas d'accord"}).status_code == 403
    client.force_login(federal_staff)
    assert client.post(url, {"reason": ""}).status_code == 200  # the form again, with the error

    response = client.post(url, {"reason": "Hors sujet pour ce salon"})

    assert response.status_code == 302
    assert ModerationEntry.objects.get().reason == "Hors sujet pour ce salon"
    assert "Message supprimé par la modération." in client.get(region_room.get_absolute_url()).content.decode()


def test_the_chat_admin_shows_the_chat_entries_of_the_moderation_log(admin_client, alice, federal_staff,
                                                                     region_room):
    message_id = post(alice, region_room, "x", "Propos injurieux")["id"]
    messages.delete_message(federal_staff, region_room.pk, message_id, "Contraire à la charte")
    entry = ModerationEntry.objects.get()

    listing = admin_client.get("/admin/chat/chatmoderationlog/").content.decode()
    detail = admin_client.get(f"/admin/chat/chatmoderationlog/{entry.pk}/change/").content.decode()

    assert "journal de modération des discussions" in listing.lower()
    assert region_room.name in listing and "Contraire à la charte" in listing
    assert "Propos injurieux" in detail and "Contraire à la charte" in detail


def test_the_json_history_gives_missed_messages_to_members_only(client, alice, chloe, region_room):
    ids = many(alice, region_room, 4)
    client.force_login(alice)

    data = client.get(f"{region_room.get_absolute_url()}messages.json?after={ids[1]}").json()

    assert [frame["id"] for frame in data["messages"]] == ids[2:]
    assert data["complete"] is True
    client.force_login(chloe)
    assert client.get(f"{region_room.get_absolute_url()}messages.json?after=0").status_code == 403


def test_a_member_finds_someone_and_opens_a_direct_conversation(client, alice, chloe, outsider):
    client.force_login(alice)

    found = client.get("/discussions/direct/?q=chlo").content.decode()
    response = client.post("/discussions/direct/", {"username": "chloe.directrice"})

    assert "Chloé Muller" in found
    assert "paul.candidat" not in client.get("/discussions/direct/?q=paul").content.decode()
    room = ChatRoom.objects.get(kind="direct")
    assert response["Location"] == room.get_absolute_url()


def test_only_federal_staff_reach_the_room_creation_form(client, alice, federal_staff, bruno):
    client.force_login(alice)
    assert client.get("/discussions/nouveau-salon/").status_code == 403
    client.force_login(federal_staff)

    response = client.post("/discussions/nouveau-salon/", {
        "name": "Réunion régionale du 14 octobre", "description": "Préparation", "members": [alice.pk, bruno.pk],
    })

    room = ChatRoom.objects.get(kind="adhoc")
    assert response["Location"] == room.get_absolute_url()
    assert set(room.memberships.values_list("user__username", flat=True)) == {
        "mathilde.equipe", "alice.directrice", "bruno.intervenant"}


@pytest.mark.parametrize("url", ["/discussions/", "/discussions/direct/"])
def test_chat_pages_refuse_people_outside_the_network(client, outsider, url):
    client.force_login(outsider)

    assert client.get(url).status_code == 403
