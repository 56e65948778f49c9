"""machina's conversation views, where ours differ (machina's override recipe).

machina's class loader imports this module before machina's own `forum_conversation.views`;
classes not defined here stay machina's.
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from machina.apps.forum_conversation import views as machina_conversation_views
from machina.apps.forum_conversation.models import Topic

from core import ratelimit
from forum import moderation, selectors
from forum.views_moderation import LoggedModerationMixin


class PostDeleteView(LoggedModerationMixin, machina_conversation_views.PostDeleteView):
    """machina's post deletion; when someone deletes another person's post, a logged moderation.

    Deleting one's own post is not moderation: no reason asked, nothing logged.
    """

    moderation_action = moderation.Action.DELETE_POST
    reason_required = True
    success_message = _("Le message est supprimé.")

    def is_moderation(self) -> bool:
        post = getattr(self, "object", None) or self.get_object()
        return post.poster_id != self.request.user.pk

    def form_valid(self, form):
        self.record(post=self.object)  # first: the entry copies what the deletion erases
        return super().form_valid(form)


class TopicView(machina_conversation_views.TopicView):
    """machina's topic page, with fewer queries and one commit for what a visit writes.

    The page's query count does not grow with the posts shown: machina already follows each post's
    author and prefetches attachments; here the author's forum profile comes in the same query
    (machina prefetches it with one more), the authors' message counts in one more, and the topic
    comes with its poll and its first post (machina asks for each separately). A visit writes twice
    (views counter, the reader's read track): in one transaction, that is one commit instead of two,
    a large part of the page's time on SQLite.
    """

    def get_topic(self):
        if not hasattr(self, "topic"):
            topics = Topic.objects.select_related("forum", "poll", "first_post")
            self.topic = get_object_or_404(topics, pk=self.kwargs["pk"])
        return self.topic

    def get_queryset(self):
        return (
            super().get_queryset()
            .select_related("poster__forum_profile")
            .prefetch_related(None)
            .prefetch_related("attachments")
        )

    def get_context_data(self, **kwargs):
        """machina's context; each post of the page also says whether the reader may edit or delete it.

        `post.viewer_can_edit` and `post.viewer_can_delete` are machina's answers (can_edit_post,
        can_delete_post), decided from the reader's permissions on the forum read once for the
        page (PermissionHandler.get_post_permissions): the template no longer asks machina's
        `get_permission` tag twice per post, each call walking the permission handler again.
        """
        context = super().get_context_data(**kwargs)
        handler = self.request.forum_permission_handler
        permissions = handler.get_post_permissions(self.get_topic(), self.request.user)
        posts = context[self.context_object_name]
        # Each author's message count, in the forums the reader may read (issue 16, item 5): one query.
        counts = selectors.readable_post_counts(self.request.user, [post.poster_id for post in posts], handler)
        for post in posts:
            post.viewer_can_edit = permissions.can_edit(post)
            post.viewer_can_delete = permissions.can_delete(post)
            post.poster_posts_count = counts.get(post.poster_id, 0)
        return context

    def send_signal(self, request, response, topic):
        with transaction.atomic():
            super().send_signal(request, response, topic)


class PostingRateLimitMixin:
    """At most FORUM_POSTING_RATE_LIMIT new topics and replies per person per window (core.ratelimit).

    Counted when a topic or reply is about to be saved (never for a preview or an invalid form).
    Over the limit, the editor comes back with the text as typed, the reason and HTTP 429.
    """

    def form_valid(self, post_form, attachment_formset, *args, **kwargs):
        # *args: the topic views also receive their poll options formset.
        if not self.preview:
            rate = ratelimit.Rate.configured("forum-posting", "FORUM_POSTING")
            verdict = ratelimit.attempt(rate, str(self.request.user.pk))
            if not verdict.allowed:
                post_form.add_error(None, gettext(
                    "Vous avez publié beaucoup de messages en peu de temps : ce message n'est pas encore publié. "
                    "%(wait)s Votre texte est conservé ci-dessous.") % {"wait": ratelimit.wait_message(verdict)})
                return ratelimit.refusal(self.form_invalid(post_form, attachment_formset, *args, **kwargs), verdict)
        return super().form_valid(post_form, attachment_formset, *args, **kwargs)


class TopicCreateView(PostingRateLimitMixin, machina_conversation_views.TopicCreateView):
    """machina's new-topic view, within the posting limit."""


class PostCreateView(PostingRateLimitMixin, machina_conversation_views.PostCreateView):
    """machina's reply view, within the posting limit, saving a reply in one transaction.

    Saving a post makes machina write several rows (the post, the author's forum profile, the
    topic's and the forum's counters), each committed on its own in autocommit mode; one
    transaction makes the reply atomic and commits once. Notifications, scheduled on commit, leave
    after the whole reply is saved.
    """

    def form_valid(self, post_form, attachment_formset, **kwargs):
        with transaction.atomic():
            return super().form_valid(post_form, attachment_formset, **kwargs)

