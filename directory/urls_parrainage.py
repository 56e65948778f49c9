from django.urls import path

from directory import views

app_name = "parrainage"

urlpatterns = [
    path("", views.MyParrainageView.as_view(), name="mine"),
]
