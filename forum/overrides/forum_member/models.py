from machina.apps.forum_member.models import *  # noqa: F403 (machina's override recipe)
