"""machina's member views, narrowed to what the viewer may read and whom they may see.

- No list shows a topic of a forum one can no longer read (subscriptions).
- A person's forum profile and list of messages open only for people whose directory page the viewer
  may open (directory.access `can_view_forum_profile`): anyone else's, an unknown id or a malformed one, is 404.
- The counts they show (messages, topics, and each message's author count) count only the forums the
  viewer may read; machina's own counter covers every forum (issue 16, item 5).
"""

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils.functional import cached_property
from django.views.generic import DetailView
from machina.apps.forum_member.models import ForumProfile
from machina.apps.forum_member.views import ForumProfileDetailView as MachinaForumProfileDetailView
from machina.apps.forum_member.views import TopicSubscriptionListView as MachinaTopicSubscriptionListView
from machina.apps.forum_member.views import UserPostsView as MachinaUserPostsView
from machina.conf import settings as machina_settings

from directory import access
from forum import selectors


class TopicSubscriptionListView(MachinaTopicSubscriptionListView):
    """A person keeps topic subscriptions after losing access (a role revoked…): hide those topics."""

    def get_queryset(self):
        readable = access.readable_forums(self.request.user, self.request.forum_permission_handler)
        return super().get_queryset().filter(forum__in=readable)


class VisiblePersonMixin:
    """The person of the URL's `pk`, if the viewer may see them; 404 otherwise, as for an unknown id."""

    def visible_person(self):
        try:
            pk = int(self.kwargs["pk"])
        except (KeyError, TypeError, ValueError):
            raise Http404 from None
        person = get_user_model().objects.select_related("association").filter(pk=pk).first()
        if person is None or not access.can_view_forum_profile(self.request.user, person):
            raise Http404
        return person


class ForumProfileDetailView(VisiblePersonMixin, MachinaForumProfileDetailView):
    """A person's forum profile: their counts and recent messages in the forums the viewer reads."""

    def get_object(self, queryset=None):
        person = self.visible_person()
        profile, _created = ForumProfile.objects.select_related("user").get_or_create(user=person)
        return profile

    def get_context_data(self, **kwargs):
        # DetailView's context, not machina's: machina counts the topics over every forum.
        context = DetailView.get_context_data(self, **kwargs)
        viewer, person = self.request.user, self.object.user
        handler = self.request.forum_permission_handler
        posts = selectors.readable_posts_by(viewer, person, handler)
        context["posts_count"] = selectors.readable_post_counts(viewer, [person.pk], handler).get(person.pk, 0)
        context["topics_count"] = selectors.readable_topic_count(viewer, person, handler)
        recent = posts.filter(approved=True).select_related("topic", "topic__forum")
        context["recent_posts"] = recent[:machina_settings.PROFILE_RECENT_POSTS_NUMBER]
        return context


class UserPostsView(VisiblePersonMixin, MachinaUserPostsView):
    """A person's messages in the forums the viewer reads (their own awaiting approval, to themselves)."""

    @cached_property
    def poster(self):
        return self.visible_person()

    def get_queryset(self):
        handler = self.request.forum_permission_handler
        return selectors.readable_posts_by(self.request.user, self.poster, handler).select_related(
            "topic", "topic__forum", "poster")
