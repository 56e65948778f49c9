"""The forum's and the chat's moderation logs become one (moderation.ModerationEntry): a database
holding rows in both former logs, migrated forward, finds every row in the shared log."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from moderation.models import ModerationEntry

# The leaves before the shared log existed (and the moderation app not yet migrated).
BEFORE = [("exchange", "0004_moderation_log_detail"), ("chat", "0001_initial")]
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


# Serialized like every other transactional test here: its flush then leaves the rows to restore, not
# post_migrate's (which would clash with the next serialized test's restore).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_rows_of_both_former_logs_are_in_the_shared_log_after_migrating():
    try:
        check_the_rows_of_both_former_logs_after_migrating()
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # today's schema for the next tests


def check_the_rows_of_both_former_logs_after_migrating():
    old = migrate([*BEFORE, ("moderation", None)]).loader.project_state(BEFORE).apps
    User = old.get_model("directory", "User")
    moderator = User.objects.create(username="moderatrice", email="m@example.org")
    author = User.objects.create(username="auteur", email="a@example.org")
    forum = old.get_model("forum", "Forum").objects.create(
        name="Financement", slug="financement", type=0, lft=1, rght=2, tree_id=1, level=0)
    room = old.get_model("chat", "ChatRoom").objects.create(kind="region", name="Région Centre-Est")
    message = old.get_model("chat", "ChatMessage").objects.create(
        room=room, author=author, client_id="c-1", seq=1, body="Propos déplacé")
    ForumLog = old.get_model("exchange", "ModerationLogEntry")
    ForumLog.objects.create(actor=moderator, action="lock", forum=forum, topic_id_ref=41, subject="Budget 2026",
                            reason="Débat clos.")
    ForumLog.objects.create(actor=moderator, action="delete_post", forum=forum, topic_id_ref=41, post_id_ref=97,
                            subject="Re: Budget 2026", detail="", reason="Hors charte.")
    ForumLog.objects.create(actor=None, action="move", forum=None, topic_id_ref=None, subject="Sujet disparu",
                            detail="Vers « Accueil »")
    ForumLog.objects.update(created_at=WHEN)
    old.get_model("chat", "ChatModerationLog").objects.create(
        room=room, message=message, moderator=moderator, author=author, reason="Propos injurieux",
        original_body="Propos déplacé")

    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())

    rows = {entry.reason: entry for entry in ModerationEntry.objects.select_related("place_type", "target_type")}
    assert set(rows) == {"Débat clos.", "Hors charte.", "", "Propos injurieux"}
    lock, deletion, move, chat = rows["Débat clos."], rows["Hors charte."], rows[""], rows["Propos injurieux"]
    assert (lock.action, lock.actor_id, lock.place_id, lock.place_type.model, lock.snapshot, lock.created_at) == (
        "lock", moderator.pk, forum.pk, "forum", "Budget 2026", WHEN)
    assert (lock.target_type.model, lock.target_id, lock.topic_id_ref) == ("topic", 41, 41)
    assert (deletion.action, deletion.target_type.model, deletion.target_id, deletion.topic_id_ref) == (
        "delete_post", "post", 97, 41)
    assert (move.actor_id, move.place_id, move.target_id, move.snapshot, move.detail) == (
        None, None, None, "Sujet disparu", "Vers « Accueil »")
    assert (chat.action, chat.actor_id, chat.target_author_id, chat.snapshot) == (
        ModerationEntry.Action.DELETE_CHAT_MESSAGE, moderator.pk, author.pk, "Propos déplacé")
    assert (chat.place_type.model, chat.place_id, chat.target_type.model, chat.target_id) == (
        "chatroom", room.pk, "chatmessage", message.pk)
