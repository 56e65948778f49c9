"""machina's member views, narrowed so that no list shows a topic of a forum one can no longer read."""

from machina.apps.forum_member.views import TopicSubscriptionListView as MachinaTopicSubscriptionListView

from directory import access


class TopicSubscriptionListView(MachinaTopicSubscriptionListView):
    """A person keeps topic subscriptions after losing access (a role revoked…): hide those topics."""

    def get_queryset(self):
        readable = access.readable_forums(self.request.user, self.request.forum_permission_handler)
        return super().get_queryset().filter(forum__in=readable)
