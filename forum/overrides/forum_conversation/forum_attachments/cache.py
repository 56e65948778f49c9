from machina.apps.forum_conversation.forum_attachments.cache import *  # noqa: F403 (machina's override recipe)
