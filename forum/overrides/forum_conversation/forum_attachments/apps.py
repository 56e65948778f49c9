from machina.apps.forum_conversation.forum_attachments.apps import ForumAttachmentsAppConfig


class AttachmentsConfig(ForumAttachmentsAppConfig):
    # Listed in INSTALLED_APPS by module path: machina's class loader matches those strings.
    default = True
    name = "forum.overrides.forum_conversation.forum_attachments"
