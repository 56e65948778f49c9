from machina.apps.forum_moderation.apps import ForumModerationAppConfig


class ModerationConfig(ForumModerationAppConfig):
    default = True
    name = "forum.overrides.forum_moderation"
