"""Attachments: allowed types and size only, downloaded only through the permission-checked view."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from machina.apps.forum_conversation.forum_attachments.models import Attachment
from machina.apps.forum_conversation.models import Topic

from forum import services
from forum.models import ForumSpace

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def direction_forum(working_group):
    services.ensure_forum_tree()
    return ForumSpace.objects.get(key="direction").forum


def post_topic(client, forum, upload, subject="Modèle de fiche de poste"):
    url = reverse("forum_conversation:topic_create", kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk})
    return client.post(url, {
        "subject": subject, "content": "Voici notre modèle.", "topic_type": Topic.TOPIC_POST,
        "attachment-TOTAL_FORMS": "1", "attachment-INITIAL_FORMS": "0", "attachment-MIN_NUM_FORMS": "0",
        "attachment-MAX_NUM_FORMS": "5", "attachment-0-file": upload, "attachment-0-comment": "",
    })


@pytest.mark.parametrize("name,content,message", [
    ("script.exe", b"MZ\x90\x00", "type de fichier"),
    ("page.html", b"<script>alert(1)</script>", "type de fichier"),
    ("faux.pdf", b"<html>pas un pdf</html>", "ne correspond pas"),
    ("vide.pdf", b"", "vide"),
])
def test_refused_uploads_show_a_message_and_create_nothing(client, direction_forum, director, name, content,
                                                           message):
    client.force_login(director)
    response = post_topic(client, direction_forum, SimpleUploadedFile(name, content))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Topic.objects.exists() and not Attachment.objects.exists()


def test_oversized_upload_is_refused(client, direction_forum, director, settings):
    settings.FORUM_ATTACHMENT_MAX_BYTES = 1024
    client.force_login(director)
    response = post_topic(client, direction_forum, SimpleUploadedFile("gros.pdf", PDF + b"0" * 2048))
    assert "taille maximale" in response.content.decode()
    assert not Attachment.objects.exists()


def test_attachment_is_served_to_readers_only(client, direction_forum, director, president):
    client.force_login(director)
    assert post_topic(client, direction_forum, SimpleUploadedFile("fiche.pdf", PDF)).status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.file.name.startswith("private/forum/")
    url = reverse("forum_conversation:attachment", kwargs={"pk": attachment.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content]).startswith(b"%PDF")

    client.force_login(president)
    assert client.get(url).status_code == 404
    missing = reverse("forum_conversation:attachment", kwargs={"pk": attachment.pk + 1000})
    assert client.get(missing).status_code == 404
    assert client.get("/media/" + attachment.file.name).status_code == 404
