from django.urls import path

from forum import views

app_name = "exchange"

urlpatterns = [
    path("reunions/", views.MeetingListView.as_view(), name="meeting-list"),
    path("reunions/nouvelle/", views.MeetingCreateView.as_view(), name="meeting-create"),
    path("reunions/<int:pk>/repondre/", views.MeetingRespondView.as_view(), name="meeting-respond"),
    path("reunions/<int:pk>/reunion.ics", views.MeetingIcsView.as_view(), name="meeting-ics"),
    path("reunions/<int:pk>/ordre-du-jour/", views.MeetingAgendaView.as_view(), name="meeting-agenda"),
]
