from machina.apps.forum_conversation.models import *  # noqa: F403 (machina's override recipe)
