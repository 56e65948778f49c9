from django.urls import path

from search import views

app_name = "search"

urlpatterns = [
    path("", views.SearchView.as_view(), name="search"),
    path("suggestions/", views.SuggestView.as_view(), name="suggest"),
]
