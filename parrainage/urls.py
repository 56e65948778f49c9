from django.urls import path

from membership import views as membership_views
from parrainage import views

app_name = "parrainage"

urlpatterns = [
    path("", views.MyParrainageView.as_view(), name="mine"),
    path("commission/parrainages/", views.ParrainageOverviewView.as_view(), name="overview"),
    path("commission/parrainages/<slug:slug>/", views.ParrainageMatchView.as_view(), name="match"),
    path("proposition/<int:pk>/reponse/", views.ParrainageRespondView.as_view(), name="respond"),
    path("<int:pk>/etapes/", views.ParrainageStepsView.as_view(), name="tick"),
    # Examination of membership applications (the commission and federal staff).
    path("commission/", membership_views.CommissionListView.as_view(), name="commission"),
    path("commission/<int:pk>/", membership_views.CommissionApplicationView.as_view(), name="commission-application"),
    path("commission/<int:pk>/examen/", membership_views.CommissionExamineView.as_view(), name="commission-examine"),
    path("commission/<int:pk>/discussion/", membership_views.CommissionCommentView.as_view(),
         name="commission-comment"),
    path("commission/<int:pk>/question/", membership_views.CommissionRequestView.as_view(), name="commission-request"),
    path("commission/<int:pk>/decision/", membership_views.CommissionDecisionView.as_view(), name="commission-decide"),
    path("commission/<int:pk>/invitations/", membership_views.CommissionInvitationsView.as_view(),
         name="commission-invitations"),
    path("commission/<int:pk>/documents/<slug:kind>/", membership_views.CommissionDocumentView.as_view(),
         name="commission-document"),
    path("commission/<int:pk>/questions/<int:request_id>/document/",
         membership_views.CommissionAnswerFileView.as_view(), name="commission-answer-file"),
]
