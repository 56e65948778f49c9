"""`/documents/`: Wagtail's document URLs (same names), served through cms.views.serve_document."""

from django.urls import path, re_path
from wagtail.documents.views import serve

from cms import views

urlpatterns = [
    re_path(r"^(\d+)/(.*)$", views.serve_document, name="wagtaildocs_serve"),
    path("authenticate_with_password/<int:restriction_id>/", serve.authenticate_with_password,
         name="wagtaildocs_authenticate_with_password"),
]
