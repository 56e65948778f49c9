from django.urls import path

from forum import views, views_moderation, views_notifications

app_name = "exchange"

urlpatterns = [
    path("reunions/", views.MeetingListView.as_view(), name="meeting-list"),
    path("reunions/nouvelle/", views.MeetingCreateView.as_view(), name="meeting-create"),
    path("reunions/<int:pk>/repondre/", views.MeetingRespondView.as_view(), name="meeting-respond"),
    path("reunions/<int:pk>/reunion.ics", views.MeetingIcsView.as_view(), name="meeting-ics"),
    path("reunions/<int:pk>/ordre-du-jour/", views.MeetingAgendaView.as_view(), name="meeting-agenda"),
    # Moderation (issue 3, point 6): machina's own moderation URLs stay under /forum/moderation/.
    path("messages/<int:pk>/signaler/", views_moderation.PostReportView.as_view(), name="post-report"),
    path("moderation/signalements/", views_moderation.ReportQueueView.as_view(), name="report-queue"),
    path("moderation/signalements/<int:pk>/clore/", views_moderation.ReportCloseView.as_view(), name="report-close"),
    path("moderation/journal/", views_moderation.ModerationLogView.as_view(), name="moderation-log"),
    # Notifications and subscriptions (issue 3, point 5).
    path("notifications/", views_notifications.NotificationListView.as_view(), name="notification-list"),
    path("notifications/tout-lu/", views_notifications.NotificationMarkAllReadView.as_view(),
         name="notification-mark-all-read"),
    path("notifications/preferences/", views_notifications.NotificationPreferencesView.as_view(),
         name="notification-preferences"),
    path("notifications/<int:pk>/", views_notifications.NotificationOpenView.as_view(), name="notification-open"),
    path("abonnements/", views_notifications.SubscriptionListView.as_view(), name="subscription-list"),
    path("abonnements/forum/<int:forum_pk>/", views_notifications.ForumSubscriptionToggleView.as_view(),
         name="forum-subscription-toggle"),
    path("abonnements/sujet/<int:topic_pk>/retirer/", views_notifications.TopicUnsubscribeView.as_view(),
         name="topic-unsubscribe"),
    path("mentions/", views_notifications.MentionSearchView.as_view(), name="mention-search"),
]
