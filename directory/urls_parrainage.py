from django.urls import path

from directory import views, views_parrainage

app_name = "parrainage"

urlpatterns = [
    path("", views.MyParrainageView.as_view(), name="mine"),
    path("commission/parrainages/", views_parrainage.ParrainageOverviewView.as_view(), name="overview"),
    path("commission/parrainages/<slug:slug>/", views_parrainage.ParrainageMatchView.as_view(), name="match"),
    path("proposition/<int:pk>/reponse/", views_parrainage.ParrainageRespondView.as_view(), name="respond"),
    path("<int:pk>/etapes/", views_parrainage.ParrainageStepsView.as_view(), name="tick"),
]
