"""The forum's moderation log moves into the shared one (moderation.ModerationEntry): every row is
copied (the forum becomes the entry's place, the post, else the topic, its target, the title its
snapshot), then the forum's table is dropped. Going back copies the forum's entries back (their dates
become the rollback's)."""

from django.db import migrations

FORUM_ACTIONS = ["lock", "unlock", "move", "pin", "unpin", "delete_topic", "delete_post", "approve", "disapprove",
                 "report_closed"]


def content_type(apps, app_label: str, model: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.get_or_create(app_label=app_label, model=model)[0]


def copy_to_shared_log(apps, schema_editor):
    ModerationLogEntry = apps.get_model("exchange", "ModerationLogEntry")
    ModerationEntry = apps.get_model("moderation", "ModerationEntry")
    forum_type = content_type(apps, "forum", "forum")
    topic_type = content_type(apps, "forum_conversation", "topic")
    post_type = content_type(apps, "forum_conversation", "post")

    def entry(row):
        if row.post_id_ref is not None:
            target_type, target_id = post_type, row.post_id_ref
        elif row.topic_id_ref is not None:
            target_type, target_id = topic_type, row.topic_id_ref
        else:
            target_type, target_id = None, None
        return ModerationEntry(
            actor_id=row.actor_id, action=row.action,
            place_type=forum_type if row.forum_id is not None else None, place_id=row.forum_id,
            target_type=target_type, target_id=target_id, topic_id_ref=row.topic_id_ref,
            snapshot=row.subject, detail=row.detail, reason=row.reason, created_at=row.created_at,
        )

    ModerationEntry.objects.bulk_create(
        [entry(row) for row in ModerationLogEntry.objects.order_by("pk").iterator(chunk_size=1000)], batch_size=1000,
    )


def copy_back(apps, schema_editor):
    ModerationLogEntry = apps.get_model("exchange", "ModerationLogEntry")
    ModerationEntry = apps.get_model("moderation", "ModerationEntry")
    Forum = apps.get_model("forum", "Forum")
    entries = ModerationEntry.objects.filter(action__in=FORUM_ACTIONS).select_related("target_type").order_by("pk")
    forum_ids = set(Forum.objects.values_list("pk", flat=True))
    ModerationLogEntry.objects.bulk_create([
        ModerationLogEntry(
            actor_id=entry.actor_id, action=entry.action,
            forum_id=entry.place_id if entry.place_id in forum_ids else None, topic_id_ref=entry.topic_id_ref,
            post_id_ref=entry.target_id if entry.target_type and entry.target_type.model == "post" else None,
            subject=entry.snapshot[:255], detail=entry.detail, reason=entry.reason, created_at=entry.created_at,
        )
        for entry in entries
    ])
    entries.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("exchange", "0004_moderation_log_detail"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("moderation", "0001_moderation_log"),
    ]

    operations = [
        migrations.RunPython(copy_to_shared_log, copy_back),
        migrations.DeleteModel(name="ModerationLogEntry"),
    ]
