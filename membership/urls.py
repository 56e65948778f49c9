"""`/adhesion/`: the public application form and the candidate's private follow-up pages.

Names are global (no namespace): templates across the site link to "membership-application".
"""

from django.urls import path

from membership import views

urlpatterns = [
    path("", views.MembershipStartView.as_view(), name="membership-application"),
    path("suivi/<str:token>/", views.MembershipFollowView.as_view(), name="membership-follow"),
    path("suivi/<str:token>/questions/<int:request_id>/", views.MembershipAnswerView.as_view(),
         name="membership-answer"),
    path("suivi/<str:token>/documents/<slug:kind>/", views.CandidateDocumentView.as_view(),
         name="membership-document"),
    path("suivi/<str:token>/questions/<int:request_id>/document/", views.CandidateAnswerFileView.as_view(),
         name="membership-answer-file"),
]
