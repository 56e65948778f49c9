"""machina's forum_attachments app, overridden through machina's own recipe to validate uploads.

Installed in place of machina.apps.forum_conversation.forum_attachments (same label, machina's
models and migrations); machina's class loader then finds our `forms` module first.
"""
