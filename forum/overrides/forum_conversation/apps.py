from machina.apps.forum_conversation.apps import ForumConversationAppConfig


class ConversationConfig(ForumConversationAppConfig):
    # Listed in INSTALLED_APPS by module path: machina's class loader matches those strings.
    default = True
    name = "forum.overrides.forum_conversation"
