"""The chat's moderation log moves into the shared one (moderation.ModerationEntry): every row is
copied (the room becomes the entry's place, the message its target, the original text its
snapshot), then the chat's table is dropped and its name becomes the proxy the chat's admin page
shows (same address, same permissions). Going back copies the chat's entries back, for those whose
room and message still exist (the former table required both; their dates become the rollback's)."""

from django.db import migrations

DELETE = "delete"
DELETE_CHAT_MESSAGE = "delete_chat_message"


def content_type(apps, model: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.get_or_create(app_label="chat", model=model)[0]


def copy_to_shared_log(apps, schema_editor):
    ChatModerationLog = apps.get_model("chat", "ChatModerationLog")
    ModerationEntry = apps.get_model("moderation", "ModerationEntry")
    room_type, message_type = content_type(apps, "chatroom"), content_type(apps, "chatmessage")
    ModerationEntry.objects.bulk_create(
        [
            ModerationEntry(
                actor_id=row.moderator_id, action=DELETE_CHAT_MESSAGE, place_type=room_type, place_id=row.room_id,
                target_type=message_type, target_id=row.message_id, target_author_id=row.author_id,
                snapshot=row.original_body, reason=row.reason, created_at=row.created_at,
            )
            for row in ChatModerationLog.objects.order_by("pk").iterator(chunk_size=1000)
        ],
        batch_size=1000,
    )


def copy_back(apps, schema_editor):
    ChatModerationLog = apps.get_model("chat", "ChatModerationLog")
    ChatMessage = apps.get_model("chat", "ChatMessage")
    ModerationEntry = apps.get_model("moderation", "ModerationEntry")
    entries = ModerationEntry.objects.filter(action=DELETE_CHAT_MESSAGE).order_by("pk")
    messages = ChatMessage.objects.in_bulk([entry.target_id for entry in entries])
    ChatModerationLog.objects.bulk_create(
        [
            ChatModerationLog(
                room_id=messages[entry.target_id].room_id, message_id=entry.target_id, moderator_id=entry.actor_id,
                author_id=entry.target_author_id, action=DELETE, reason=entry.reason, original_body=entry.snapshot,
            )
            for entry in entries
            if entry.target_id in messages
        ],
    )
    entries.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("moderation", "0001_moderation_log"),
    ]

    operations = [
        migrations.RunPython(copy_to_shared_log, copy_back),
        migrations.DeleteModel(name="ChatModerationLog"),
        migrations.CreateModel(
            name="ChatModerationLog",
            fields=[],
            options={
                "verbose_name": "journal de modération des discussions",
                "verbose_name_plural": "journal de modération des discussions",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("moderation.moderationentry",),
        ),
    ]
