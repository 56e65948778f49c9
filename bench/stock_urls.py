"""Bench-only URLconf: the site's URLs, with machina's forum served by machina's own view classes.

The forum benchmark (bench/bench_forum.py) compares our forum with stock django-machina on the same
data, in the same process. Our site mounts machina through `get_class`, which picks our overrides
(forum/overrides/) first; here every forum view class is imported straight from machina's modules,
so none of ours is used. URL names and namespaces are machina's, so templates reverse the same way,
and everything else (login, middleware, templates) is the site's. Used through
`override_settings(ROOT_URLCONF="bench.stock_urls")`, together with bench_forum.stock_machina(),
which also gives machina's modules back their own helper classes (tracking handler, forms).
"""

from __future__ import annotations

from django.urls import URLResolver, include, path
from machina import urls as machina_urls
from machina.apps.forum import urls as forum_urls
from machina.apps.forum import views as forum_views
from machina.apps.forum_conversation import urls as conversation_urls
from machina.apps.forum_conversation import views as conversation_views
from machina.apps.forum_conversation.forum_attachments import urls as attachment_urls
from machina.apps.forum_conversation.forum_attachments import views as attachment_views
from machina.apps.forum_conversation.forum_polls import urls as poll_urls
from machina.apps.forum_conversation.forum_polls import views as poll_views
from machina.apps.forum_member import urls as member_urls
from machina.apps.forum_member import views as member_views
from machina.apps.forum_moderation import urls as moderation_urls
from machina.apps.forum_moderation import views as moderation_views
from machina.apps.forum_tracking import urls as tracking_urls
from machina.apps.forum_tracking import views as tracking_views

from config import urls as site_urls


class StockForumURLs(forum_urls.ForumURLPatternsFactory):
    index_view = forum_views.IndexView
    forum_view = forum_views.ForumView


class StockAttachmentURLs(attachment_urls.ForumAttachmentsURLPatternsFactory):
    attachment_view = attachment_views.AttachmentView


class StockPollURLs(poll_urls.ForumPollsURLPatternsFactory):
    poll_vote_view = poll_views.TopicPollVoteView


class StockConversationURLs(conversation_urls.ForumConversationURLPatternsFactory):
    topic_view = conversation_views.TopicView
    topic_create_view = conversation_views.TopicCreateView
    topic_update_view = conversation_views.TopicUpdateView
    post_create_view = conversation_views.PostCreateView
    post_update_view = conversation_views.PostUpdateView
    post_delete_view = conversation_views.PostDeleteView
    attachments_urlpatterns_factory = StockAttachmentURLs()
    polls_urlpatterns_factory = StockPollURLs()


class StockMemberURLs(member_urls.ForumMemberURLPatternsFactory):
    forum_profile_detail_view = member_views.ForumProfileDetailView
    forum_profile_update_view = member_views.ForumProfileUpdateView
    topic_subscribe_view = member_views.TopicSubscribeView
    topic_unsubscribe_view = member_views.TopicUnsubscribeView
    topic_subscription_list_view = member_views.TopicSubscriptionListView
    user_posts_list = member_views.UserPostsView


class StockModerationURLs(moderation_urls.ForumModerationURLPatternsFactory):
    topic_lock_view = moderation_views.TopicLockView
    topic_unlock_view = moderation_views.TopicUnlockView
    topic_delete_view = moderation_views.TopicDeleteView
    topic_move_view = moderation_views.TopicMoveView
    topic_update_to_normal_topic_view = moderation_views.TopicUpdateToNormalTopicView
    topic_update_to_sticky_topic_view = moderation_views.TopicUpdateToStickyTopicView
    topic_update_to_announce_view = moderation_views.TopicUpdateToAnnounceView
    moderation_queue_list_view = moderation_views.ModerationQueueListView
    moderation_queue_detail_view = moderation_views.ModerationQueueDetailView
    post_approve_view = moderation_views.PostApproveView
    post_disapprove_view = moderation_views.PostDisapproveView


class StockTrackingURLs(tracking_urls.ForumTrackingURLPatternsFactory):
    mark_forums_read_view = tracking_views.MarkForumsReadView
    mark_topics_read_view = tracking_views.MarkTopicsReadView
    unread_topics_view = tracking_views.UnreadTopicsView


class StockBoardURLs(machina_urls.BoardURLPatternsFactory):
    # Feeds and search have no override of ours: machina's factories already serve machina's views.
    forum_urlpatterns_factory = StockForumURLs()
    conversation_urlpatterns_factory = StockConversationURLs()
    member_urlpatterns_factory = StockMemberURLs()
    moderation_urlpatterns_factory = StockModerationURLs()
    tracking_urlpatterns_factory = StockTrackingURLs()


def _is_machina_include(pattern) -> bool:
    return isinstance(pattern, URLResolver) and pattern.urlconf_name is machina_urls


def _site_patterns_with_stock_machina() -> list:
    patterns = list(site_urls.urlpatterns)
    positions = [i for i, pattern in enumerate(patterns) if _is_machina_include(pattern)]
    if len(positions) != 1:
        raise RuntimeError("config.urls doit inclure machina.urls une fois exactement.")
    patterns[positions[0]] = path("forum/", include(StockBoardURLs().get_urlpatterns()))
    return patterns


urlpatterns = _site_patterns_with_stock_machina()
