from machina.apps.forum_conversation.forum_attachments.views import *  # noqa: F403 (machina's override recipe)
