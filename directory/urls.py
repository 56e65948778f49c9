from django.urls import path

from directory import views

app_name = "directory"

urlpatterns = [
    path("", views.AssociationListView.as_view(), name="association-list"),
    path("associations/<slug:slug>/", views.AssociationDetailView.as_view(), name="association-detail"),
    # Usernames may hold dots, @, + and - (Django's default validator): match any path segment.
    path("personnes/<str:username>/", views.PersonDetailView.as_view(), name="person-detail"),
    path("offre/", views.OfferByJuridictionView.as_view(), name="offer"),
]
