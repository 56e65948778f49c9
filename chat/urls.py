from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.RoomListView.as_view(), name="room-list"),
    path("direct/", views.DirectStartView.as_view(), name="direct-start"),
    path("nouveau-salon/", views.RoomCreateView.as_view(), name="room-create"),
    path("<int:pk>/", views.RoomDetailView.as_view(), name="room-detail"),
    path("<int:pk>/envoyer/", views.MessageSendView.as_view(), name="message-send"),
    path("<int:pk>/messages.json", views.MessagesJsonView.as_view(), name="messages-json"),
    path("<int:pk>/participants/", views.RoomParticipantsView.as_view(), name="room-participants"),
    path("<int:pk>/messages/<int:message_id>/modifier/", views.MessageEditView.as_view(), name="message-edit"),
    path("<int:pk>/messages/<int:message_id>/supprimer/", views.MessageDeleteView.as_view(), name="message-delete"),
]
