"""Messages through chat.messages: saved once, numbered, limited, edited and deleted by the rules."""

from __future__ import annotations

import pytest
from django.test import override_settings

from chat import messages, protocol
from chat.errors import ChatError
from chat.models import ChatMessage
from moderation.models import ModerationEntry


def post(user, room, client_id, body="Bonjour", **kwargs):
    return messages.post_message(user, room.pk, client_id, body, **kwargs)


def test_a_message_is_saved_with_the_next_number_of_its_room(alice, region_room):
    first = post(alice, region_room, "c-1")
    second = post(alice, region_room, "c-2")

    assert (first.frame["seq"], second.frame["seq"]) == (1, 2)
    assert ChatMessage.objects.filter(room=region_room).count() == 2


def test_the_message_frame_carries_the_contract_fields(alice, region_room):
    frame = post(alice, region_room, "c-1", "Bonjour à tous").frame

    assert {"type", "id", "client_id", "author", "body", "created"} <= frame.keys()
    assert (frame["type"], frame["client_id"], frame["author"], frame["body"]) == (
        "message", "c-1", "alice.directrice", "Bonjour à tous")


def test_a_retried_send_returns_the_saved_message_once(alice, region_room):
    first = post(alice, region_room, "retry-me", "Une seule fois")
    retry = post(alice, region_room, "retry-me", "Une seule fois")

    assert retry.created is False
    assert retry.frame == first.frame
    assert ChatMessage.objects.filter(client_id="retry-me").count() == 1


def test_the_same_client_id_from_two_people_makes_two_messages(alice, bruno, region_room):
    post(alice, region_room, "same")
    post(bruno, region_room, "same")

    assert ChatMessage.objects.filter(client_id="same").count() == 2


@pytest.mark.parametrize("client_id", ["", "x" * 65, 12, None, "a\nb"])
def test_a_client_id_must_be_a_short_printable_text(alice, region_room, client_id):
    with pytest.raises(ChatError) as error:
        post(alice, region_room, client_id)

    assert error.value.code == protocol.INVALID_CLIENT_ID


@pytest.mark.parametrize("body, code", [
    ("   \n ", protocol.EMPTY_MESSAGE),
    (None, protocol.INVALID_FRAME),
    (["liste"], protocol.INVALID_FRAME),
    ("\ud800 surrogate", protocol.INVALID_TEXT),
])
def test_a_body_must_be_some_text(alice, region_room, body, code):
    with pytest.raises(ChatError) as error:
        post(alice, region_room, "c", body)

    assert error.value.code == code


@override_settings(CHAT_MAX_MESSAGE_LENGTH=20)
def test_a_message_over_the_length_limit_is_refused_in_french(alice, region_room):
    with pytest.raises(ChatError) as error:
        post(alice, region_room, "c", "x" * 21)

    assert error.value.code == protocol.MESSAGE_TOO_LONG
    assert "20 caractères" in error.value.message


@override_settings(CHAT_RATE_LIMIT=3, CHAT_RATE_LIMIT_SECONDS=60)
def test_the_rate_limit_refuses_the_message_after_the_limit_with_a_clear_message(alice, region_room):
    for number in range(3):
        post(alice, region_room, f"c-{number}")

    with pytest.raises(ChatError) as error:
        post(alice, region_room, "c-3")

    assert error.value.code == protocol.RATE_LIMITED
    assert error.value.message.startswith("Vous envoyez trop de messages")
    assert error.value.refs["retry_after"] >= 1
    assert ChatMessage.objects.count() == 3


@override_settings(CHAT_RATE_LIMIT=2, CHAT_RATE_LIMIT_SECONDS=60)
def test_retries_do_not_count_against_the_rate_limit(alice, region_room):
    post(alice, region_room, "c-1")
    for _ in range(5):
        post(alice, region_room, "c-1")

    assert post(alice, region_room, "c-2").created


@override_settings(CHAT_RATE_LIMIT=2, CHAT_RATE_LIMIT_SECONDS=60)
def test_the_rate_limit_is_per_person(alice, bruno, region_room):
    post(alice, region_room, "a-1")
    post(alice, region_room, "a-2")

    assert post(bruno, region_room, "b-1").created


def test_html_is_stored_raw_and_rendered_as_text(alice, region_room):
    frame = post(alice, region_room, "c", '<script>alert("x")</script><b>gras</b>').frame

    assert frame["body"] == '<script>alert("x")</script><b>gras</b>'
    assert "<script" not in frame["html"] and "<b>" not in frame["html"]
    assert "&lt;script&gt;" in frame["html"]


def test_links_become_clickable_with_nofollow_noopener(alice, region_room):
    frame = post(alice, region_room, "c", "Le guide : https://federation.exemple.fr/guide et javascript:alert(1)").frame

    assert '<a href="https://federation.exemple.fr/guide" rel="nofollow noopener">' in frame["html"]
    assert 'href="javascript' not in frame["html"]


def test_authors_edit_their_own_messages(alice, region_room):
    message_id = post(alice, region_room, "c", "Premier jet").frame["id"]

    frame = messages.edit_message(alice, region_room.pk, message_id, "Version corrigée")

    assert (frame["type"], frame["body"]) == ("edit", "Version corrigée")
    assert ChatMessage.objects.get(pk=message_id).edited_at is not None


def test_nobody_edits_someone_elses_message_not_even_staff(alice, bruno, federal_staff, region_room):
    message_id = post(alice, region_room, "c").frame["id"]

    for person in (bruno, federal_staff):
        with pytest.raises(ChatError) as error:
            messages.edit_message(person, region_room.pk, message_id, "Réécrit")
        assert error.value.code == protocol.FORBIDDEN


def test_authors_delete_their_own_messages_without_a_reason(alice, region_room):
    message_id = post(alice, region_room, "c", "À effacer").frame["id"]

    frame = messages.delete_message(alice, region_room.pk, message_id)

    message = ChatMessage.objects.get(pk=message_id)
    assert (frame["type"], frame["moderated"]) == ("delete", False)
    assert message.deleted_at is not None and message.body == ""
    assert not ModerationEntry.objects.exists()


def test_members_cannot_delete_someone_elses_message(alice, bruno, region_room):
    message_id = post(alice, region_room, "c").frame["id"]

    with pytest.raises(ChatError) as error:
        messages.delete_message(bruno, region_room.pk, message_id, "Je n'aime pas")

    assert error.value.code == protocol.FORBIDDEN


def test_staff_deleting_someone_elses_message_must_give_a_reason(alice, federal_staff, region_room):
    message_id = post(alice, region_room, "c").frame["id"]

    with pytest.raises(ChatError) as error:
        messages.delete_message(federal_staff, region_room.pk, message_id, "   ")

    assert error.value.code == protocol.REASON_REQUIRED


def test_staff_moderation_is_logged_with_the_reason_and_the_original_text(alice, federal_staff, region_room):
    message_id = post(alice, region_room, "c", "Propos déplacé").frame["id"]

    frame = messages.delete_message(federal_staff, region_room.pk, message_id, "Propos injurieux")

    log = ModerationEntry.objects.get()
    assert frame["moderated"] is True
    assert (log.actor, log.target_author, log.reason, log.snapshot) == (
        federal_staff, alice, "Propos injurieux", "Propos déplacé")
    assert (log.action, log.place, log.target_id) == (
        ModerationEntry.Action.DELETE_CHAT_MESSAGE, region_room, message_id)


def test_staff_do_not_moderate_direct_messages(alice, federal_staff, direct_room):
    message_id = post(alice, direct_room, "c").frame["id"]

    with pytest.raises(ChatError) as error:
        messages.delete_message(federal_staff, direct_room.pk, message_id, "Motif")

    assert error.value.code == protocol.FORBIDDEN


def test_a_deleted_message_cannot_be_edited_nor_deleted_again(alice, region_room):
    message_id = post(alice, region_room, "c").frame["id"]
    messages.delete_message(alice, region_room.pk, message_id)

    with pytest.raises(ChatError) as error:
        messages.edit_message(alice, region_room.pk, message_id, "Retour")

    assert error.value.code == protocol.ALREADY_DELETED


def test_a_message_of_another_room_is_not_found(alice, region_room, mediation_room):
    message_id = post(alice, region_room, "c").frame["id"]

    with pytest.raises(ChatError) as error:
        messages.delete_message(alice, mediation_room.pk, message_id)

    assert error.value.code == protocol.NOT_FOUND


def test_resume_returns_exactly_the_missed_messages_in_order(alice, bruno, region_room, mediation_room):
    seen = post(alice, region_room, "c-0").frame["id"]
    missed = [post(bruno if n % 2 else alice, region_room, f"c-{n}").frame["id"] for n in range(1, 6)]
    post(alice, mediation_room, "elsewhere")

    frames, complete = messages.messages_after(region_room.pk, seen)

    assert [frame["id"] for frame in frames] == missed
    assert complete is True


@override_settings(CHAT_RESUME_LIMIT=3)
def test_resume_is_bounded_and_says_so(alice, region_room):
    ids = [post(alice, region_room, f"c-{n}", enforce_rate_limit=False).frame["id"] for n in range(5)]

    frames, complete = messages.messages_after(region_room.pk, 0)

    assert [frame["id"] for frame in frames] == ids[:3]
    assert complete is False


@pytest.mark.parametrize("after", [-1, "12", None, True, 1.5])
def test_resume_needs_a_message_id(region_room, after):
    with pytest.raises(ChatError) as error:
        messages.messages_after(region_room.pk, after)

    assert error.value.code == protocol.INVALID_FRAME
